package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestAppendStringReadsBackAsEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \ slash /`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "é ü 日本", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "emoji 🛂",
	} {
		var got, want string
		if err := json.Unmarshal(AppendString(nil, s), &got); err != nil {
			t.Fatalf("%q: not JSON: %v (%s)", s, err, AppendString(nil, s))
		}
		std, _ := json.Marshal(s)
		_ = json.Unmarshal(std, &want)
		if got != want {
			t.Errorf("%q reads back as %q, encoding/json's as %q", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\x00\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(AppendString(nil, s), &got); err != nil {
			t.Fatalf("%q: not JSON: %v", s, err)
		}
		std, _ := json.Marshal(s)
		_ = json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("%q reads back as %q, encoding/json's as %q", s, got, want)
		}
	})
}

func TestAppendTimeIsEncodingJSONs(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.UTC),
		time.Date(2026, 3, 8, 2, 30, 0, 0, time.FixedZone("EST", -5*3600)),
		time.Unix(0, 0).UTC(),
		{},
	} {
		std, _ := json.Marshal(tm)
		if got := string(AppendTime(nil, tm)); got != string(std) {
			t.Errorf("AppendTime(%v) = %s, encoding/json %s", tm, got, std)
		}
	}
}

// AppendTime's digit-by-digit UTC writing and the general layout agree,
// wherever the time falls, and other zones still go the general way.
func FuzzAppendTime(f *testing.F) {
	f.Add(int64(1796432523), int64(456789000), 0)
	f.Add(int64(-62135596800), int64(0), 0)  // year 1
	f.Add(int64(253402300799), int64(1), 0)  // 9999-12-31T23:59:59
	f.Add(int64(253402300800), int64(10), 0) // year 10000
	f.Add(int64(0), int64(100), -5*3600)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		tm := time.Unix(sec, nsec%1e9).UTC()
		if offset%86400 != 0 {
			tm = tm.In(time.FixedZone("Z", offset%86400))
		}
		std, err := json.Marshal(tm)
		if err != nil {
			return // a year encoding/json refuses
		}
		if got := string(AppendTime(nil, tm)); got != string(std) {
			t.Fatalf("AppendTime(%v) = %s, encoding/json %s", tm, got, std)
		}
	})
}

func TestAppendFloatIsEncodingJSONs(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 1.234, 12.345678, 1e-6, 9.99e-7, 1.5e-7, 1e20, 1e21, 1.2345e22, -3e-9, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		std, _ := json.Marshal(f)
		if got := string(AppendFloat(nil, f)); got != string(std) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json %s", f, got, std)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(AppendFloat(nil, f)); got != "0" {
			t.Errorf("AppendFloat(%v) = %s, want 0 (JSON has no such number)", f, got)
		}
	}
}
