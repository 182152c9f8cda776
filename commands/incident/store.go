package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"liaisonbot/bot/store"
)

// Buckets. Incidents are keyed by their zero-padded sequence, so byte order
// is age order and the newest are read first by a reverse scan.
const (
	BucketIncidents = "incidents"          // seqKey → Incident
	BucketOpen      = "incidents.open"     // seqKey → Summary, open incidents only
	BucketActivity  = "incidents.activity" // activityKey → Activity, one per timeline entry
	BucketThreads   = "incidents.threads"  // "platform|channel|root ref" → incident id
	BucketSeen      = "incidents.seen"     // "platform|channel|message id" → incident id
	bucketIndex     = "incidents.by"       // "p|<partner>|<seqKey>", "m|<mission>|<seqKey>" → ""
	bucketSeq       = "incidents.seq"
)

func seqKey(seq uint64) string { return fmt.Sprintf("%012d", seq) }

func threadKey(platform, channel, ref string) string { return platform + "|" + channel + "|" + ref }

// seenKey includes the channel: Slack message ids (timestamps) are unique
// per channel only.
func seenKey(platform, channel, msgID string) string { return platform + "|" + channel + "|" + msgID }

func partnerIndexPrefix(partner string) string { return "p|" + strings.ToLower(partner) + "|" }
func missionIndexPrefix(mission string) string { return "m|" + mission + "|" }

// activityLayout is fixed-width, so keys sort by time.
const activityLayout = "2006-01-02T15:04:05.000000000Z"

func activityKey(t time.Time, id string, n int) string {
	return t.UTC().Format(activityLayout) + "|" + id + "|" + fmt.Sprintf("%06d", n)
}

// Activity is one timeline entry as the activity index records it, for
// readers that want what happened in a period (the shift digest).
type Activity struct {
	Time     time.Time `json:"time"`
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Internal bool      `json:"internal,omitempty"`
}

// ActivityBetween returns the timeline entries of every incident with a
// time in [from, to), oldest first. Its cost grows with the entries in the
// period, not with the history.
func ActivityBetween(tx store.Tx, from, to time.Time) ([]Activity, error) {
	var out []Activity
	err := store.ScanJSON(tx, BucketActivity, from.UTC().Format(activityLayout), to.UTC().Format(activityLayout),
		func(_ string, a Activity) error {
			out = append(out, a)
			return nil
		})
	return out, err
}

// OpenIncidents returns the summaries of the open incidents, oldest first,
// from the open set alone.
func OpenIncidents(tx store.Tx) ([]Summary, error) {
	var out []Summary
	err := store.ScanJSON(tx, BucketOpen, "", "", func(_ string, s Summary) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// OpenCount counts the open incidents without reading them.
func OpenCount(tx store.Tx) (int, error) { return tx.Count(BucketOpen) }

// errNoIncident is an id that names no stored incident.
var errNoIncident = errors.New("no such incident")

// Load reads an incident by id; ok is false when there is none.
func Load(tx store.Tx, id string) (inc *Incident, ok bool, err error) {
	year, seq, valid := ParseID(id)
	if !valid {
		return nil, false, nil
	}
	v, ok, err := store.GetJSON[Incident](tx, BucketIncidents, seqKey(seq))
	if err != nil || !ok {
		return nil, false, err
	}
	// The number alone finds the record; the year must agree too, so that
	// INC-2025-0042 never answers for INC-2026-0042.
	if !strings.EqualFold(v.ID, FormatID(year, seq)) {
		return nil, false, nil
	}
	return &v, true, nil
}

func mustLoad(tx store.Tx, id string) (*Incident, error) {
	inc, ok, err := Load(tx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoIncident
	}
	return inc, nil
}

// save writes the incident and keeps the open set in step with its status.
func save(tx store.Tx, inc *Incident) error {
	key := seqKey(inc.Seq)
	if err := store.PutJSON(tx, BucketIncidents, key, inc); err != nil {
		return err
	}
	if inc.Status == StatusOpen {
		return store.PutJSON(tx, BucketOpen, key, inc.Summarize())
	}
	return tx.Delete(BucketOpen, key)
}

// index records the incident under its mission and each of its partners.
func index(tx store.Tx, inc *Incident) error {
	key := seqKey(inc.Seq)
	if err := tx.Put(bucketIndex, missionIndexPrefix(inc.MissionID)+key, nil); err != nil {
		return err
	}
	for _, p := range inc.Partners {
		if err := tx.Put(bucketIndex, partnerIndexPrefix(p)+key, nil); err != nil {
			return err
		}
	}
	return nil
}

// appendEntry adds a timeline entry and records it in the activity index.
// Every entry but a nudge is activity.
func appendEntry(tx store.Tx, inc *Incident, e Entry) error {
	e.Time = e.Time.UTC()
	inc.Timeline = append(inc.Timeline, e)
	if e.Kind == KindNudge {
		inc.LastNudge = e.Time
	} else {
		inc.LastActivity = e.Time
	}
	a := Activity{Time: e.Time, ID: inc.ID, Kind: e.Kind, Internal: e.Internal}
	return store.PutJSON(tx, BucketActivity, activityKey(e.Time, inc.ID, len(inc.Timeline)-1), a)
}

// lastSeq is the newest incident's sequence. Sequences are taken only by
// the transaction that stores the incident and incidents are never
// deleted, so it is also how many incidents there are.
func lastSeq(tx store.Tx) (uint64, error) {
	var last uint64
	err := tx.ScanReverse(BucketIncidents, "", "", func(k string, _ []byte) error {
		n, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return fmt.Errorf("incident key %q: %w", k, err)
		}
		last = n
		return store.ErrStop
	})
	return last, err
}

// decodeSummary reads an incident record as its Summary: the field names
// agree, and the timeline is skipped.
func decodeSummary(key string, v []byte) (Summary, error) {
	var sm Summary
	if err := json.Unmarshal(v, &sm); err != nil {
		return sm, fmt.Errorf("decode %s/%s: %w", BucketIncidents, key, err)
	}
	return sm, nil
}
