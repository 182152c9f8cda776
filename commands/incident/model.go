// Package incident is the incident feature (SPEC §2, §5): an incident opened
// on a mission is put in front of every partner agency involved, as a root
// post and thread in each of the partner's shared channels on whichever
// platform it uses, and those threads are kept as one conversation: a reply
// in any of them is stored in the incident's timeline and mirrored into the
// others. Every post goes through the outbox in the same transaction as the
// change that caused it, so an incident and its posts exist together or not
// at all.
package incident

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status of an incident.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Kinds of timeline entries.
const (
	KindOpened  = "opened"
	KindUpdate  = "update"
	KindReply   = "reply"
	KindNote    = "note" // internal: never posted, never shown to a partner
	KindPartner = "partner"
	KindClosed  = "closed"
	KindNudge   = "nudge" // the bot's reminder; not activity
)

// Division is the agency label of the division's own people.
const Division = "PLD"

// Severity bounds; 1 is the most severe.
const (
	MinSeverity     = 1
	MaxSeverity     = 4
	DefaultSeverity = 3
)

// Incident is one incident with its whole history.
type Incident struct {
	ID           string    `json:"id"`  // INC-<year>-<seq>
	Seq          uint64    `json:"seq"` // global, never reused
	MissionID    string    `json:"mission_id"`
	MissionName  string    `json:"mission_name"`
	MissionPlace string    `json:"mission_place,omitempty"` // "Washington, DC"
	Severity     int       `json:"severity"`
	Status       string    `json:"status"`
	Summary      string    `json:"summary"`
	Partners     []string  `json:"partners"` // partner ids, in the order they joined
	Threads      []Thread  `json:"threads"`
	Timeline     []Entry   `json:"timeline"`
	OpenedBy     Author    `json:"opened_by"`
	Opened       time.Time `json:"opened"`
	Closed       time.Time `json:"closed,omitzero"`
	Resolution   string    `json:"resolution,omitempty"`
	// LastActivity is the time of the last timeline entry other than a nudge.
	LastActivity time.Time `json:"last_activity"`
	LastNudge    time.Time `json:"last_nudge,omitzero"`
	// Fanouts are the batches of root posts (the open, then each partner
	// brought in), each owing whoever asked for it one reply with the
	// thread links once its root posts are all sent.
	Fanouts []Fanout `json:"fanouts,omitempty"`
}

// Fanout is one batch of root posts and who asked for it.
type Fanout struct {
	Kind    string   `json:"kind"`              // KindOpened or KindPartner
	Partner string   `json:"partner,omitempty"` // KindPartner: the partner brought in
	ReplyTo Location `json:"reply_to"`          // where the command was typed
	// Announced is set, in the transaction that queues it, once the reply
	// with the links is in the outbox: it is never queued twice.
	Announced bool `json:"announced,omitempty"`
}

// Location is a place in a chat: where a command was typed.
type Location struct {
	Platform  string `json:"platform"`
	Channel   string `json:"channel"`
	ThreadRef string `json:"thread_ref,omitempty"`
}

// Thread is the incident's root post in one partner channel, and the thread
// under it.
type Thread struct {
	Partner  string    `json:"partner"`
	Platform string    `json:"platform"`
	Channel  string    `json:"channel"`
	Ref      string    `json:"ref,omitempty"`  // the root post's message id, once sent
	Link     string    `json:"link,omitempty"` // its permalink, where the platform has them
	OutboxID string    `json:"outbox_id"`      // the root post's outbox entry
	Opened   time.Time `json:"opened"`
	// Fanout is the 1-based index in Incident.Fanouts of the batch that
	// opened the thread; 0 for threads stored before fan-outs were kept.
	Fanout int `json:"fanout,omitempty"`
}

// ChannelRef is "platform:channel".
func (t Thread) ChannelRef() string { return t.Platform + ":" + t.Channel }

// Target is where a person finds the thread: its permalink, or
// "console:mpd #3" where the platform has no links.
func (t Thread) Target() string {
	switch {
	case t.Link != "":
		return t.Link
	case t.Ref != "":
		return t.ChannelRef() + " #" + t.Ref
	}
	return t.ChannelRef() + " (root post not sent yet)"
}

// Entry is one line of the timeline.
type Entry struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Author   Author    `json:"author"`
	Text     string    `json:"text"`
	Internal bool      `json:"internal,omitempty"`
	// Source names the chat message a reply came from
	// ("mattermost:<channel>:<post id>"), "" for commands.
	Source string `json:"source,omitempty"`
}

// Author is who wrote a timeline entry.
type Author struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Agency   string `json:"agency"`            // "PLD", or the partner's short label ("MPD")
	Partner  string `json:"partner,omitempty"` // the partner id; "" for the division
	Platform string `json:"platform,omitempty"`
}

// Label is "Sgt. Lee (MPD)".
func (a Author) Label() string {
	if a.Agency == "" {
		return a.Name
	}
	return a.Name + " (" + a.Agency + ")"
}

// Via is "Sgt. Lee (MPD) via Mattermost".
func (a Author) Via() string {
	if a.Platform == "" {
		return a.Label()
	}
	return a.Label() + " via " + platformName(a.Platform)
}

func platformName(p string) string {
	switch p {
	case "slack":
		return "Slack"
	case "mattermost":
		return "Mattermost"
	}
	return p
}

// HasPartner reports whether the partner (by id, any case) is on the incident.
func (inc *Incident) HasPartner(id string) bool {
	for _, p := range inc.Partners {
		if strings.EqualFold(p, id) {
			return true
		}
	}
	return false
}

// FirstPartnerReply is the first reply by a partner officer, if any.
func (inc *Incident) FirstPartnerReply() (Entry, bool) {
	for _, e := range inc.Timeline {
		if e.Kind == KindReply && e.Author.Partner != "" {
			return e, true
		}
	}
	return Entry{}, false
}

// Summary is what a list shows of an incident, kept for each open incident
// in the open set so that listing open incidents never reads their history.
type Summary struct {
	ID           string    `json:"id"`
	Seq          uint64    `json:"seq"`
	MissionID    string    `json:"mission_id"`
	MissionName  string    `json:"mission_name"`
	Severity     int       `json:"severity"`
	Status       string    `json:"status"`
	Summary      string    `json:"summary"`
	Partners     []string  `json:"partners"`
	Opened       time.Time `json:"opened"`
	Closed       time.Time `json:"closed,omitzero"`
	LastActivity time.Time `json:"last_activity"`
	LastNudge    time.Time `json:"last_nudge,omitzero"`
}

// Summarize returns the incident's Summary.
func (inc *Incident) Summarize() Summary {
	return Summary{
		ID: inc.ID, Seq: inc.Seq, MissionID: inc.MissionID, MissionName: inc.MissionName,
		Severity: inc.Severity, Status: inc.Status, Summary: inc.Summary, Partners: inc.Partners,
		Opened: inc.Opened, Closed: inc.Closed, LastActivity: inc.LastActivity, LastNudge: inc.LastNudge,
	}
}

// FormatID builds an incident id from the year it was opened and its sequence.
func FormatID(year int, seq uint64) string { return fmt.Sprintf("INC-%d-%04d", year, seq) }

// ParseID reads "INC-2026-0042" (any case) into its year and sequence.
func ParseID(s string) (year int, seq uint64, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 3 || !strings.EqualFold(parts[0], "INC") || len(parts[1]) != 4 || parts[2] == "" || len(parts[2]) > 12 {
		return 0, 0, false
	}
	y, err := strconv.Atoi(parts[1])
	if err != nil || y < 1000 {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || n == 0 {
		return 0, 0, false
	}
	return y, n, true
}

// SeverityName is the word for a severity.
func SeverityName(sev int) string {
	switch sev {
	case 1:
		return "critical"
	case 2:
		return "high"
	case 3:
		return "moderate"
	case 4:
		return "low"
	}
	return "unknown"
}

func severityLabel(sev int) string { return fmt.Sprintf("%d (%s)", sev, SeverityName(sev)) }

// maxText bounds what one timeline entry keeps of a chat message; commands
// are already bounded by the grammar.
const maxText = 4000

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
