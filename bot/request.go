package bot

import (
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot/grammar"
)

// Platform names, as written in channel references ("slack:C0123").
const (
	Slack      = "slack"
	Mattermost = "mattermost"
	Console    = "console"
)

// RoleKind says what a person may do (SPEC §6).
type RoleKind int

const (
	RoleNone RoleKind = iota // not of the division, not in a partner's channel
	RolePartner
	RoleAgent
	RoleAdmin
)

// Role is who a person is to the division: admin, agent, partner:<id>, or nobody.
type Role struct {
	Kind    RoleKind
	Partner string // partner id, for RolePartner
}

func (r Role) String() string {
	switch r.Kind {
	case RoleAdmin:
		return "admin"
	case RoleAgent:
		return "agent"
	case RolePartner:
		return "partner:" + r.Partner
	default:
		return "none"
	}
}

// AtLeastAgent reports whether the role is of the division itself.
func (r Role) AtLeastAgent() bool { return r.Kind >= RoleAgent }

// ParseRole reads "admin", "agent", "partner:<id>" or "none".
func ParseRole(s string) (Role, error) {
	switch s = strings.TrimSpace(s); {
	case s == "admin":
		return Role{Kind: RoleAdmin}, nil
	case s == "agent":
		return Role{Kind: RoleAgent}, nil
	case s == "none":
		return Role{}, nil
	case strings.HasPrefix(s, "partner:") && len(s) > len("partner:"):
		return Role{Kind: RolePartner, Partner: strings.TrimPrefix(s, "partner:")}, nil
	}
	return Role{}, fmt.Errorf("unknown role %q (want admin, agent, partner:<id> or none)", s)
}

// User is the person behind a request or event, as the platform names them.
type User struct {
	ID   string
	Name string
	Team string // the workspace or team the user belongs to
}

// Request is one command typed by a person, decoded by an adapter.
type Request struct {
	ID        string // request id, for logs and the audit
	Platform  string
	Channel   string // the platform's channel id
	ThreadRef string // the thread the command was typed in, if any
	User      User
	Role      Role
	Text      string // what followed the slash command, as typed
	Time      time.Time

	// Set by the Mux while routing.
	Command *Command
	Args    grammar.Args

	log *logAttrs // those WithRequestLog made last, for it to find again
}

// EventKind says what happened to a message in a channel the bot watches.
type EventKind int

const (
	EventPosted EventKind = iota
	EventEdited
	EventDeleted
)

// Event is a message (not a command) seen in a channel the bot watches, such
// as a reply in an incident thread.
type Event struct {
	Kind      EventKind
	Platform  string
	Channel   string
	ThreadRef string // root of the thread the message is in; "" when not threaded
	MessageID string
	User      User
	Role      Role
	FromBot   bool // posted by this bot: never mirrored back
	Text      string
	Time      time.Time
}
