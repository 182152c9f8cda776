// Package config loads liaisonbot's configuration: an optional YAML file with
// teams, partners, roles and platform settings, then environment variables that
// override it and are the only place secrets live (SPEC §4, §6).
//
// Load and Parse never stop at the first mistake: they return the configuration
// they could build together with a Problems error naming every key that is wrong,
// so that `liaisonbot config check` (and every start) can tell the operator all of
// it at once and the program refuses to start on any of it.
//
// The rest of the package answers the questions adapters and features ask of the
// configuration: who is an admin, which partner owns a shared channel, which team
// a watch channel belongs to, whether a platform is enabled.
package config

import (
	"fmt"
	"strings"
	"time"

	// Team time zones must resolve the same on every host, including minimal
	// containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Defaults (SPEC §4).
const (
	DefaultCommand      = "liaison"
	DefaultListen       = "127.0.0.1:8080"
	DefaultDB           = "liaisonbot.db"
	DefaultStore        = "bbolt"
	DefaultEtcdPrefix   = "/liaisonbot/"
	DefaultSlackAPIURL  = "https://slack.com/api/"
	DefaultTimezone     = "UTC"
	DefaultStaleAfter   = Duration(30 * time.Minute)
	DefaultCatchup      = Duration(2 * time.Hour)
	DefaultRemindBefore = Duration(30 * time.Minute)
	DefaultAckWithin    = Duration(15 * time.Minute)

	// MaxFileSize bounds the configuration file; anything larger is refused
	// rather than parsed, since a real configuration is a few kilobytes.
	MaxFileSize = 1 << 20
)

// Platform names a channel may be written with.
const (
	PlatformSlack      = "slack"
	PlatformMattermost = "mattermost"
	PlatformConsole    = "console"
)

// Config is the effective configuration: file, defaults and environment merged.
type Config struct {
	Command    string // slash command name without the slash; default "liaison"
	PublicURL  string // base URL the platforms reach the bot at, without a trailing "/"; "" when unset
	Listen     string // HTTP listen address, host:port; default "127.0.0.1:8080"
	DB         string // bbolt file; default "liaisonbot.db"
	Slack      Slack
	Mattermost Mattermost
	Roles      Roles
	Partners   []Partner
	Teams      []Team
	Incidents  Incidents
	Handoff    Handoff
	Audit      Audit
	Store      string // "bbolt" (default) or "etcd"
	Etcd       Etcd

	Path string // the file the configuration came from, "" when none

	// SecretFiles are the NAME_FILE settings that gave a secret, for
	// Warnings to look at.
	SecretFiles []SecretFile
}

// SecretFile is a file a secret was read from: its variable (NAME_FILE)
// and path.
type SecretFile struct{ Name, Path string }

// Slack holds the Slack settings. Only InternalTeams comes from the file; the
// rest comes from the environment.
type Slack struct {
	InternalTeams []string // workspace (team) ids whose members are agents

	BotToken      string // SLACK_BOT_TOKEN (secret)
	SigningSecret string // SLACK_SIGNING_SECRET (secret); required in HTTP mode
	AppToken      string // SLACK_APP_TOKEN (secret); set means Socket Mode
	APIURL        string // SLACK_API_URL; always ends in "/", default "https://slack.com/api/"
}

// SocketMode reports whether Slack events arrive over Socket Mode (an app
// token is set) rather than over HTTP.
func (s Slack) SocketMode() bool { return s.AppToken != "" }

// Mattermost holds the Mattermost settings.
type Mattermost struct {
	URL           string   // server base URL without a trailing "/"; file or MATTERMOST_URL
	Team          string   // team name or id; file or MATTERMOST_TEAM
	InternalTeams []string // team names/ids whose members are agents

	BotToken     string // MATTERMOST_BOT_TOKEN (secret)
	CommandToken string // MATTERMOST_COMMAND_TOKEN (secret); set when the command was registered by hand
}

// Roles lists who holds the admin role.
type Roles struct {
	Admins []string // "platform:userid", platform normalized to lower case
}

// Partner is a partner agency and the shared channels it is reached in.
type Partner struct {
	ID       string
	Name     string // defaults to ID
	Oncall   string // on-call handle named in incident threads, may be ""
	Channels []Channel
}

// Team is a shift team of the division: its watch channels and shift changes.
type Team struct {
	ID           string
	Name         string         // defaults to ID
	Timezone     string         // IANA name, default "UTC"
	Location     *time.Location // Timezone resolved; never nil in a loaded Config
	Channels     []Channel
	ShiftChanges []string // standard 5-field cron expressions in Location; see ParseShiftChange
	RemindBefore Duration // default 30m
	AckWithin    Duration // default 15m
	EscalateTo   string   // handle an unacknowledged digest is escalated to, may be ""
	Leads        []string // rotation, one lead per shift in order, may be empty
}

// Incidents holds incident settings.
type Incidents struct {
	StaleAfter Duration // default 30m
}

// Audit holds the audit trail's settings.
type Audit struct {
	// Retention is how long audit records are kept; 0 (the default) keeps
	// them for ever. Older ones are deleted, in whole groups, by the
	// serving bot once an hour.
	Retention Duration
}

// Handoff holds handoff settings.
type Handoff struct {
	CatchupWindow Duration // default 2h
}

// Etcd holds the etcd store settings, used when Store is "etcd" and by
// `store migrate --to etcd`.
type Etcd struct {
	Endpoints []string // "host:port" or "http(s)://host:port"
	Prefix    string   // key prefix, default "/liaisonbot/"
	TLS       EtcdTLS
	User      string // LIAISON_ETCD_USER
	Password  string // LIAISON_ETCD_PASSWORD (secret)
}

// EtcdTLS names PEM files for the etcd client; all empty means no TLS.
type EtcdTLS struct {
	CA, Cert, Key string
}

// Enabled reports whether any TLS file is configured.
func (t EtcdTLS) Enabled() bool { return t.CA != "" || t.Cert != "" || t.Key != "" }

// Default returns the configuration used when there is no file and no
// environment: every default applied, no platform enabled.
func Default() *Config {
	c, _ := Parse(nil, "", nil)
	return c
}

// Load reads the YAML file at path ("" means no file), applies defaults, then
// the environment as read through getenv (os.Getenv in production; nil means an
// empty environment), then validates. On any problem it returns the
// configuration it could build and a non-nil error of type Problems listing
// every problem found.
//
// Load does not look at LIAISON_CONFIG itself: the caller picks the path from
// --config or LIAISON_CONFIG.
func Load(path string, getenv func(string) string) (*Config, error) {
	if path == "" {
		return build(nil, "", nil, getenv)
	}
	data, prob := readFile(path)
	return build(data, path, prob, getenv)
}

// Parse is Load from bytes: data is the file's content and name is recorded as
// Config.Path. Empty data (or only comments) is a valid, all-default file.
func Parse(data []byte, name string, getenv func(string) string) (*Config, error) {
	return build(data, name, nil, getenv)
}

// Secrets returns every non-empty secret value, so that tests can assert that
// none of them reaches a log, a reply or Masked.
func (c *Config) Secrets() []string {
	var out []string
	for _, s := range []string{
		c.Slack.BotToken, c.Slack.SigningSecret, c.Slack.AppToken,
		c.Mattermost.BotToken, c.Mattermost.CommandToken,
		c.Etcd.Password,
	} {
		if s == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// SlackEnabled reports whether the Slack adapter should run: a bot token is set.
// Validation guarantees that it then also has a signing secret (HTTP mode) or an
// app token (Socket Mode).
func (c *Config) SlackEnabled() bool { return c.Slack.BotToken != "" }

// AnyPlatform reports whether any chat platform is configured, even for
// slash commands only (a signing secret, a command token): then the
// program serves rather than opening a console.
func (c *Config) AnyPlatform() bool {
	return c.SlackEnabled() || c.Slack.SigningSecret != "" || c.Slack.AppToken != "" ||
		c.MattermostEnabled() || (c.Mattermost.URL != "" && c.Mattermost.CommandToken != "")
}

// MattermostEnabled reports whether the Mattermost adapter should run: a server
// URL and a bot token are set.
func (c *Config) MattermostEnabled() bool {
	return c.Mattermost.URL != "" && c.Mattermost.BotToken != ""
}

// IsAdmin reports whether the user userID on platform is listed in
// roles.admins. The platform is matched case-insensitively, the id exactly
// (Slack and Mattermost ids are case-sensitive).
func (c *Config) IsAdmin(platform, userID string) bool {
	if userID == "" {
		return false
	}
	platform = strings.ToLower(platform)
	for _, a := range c.Roles.Admins {
		ch, err := ParseChannel(a)
		if err == nil && ch.Platform == platform && ch.ID == userID {
			return true
		}
	}
	return false
}

// PartnerByID returns the partner with that id (case-insensitive). The pointer
// points into c.Partners.
func (c *Config) PartnerByID(id string) (*Partner, bool) {
	for i := range c.Partners {
		if id != "" && strings.EqualFold(c.Partners[i].ID, id) {
			return &c.Partners[i], true
		}
	}
	return nil, false
}

// PartnerForChannel returns the partner whose shared channels include ch.
// Validation guarantees at most one partner owns a channel.
func (c *Config) PartnerForChannel(ch Channel) (*Partner, bool) {
	ch = ch.normalized()
	for i := range c.Partners {
		for _, o := range c.Partners[i].Channels {
			if o.normalized() == ch {
				return &c.Partners[i], true
			}
		}
	}
	return nil, false
}

// TeamByID returns the team with that id (case-insensitive). The pointer points
// into c.Teams.
func (c *Config) TeamByID(id string) (*Team, bool) {
	for i := range c.Teams {
		if id != "" && strings.EqualFold(c.Teams[i].ID, id) {
			return &c.Teams[i], true
		}
	}
	return nil, false
}

// TeamForChannel returns the team that has ch among its channels. Validation
// guarantees at most one team per channel, and that no team channel is also a
// partner's shared channel.
func (c *Config) TeamForChannel(ch Channel) (*Team, bool) {
	ch = ch.normalized()
	for i := range c.Teams {
		for _, o := range c.Teams[i].Channels {
			if o.normalized() == ch {
				return &c.Teams[i], true
			}
		}
	}
	return nil, false
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the configuration key path ("teams[0].shift_changes[1]",
	// "partners[2].id", "slack.internal_teams") or, for a value that came from
	// the environment, the variable's name ("LIAISON_LISTEN"). It is "" for a
	// problem with the file as a whole (unreadable, too large, bad YAML).
	Key string
	// Line is the line in the file the problem is at, 0 when not from the file.
	Line    int
	Message string
}

// Error renders the problem on one line: "key: message", prefixed with
// "line N: " when it is at a line of the file.
func (p Problem) Error() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found; as an error it renders one line per problem.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Has reports whether some problem is about key.
func (ps Problems) Has(key string) bool {
	for _, p := range ps {
		if p.Key == key {
			return true
		}
	}
	return false
}
