package handoff

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
)

// Buckets. Keys start with the team id so that one team's records are one
// key range, and times in keys are fixed-width UTC so they sort by time.
const (
	bucketFires    = "handoff.fires"    // "<team>|<kind>|<UTC change>" → fire
	bucketSince    = "handoff.since"    // "<team>" → when the scheduler first ran for the team
	bucketNotes    = "handoff.notes"    // "<team>|<UTC time>|<seq>" → note
	bucketDigests  = "handoff.digests"  // "<team>|<seq>" → digest
	bucketAwaiting = "handoff.awaiting" // "<team>|<seq>" → awaiting: scheduled digests neither acknowledged nor escalated
	bucketEdits    = "handoff.edits"    // digest key → "": acknowledged digests with edits still to make
	bucketSeq      = "handoff.seq"
)

// Kinds of scheduled fires.
const (
	KindReminder   = "reminder"
	KindDigest     = "digest"
	KindEscalation = "escalation"
)

// Outcomes of a fire.
const (
	firePosted  = "posted"
	fireSkipped = "skipped"
)

const (
	fireLayout = "2006-01-02T15:04:05Z"
	noteLayout = "2006-01-02T15:04:05.000000000Z"
)

// fire records that a reminder, digest or escalation for one shift change
// was handled — posted, or skipped for a reason — so it never happens twice.
type fire struct {
	Team   string    `json:"team"`
	Kind   string    `json:"kind"`
	Change time.Time `json:"change"` // the shift change it is for
	Due    time.Time `json:"due"`
	At     time.Time `json:"at"` // when the scheduler handled it
	Status string    `json:"status"`
	Late   bool      `json:"late,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Digest string    `json:"digest,omitempty"` // the digest posted, or escalated
	Posts  []string  `json:"posts,omitempty"`  // outbox ids
}

func fireKey(team, kind string, change time.Time) string {
	return team + "|" + kind + "|" + change.UTC().Format(fireLayout)
}

func firePrefix(team, kind string) string { return team + "|" + kind + "|" }

// lastFire is the most recent fire of a kind for a team.
func lastFire(tx store.Tx, team, kind string) (fire, bool, error) {
	var f fire
	var ok bool
	p := firePrefix(team, kind)
	err := tx.ScanReverse(bucketFires, p, store.PrefixEnd(p), func(k string, v []byte) error {
		var err error
		f, err = decode[fire](bucketFires, k, v)
		if err != nil {
			return err
		}
		ok = true
		return store.ErrStop
	})
	return f, ok, err
}

// author is who left a note or acknowledged a digest.
type author struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Platform string `json:"platform,omitempty"`
}

func requester(req *bot.Request) author {
	a := author{ID: req.User.ID, Name: req.User.Name, Platform: req.Platform}
	if a.Name == "" {
		a.Name = a.ID
	}
	if a.Name == "" {
		a.Name = "unknown"
	}
	return a
}

// note is a line left for the next shift with `handoff note`.
type note struct {
	Team   string    `json:"team"`
	Time   time.Time `json:"time"`
	Author author    `json:"author"`
	Text   string    `json:"text"`
}

func noteKey(team string, t time.Time, seq uint64) string {
	return team + "|" + t.UTC().Format(noteLayout) + "|" + fmt.Sprintf("%012d", seq)
}

// notesBetween returns a team's notes with a time in [from, to), oldest first.
func notesBetween(tx store.Tx, team string, from, to time.Time) ([]note, error) {
	var out []note
	err := store.ScanJSON(tx, bucketNotes, team+"|"+from.UTC().Format(noteLayout), team+"|"+to.UTC().Format(noteLayout),
		func(_ string, n note) error {
			out = append(out, n)
			return nil
		})
	return out, err
}

// digest is one posted handoff digest, with the posts that carry it.
type digest struct {
	ID       string       `json:"id"` // "<team>-<seq>", what `handoff ack` takes
	Team     string       `json:"team"`
	Seq      uint64       `json:"seq"`
	Change   time.Time    `json:"change,omitzero"` // the scheduled shift change; zero for `handoff now`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	Posted   time.Time    `json:"posted"`
	Late     bool         `json:"late,omitempty"`
	Message  bot.Message  `json:"message"` // as posted
	Posts    []digestPost `json:"posts"`
	Ack      *ack         `json:"ack,omitempty"`
	Escalate time.Time    `json:"escalate,omitzero"` // when it was escalated
}

// digestPost is the digest in one channel.
type digestPost struct {
	Platform    string `json:"platform"`
	Channel     string `json:"channel"`
	OutboxID    string `json:"outbox_id"`
	Ref         string `json:"ref,omitempty"`          // the platform's message id, once sent
	EditPending bool   `json:"edit_pending,omitempty"` // acknowledged; this post still shows the old text
}

type ack struct {
	By author    `json:"by"`
	At time.Time `json:"at"`
}

func (d *digest) key() string { return digestKey(d.Team, d.Seq) }

func digestKey(team string, seq uint64) string { return team + "|" + fmt.Sprintf("%012d", seq) }

func digestID(team string, seq uint64) string { return fmt.Sprintf("%s-%04d", team, seq) }

// parseDigestID splits "watch-0003" into its team and sequence.
func parseDigestID(id string) (team string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 || len(id)-i > 13 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || n == 0 {
		return "", 0, false
	}
	return id[:i], n, true
}

func loadDigest(tx store.Tx, key string) (*digest, bool, error) {
	d, ok, err := store.GetJSON[digest](tx, bucketDigests, key)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &d, true, nil
}

// latestDigest is a team's most recent digest.
func latestDigest(tx store.Tx, team string) (*digest, bool, error) {
	var d *digest
	p := team + "|"
	err := tx.ScanReverse(bucketDigests, p, store.PrefixEnd(p), func(k string, v []byte) error {
		dd, err := decode[digest](bucketDigests, k, v)
		if err != nil {
			return err
		}
		d = &dd
		return store.ErrStop
	})
	return d, d != nil, err
}

// awaiting is a scheduled digest waiting for its acknowledgement; the
// scheduler escalates it at Due.
type awaiting struct {
	Digest string    `json:"digest"` // key
	Change time.Time `json:"change"`
	Due    time.Time `json:"due"`
}

// decode reads a value handed to a Scan callback.
func decode[T any](bucket, key string, v []byte) (T, error) {
	var x T
	if err := json.Unmarshal(v, &x); err != nil {
		return x, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return x, nil
}
