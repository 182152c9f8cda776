package bot

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The hand-written audit JSON decodes to the same record as encoding/json's.
func TestAuditRecordJSONMatchesEncodingJSON(t *testing.T) {
	for _, r := range []AuditRecord{
		{Time: time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC), RequestID: "r1", Platform: "slack", Channel: "C1",
			UserID: "U1", UserName: "lee", Role: "agent", Command: "contact", Text: `contact "côte" <!channel> & \x`, Outcome: "ok", Millis: 0.042},
		{Command: "?", Outcome: "unknown", Text: "\xff\u2028\n"},
	} {
		checkAuditJSON(t, r)
	}
}

func FuzzAuditRecordJSON(f *testing.F) {
	f.Add("req", "U1", "lee", "contact canada", 1.5, int64(1765000000))
	f.Fuzz(func(t *testing.T, id, user, name, text string, ms float64, unix int64) {
		if ms != ms || ms > 1e300 || ms < -1e300 {
			return // JSON has no NaN or infinities; durations are never near them
		}
		checkAuditJSON(t, AuditRecord{Time: time.Unix(unix%(1<<40), 0).UTC(), RequestID: id, UserID: user, UserName: name, Text: text, Millis: ms})
	})
}

func checkAuditJSON(t *testing.T, r AuditRecord) {
	t.Helper()
	var got, want AuditRecord
	data := r.AppendJSON(nil)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	std, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(std, &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("hand-written JSON reads as\n%+v\nencoding/json's as\n%+v\n%s\n%s", got, want, data, std)
	}
	var keys, stdKeys map[string]any
	_ = json.Unmarshal(data, &keys)
	_ = json.Unmarshal(std, &stdKeys)
	if len(keys) != len(stdKeys) {
		t.Fatalf("fields differ: %s vs %s", data, std)
	}
}
