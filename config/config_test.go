package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exampleYAML is the SPEC §4 example with every key, ids filled in.
const exampleYAML = `command: liaison
public_url: https://liaison.example.gov
listen: 127.0.0.1:8080
db: /var/lib/liaisonbot/liaison.db
slack:
  internal_teams: [T0DIVISION]      # workspaces whose members are agents
mattermost:
  url: https://chat.example.gov
  team: pld
  internal_teams: [pld]             # teams whose members are agents
roles:
  admins: ["slack:U0ADMIN", "mattermost:8ftxq3m1kbgfdpz7w4r9n6c2ya", "console:admin"]
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["slack:C0MPDSHARED", "mattermost:c4xkz9w7p2m5n8q1r3t6v0y4ab", "console:mpd"]
teams:
  - id: watch
    name: PLD Watch
    timezone: America/New_York
    channels: ["slack:C0WATCH", "console:watch"]
    shift_changes: ["0 7 * * *", "0 19 * * *"]
    remind_before: 30m
    ack_within: 15m
    escalate_to: "@pld-duty-officer"
    leads: ["@alice", "@bob", "@carol"]   # rotation: one lead per shift, in order
incidents:
  stale_after: 30m
handoff:
  catchup_window: 2h
store: bbolt                        # or etcd, for several replicas
etcd:
  endpoints: ["10.0.0.5:2379", "10.0.0.6:2379", "10.0.0.7:2379"]
  prefix: /liaisonbot/
  # tls: {ca: …, cert: …, key: …}; user and password from LIAISON_ETCD_USER / LIAISON_ETCD_PASSWORD
`

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	return ps
}

func TestExampleLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(path, []byte(exampleYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, env(map[string]string{
		"MATTERMOST_BOT_TOKEN": "mm-bot-token-7f3k",
	}))
	if err != nil {
		t.Fatalf("example has problems:\n%v", err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	want := &Config{
		Command:   "liaison",
		PublicURL: "https://liaison.example.gov",
		Listen:    "127.0.0.1:8080",
		DB:        "/var/lib/liaisonbot/liaison.db",
		Slack: Slack{
			InternalTeams: []string{"T0DIVISION"},
			APIURL:        DefaultSlackAPIURL,
		},
		Mattermost: Mattermost{
			URL:           "https://chat.example.gov",
			Team:          "pld",
			InternalTeams: []string{"pld"},
			BotToken:      "mm-bot-token-7f3k",
		},
		Roles: Roles{Admins: []string{"slack:U0ADMIN", "mattermost:8ftxq3m1kbgfdpz7w4r9n6c2ya", "console:admin"}},
		Partners: []Partner{{
			ID:     "mpd",
			Name:   "Metropolitan Police Department",
			Oncall: "@mpd-watch",
			Channels: []Channel{
				{"slack", "C0MPDSHARED"},
				{"mattermost", "c4xkz9w7p2m5n8q1r3t6v0y4ab"},
				{"console", "mpd"},
			},
		}},
		Teams: []Team{{
			ID:           "watch",
			Name:         "PLD Watch",
			Timezone:     "America/New_York",
			Location:     ny,
			Channels:     []Channel{{"slack", "C0WATCH"}, {"console", "watch"}},
			ShiftChanges: []string{"0 7 * * *", "0 19 * * *"},
			RemindBefore: Duration(30 * time.Minute),
			AckWithin:    Duration(15 * time.Minute),
			EscalateTo:   "@pld-duty-officer",
			Leads:        []string{"@alice", "@bob", "@carol"},
		}},
		Incidents: Incidents{StaleAfter: Duration(30 * time.Minute)},
		Handoff:   Handoff{CatchupWindow: Duration(2 * time.Hour)},
		Store:     "bbolt",
		Etcd: Etcd{
			Endpoints: []string{"10.0.0.5:2379", "10.0.0.6:2379", "10.0.0.7:2379"},
			Prefix:    "/liaisonbot/",
		},
		Path: path,
	}
	if c.Teams[0].Location.String() != "America/New_York" {
		t.Errorf("location = %v", c.Teams[0].Location)
	}
	c.Teams[0].Location = ny // *time.Location values differ by cache state
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if !c.MattermostEnabled() || c.SlackEnabled() {
		t.Errorf("enabled: mattermost %v slack %v", c.MattermostEnabled(), c.SlackEnabled())
	}
	scheds, err := c.Teams[0].Schedules()
	if err != nil || len(scheds) != 2 {
		t.Fatalf("schedules: %v %v", scheds, err)
	}
	// 07:00 New York, whatever zone the time passed in is in.
	from := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	if got, want := scheds[0].Next(from), time.Date(2026, 1, 15, 7, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("next shift change = %v, want %v", got, want)
	}
}

func TestEmptyAndDefaults(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n\n# and another\n", "---\n", "~\n", "slack:\npartners:\n"} {
		c, err := Parse([]byte(src), "", nil)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if c.Command != "liaison" || c.Listen != "127.0.0.1:8080" || c.DB != "liaisonbot.db" || c.Store != "bbolt" ||
			c.Etcd.Prefix != "/liaisonbot/" || c.Incidents.StaleAfter.Std() != 30*time.Minute ||
			c.Handoff.CatchupWindow.Std() != 2*time.Hour || c.Slack.APIURL != "https://slack.com/api/" {
			t.Errorf("%q: defaults not applied: %+v", src, c)
		}
		if c.SlackEnabled() || c.MattermostEnabled() {
			t.Errorf("%q: a platform is enabled", src)
		}
	}
	c, err := Load("", nil)
	if err != nil || c.Path != "" || c.Command != DefaultCommand {
		t.Errorf("Load(\"\"): %+v %v", c, err)
	}
	if d := Default(); d.Listen != DefaultListen {
		t.Errorf("Default: %+v", d)
	}

	c, err = Parse([]byte("teams:\n  - id: w\n    channels: [console:w]\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := c.Teams[0]
	if tm.Name != "w" || tm.Timezone != "UTC" || tm.Location != time.UTC ||
		tm.RemindBefore.Std() != 30*time.Minute || tm.AckWithin.Std() != 15*time.Minute {
		t.Errorf("team defaults: %+v", tm)
	}
}

// validPartner and validTeam complete snippets so that each row has only its
// own problem.
const (
	validPartner = "  - id: mpd\n    channels: [\"slack:C0MPD\"]\n"
	validTeam    = "  - id: watch\n    channels: [\"slack:C0WATCH\"]\n"
)

func TestValidation(t *testing.T) {
	long := strings.Repeat("a", 129)
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		key  string // the problem expected, exactly
		line int    // its line; -1 to not check
		msg  string // a substring of its message
	}{
		// unknown keys and types
		{"unknown top-level key", "command: liaison\nlisen: :8080\n", nil, "lisen", 2, "unknown key (did you mean listen?)"},
		{"audit retention under a day", "audit:\n  retention: 2h\n", nil, "audit.retention", 2, "under a day"},
		{"audit retention not a duration", "audit:\n  retention: a year\n", nil, "audit.retention", 2, "bad duration"},
		{"audit retention negative days", "audit:\n  retention: -3d\n", nil, "audit.retention", 2, "bad duration"},
		{"audit unknown key", "audit:\n  keep: 400d\n", nil, "audit.keep", 2, "unknown key"},
		{"unknown partner key", "partners:\n  - id: mpd\n    oncal: \"@x\"\n    channels: [console:mpd]\n", nil, "partners[0].oncal", 3, "unknown key (did you mean oncall?)"},
		{"unknown team key", "teams:\n" + validTeam + "    shifts: []\n", nil, "teams[0].shifts", 4, "unknown key"},
		{"unknown nested key", "etcd:\n  tls:\n    pem: x\n", nil, "etcd.tls.pem", 3, "unknown key"},
		{"secret in the file", "slack:\n  bot_token: xoxb-1\n", nil, "slack.bot_token", 2, "SLACK_BOT_TOKEN"},
		{"odd key quoted", "\"a b\": 1\n", nil, `"a b"`, 1, "unknown key"},
		{"wrong type scalar", "listen: [1,2]\n", nil, "listen", 1, "expected a string, got a list"},
		{"wrong type mapping", "slack: yes\n", nil, "slack", 1, "expected a mapping, got a string"},
		{"wrong type list", "partners: {id: mpd}\n", nil, "partners", 1, "expected a list, got a mapping"},
		{"wrong type list item", "partners:\n  - mpd\n", nil, "partners[0]", 2, "expected a mapping"},
		{"wrong type channel", "partners:\n  - id: mpd\n    channels: [{slack: C1}]\n", nil, "partners[0].channels[0]", 3, "expected a string, got a mapping"},
		{"empty list entry", "slack:\n  internal_teams: [T1, \"\"]\n", nil, "slack.internal_teams[1]", 2, "empty entry"},
		{"space in internal team", "mattermost:\n  internal_teams: [\"p l d\"]\n", nil, "mattermost.internal_teams[0]", 2, "space"},
		{"key set twice", "db: a.db\ndb: b.db\n", nil, "db", 2, "set twice (first at line 1)"},
		{"not a mapping", "- a\n- b\n", nil, "(top level)", 1, "expected a mapping, got a list"},
		{"bad yaml", "partners: [\n", nil, "", -1, "bad YAML"},
		{"two documents", "db: a\n---\ndb: b\n", nil, "", 2, "more than one YAML document"},

		// channels and roles
		{"channel without platform", "partners:\n  - id: mpd\n    channels: [C0MPD]\n", nil, "partners[0].channels[0]", 3, `"C0MPD" is not platform:id`},
		{"unknown platform", "teams:\n  - id: w\n    channels: [\"teams:19abc\"]\n", nil, "teams[0].channels[0]", 3, `unknown platform "teams"`},
		{"channel without id", "partners:\n  - id: mpd\n    channels: [\"slack:\"]\n", nil, "partners[0].channels[0]", 3, "no id"},
		{"channel id with space", "partners:\n  - id: mpd\n    channels: [\"slack:C0 MPD\"]\n", nil, "partners[0].channels[0]", 3, "space"},
		{"bad admin", "roles:\n  admins: [\"slack:U1\", \"U0ADMIN\"]\n", nil, "roles.admins[1]", 2, "not platform:id"},

		// partners
		{"partner id missing", "partners:\n  - name: MPD\n    channels: [console:mpd]\n", nil, "partners[0].id", 2, "missing"},
		{"partner id twice", "partners:\n" + validPartner + "  - id: MPD\n    channels: [console:mpd2]\n", nil, "partners[1].id", 4, "used twice (first at partners[0].id)"},
		{"partner id not a word", "partners:\n  - id: \"m p d\"\n    channels: [console:mpd]\n", nil, "partners[0].id", 2, "must be a word"},
		{"partner without channels", "partners:\n  - id: mpd\n    name: MPD\n", nil, "partners[0].channels", 2, "at least one shared channel"},
		{"partner with empty channels", "partners:\n  - id: mpd\n    channels: []\n", nil, "partners[0].channels", 3, "at least one shared channel"},
		{"channel of two partners", "partners:\n" + validPartner + "  - id: uspp\n    channels: [\"slack:C0MPD\"]\n", nil, "partners[1].channels[0]", 5, "already partners[0] (mpd)'s shared channel"},
		{"channel twice in a partner", "partners:\n  - id: mpd\n    channels: [console:mpd, console:mpd]\n", nil, "partners[0].channels[1]", 3, "listed twice"},

		// teams
		{"team id missing", "teams:\n  - channels: [console:w]\n", nil, "teams[0].id", 2, "missing"},
		{"team id twice", "teams:\n" + validTeam + "  - id: watch\n    channels: [console:w]\n", nil, "teams[1].id", 4, "used twice"},
		{"team without channels", "teams:\n  - id: watch\n", nil, "teams[0].channels", 2, "at least one channel"},
		{"unknown time zone", "teams:\n" + validTeam + "    timezone: America/New_Yrok\n", nil, "teams[0].timezone", 4, `unknown time zone "America/New_Yrok"`},
		{"Local time zone", "teams:\n" + validTeam + "    timezone: Local\n", nil, "teams[0].timezone", 4, "unknown time zone"},
		{"bad cron", "teams:\n" + validTeam + "    shift_changes: [\"0 19 * * *\", \"0 7 * *\"]\n", nil, "teams[0].shift_changes[1]", 4, `bad cron expression "0 7 * *": expected exactly 5 fields`},
		{"cron out of range", "teams:\n" + validTeam + "    shift_changes:\n      - \"0 25 * * *\"\n", nil, "teams[0].shift_changes[0]", 5, "bad cron expression"},
		{"cron CRON_TZ prefix", "teams:\n" + validTeam + "    shift_changes: [\"CRON_TZ=UTC 0 7 * * *\"]\n", nil, "teams[0].shift_changes[0]", 4, "timezone applies"},
		{"cron TZ prefix", "teams:\n" + validTeam + "    shift_changes: [\"TZ=UTC\"]\n", nil, "teams[0].shift_changes[0]", 4, "timezone applies"},
		{"cron @every", "teams:\n" + validTeam + "    shift_changes: [\"@every 12h\"]\n", nil, "teams[0].shift_changes[0]", 4, "@every"},
		{"cron never fires", "teams:\n" + validTeam + "    shift_changes: [\"0 0 30 2 *\"]\n", nil, "teams[0].shift_changes[0]", 4, "never fires"},
		{"cron seconds field", "teams:\n" + validTeam + "    shift_changes: [\"0 0 7 * * *\"]\n", nil, "teams[0].shift_changes[0]", 4, "expected exactly 5 fields"},
		{"remind_before zero", "teams:\n" + validTeam + "    remind_before: 0s\n", nil, "teams[0].remind_before", 4, "must be positive"},
		{"ack_within negative", "teams:\n" + validTeam + "    ack_within: -5m\n", nil, "teams[0].ack_within", 4, "must be positive"},
		{"duration without unit", "teams:\n" + validTeam + "    ack_within: 15\n", nil, "teams[0].ack_within", 4, "bad duration"},
		{"stale_after zero", "incidents:\n  stale_after: 0m\n", nil, "incidents.stale_after", 2, "must be positive"},
		{"catchup_window words", "handoff:\n  catchup_window: 2 hours\n", nil, "handoff.catchup_window", 2, "bad duration"},
		{"team channel of a partner", "partners:\n" + validPartner + "teams:\n  - id: watch\n    channels: [\"slack:C0MPD\"]\n", nil, "teams[0].channels[0]", 6, "a team channel must be internal"},
		{"channel of two teams", "teams:\n" + validTeam + "  - id: night\n    channels: [\"slack:C0WATCH\"]\n", nil, "teams[1].channels[0]", 5, "already teams[0] (watch)'s channel"},
		{"escalate_to with space", "teams:\n" + validTeam + "    escalate_to: \"duty officer\"\n", nil, "teams[0].escalate_to", 4, "space"},

		// top-level values
		{"store unknown", "store: postgres\n", nil, "store", 1, `unknown store "postgres"`},
		{"etcd without endpoints", "store: etcd\n", nil, "etcd.endpoints", 1, "required when store is etcd"},
		{"etcd bad endpoint", "etcd:\n  endpoints: [\"10.0.0.5\"]\n", nil, "etcd.endpoints[0]", 2, "not host:port"},
		{"etcd endpoint path", "etcd:\n  endpoints: [\"https://10.0.0.5:2379/v3\"]\n", nil, "etcd.endpoints[0]", 2, "path"},
		{"etcd cert without key", "etcd:\n  tls:\n    cert: c.pem\n", nil, "etcd.tls.key", 2, "go together"},
		{"listen not host:port", "listen: \"8080\"\n", nil, "listen", 1, "not host:port"},
		{"listen bad port", "listen: \"127.0.0.1:99999\"\n", nil, "listen", 1, "port"},
		{"public_url relative", "public_url: liaison.example.gov\n", nil, "public_url", 1, "absolute http(s) URL"},
		{"public_url ftp", "public_url: ftp://liaison.example.gov\n", nil, "public_url", 1, "absolute http(s) URL"},
		{"public_url credentials", "public_url: https://bob:hunter2@liaison.example.gov\n", nil, "public_url", 1, "user or password"},
		{"mattermost url", "mattermost:\n  url: chat.example.gov\n", nil, "mattermost.url", 2, "absolute http(s) URL"},
		{"command upper case", "command: Liaison\n", nil, "command", 1, "invalid command name"},
		{"command with space", "command: \"liai son\"\n", nil, "command", 1, "invalid command name"},
		{"command too long", "command: " + long + "\n", nil, "command", 1, "invalid command name"},

		// environment
		{"env listen", "listen: 127.0.0.1:8080\n", map[string]string{"LIAISON_LISTEN": "localhost"}, "LIAISON_LISTEN", 0, "not host:port"},
		{"env command", "", map[string]string{"LIAISON_COMMAND": "no way"}, "LIAISON_COMMAND", 0, "invalid command name"},
		{"env public url", "", map[string]string{"LIAISON_PUBLIC_URL": "/relative"}, "LIAISON_PUBLIC_URL", 0, "absolute http(s) URL"},
		{"env mattermost url", "", map[string]string{"MATTERMOST_URL": "chat"}, "MATTERMOST_URL", 0, "absolute http(s) URL"},
		{"env slack api url", "", map[string]string{"SLACK_API_URL": "localhost:9999"}, "SLACK_API_URL", 0, "absolute http(s) URL"},
		{"slack bot token without signing secret", "", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET", 0, "HTTP mode"},
		{"slack app token without bot token", "", map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN", 0, "required when SLACK_APP_TOKEN"},
		{"mattermost token without url", "", map[string]string{"MATTERMOST_BOT_TOKEN": "tok"}, "MATTERMOST_URL", 0, "required when MATTERMOST_BOT_TOKEN"},
		{"etcd user without password", "", map[string]string{"LIAISON_ETCD_USER": "liaison"}, "LIAISON_ETCD_PASSWORD", 0, "required"},
		{"secret with a space", "", map[string]string{"SLACK_BOT_TOKEN": "xoxb 1", "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN", 0, "spaces"},
		{"secret and secret file", "", map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_APP_TOKEN_FILE": "/nonexistent"}, "SLACK_APP_TOKEN", 0, "not both"},
		{"secret file missing", "", map[string]string{"MATTERMOST_BOT_TOKEN_FILE": "/nonexistent/token"}, "MATTERMOST_BOT_TOKEN_FILE", 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "test.yaml", env(tt.env))
			if c == nil {
				t.Fatal("no config returned with the problems")
			}
			ps := problemsOf(t, err)
			for _, p := range ps {
				if p.Key == tt.key && strings.Contains(p.Message, tt.msg) {
					if tt.line >= 0 && p.Line != tt.line {
						t.Errorf("problem at line %d, want %d: %v", p.Line, tt.line, p)
					}
					if strings.Contains(p.Error(), "\n") {
						t.Errorf("problem spans lines: %q", p.Error())
					}
					return
				}
			}
			t.Errorf("want a problem %q containing %q; got:\n%v", tt.key, tt.msg, err)
		})
	}
}

func TestProblemFormat(t *testing.T) {
	p := Problem{Key: "teams[0].shift_changes[1]", Message: `bad cron expression "0 7 * *": expected exactly 5 fields`}
	if got, want := p.Error(), `teams[0].shift_changes[1]: bad cron expression "0 7 * *": expected exactly 5 fields`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	p = Problem{Key: "partners[0].oncal", Line: 7, Message: "unknown key"}
	if got, want := p.Error(), "line 7: partners[0].oncal: unknown key"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ps := Problems{p, {Key: "LIAISON_LISTEN", Message: "bad"}}
	if got, want := ps.Error(), "line 7: partners[0].oncal: unknown key\nLIAISON_LISTEN: bad"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !ps.Has("LIAISON_LISTEN") || ps.Has("listen") {
		t.Error("Has")
	}
}

// Every problem is reported, not only the first, in file order, with the
// environment's last.
func TestAllProblemsCollected(t *testing.T) {
	src := `listen: nowhere
teams:
  - id: watch
    timezone: Mars/Olympus
    channels: [irc:watch]
    shift_changes: ["0 7 * *"]
partners:
  - id: mpd
    oncal: x
`
	_, err := Parse([]byte(src), "x.yaml", env(map[string]string{"LIAISON_DB": "x.db", "LIAISON_COMMAND": "Bad Name"}))
	ps := problemsOf(t, err)
	var keys []string
	for _, p := range ps {
		keys = append(keys, p.Key)
	}
	want := []string{"listen", "teams[0].timezone", "teams[0].channels[0]", "teams[0].shift_changes[0]", "partners[0].channels", "partners[0].oncal", "LIAISON_COMMAND"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %q\nwant   %q\n%v", keys, want, err)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	src := `command: liaison
public_url: https://old.example.gov
listen: 127.0.0.1:8080
db: file.db
mattermost:
  url: https://old-chat.example.gov
  team: old
`
	c, err := Parse([]byte(src), "x.yaml", env(map[string]string{
		"LIAISON_DB":           "/data/env.db",
		"LIAISON_LISTEN":       ":9090",
		"LIAISON_COMMAND":      "/pld",
		"LIAISON_PUBLIC_URL":   "https://liaison.example.gov/",
		"MATTERMOST_URL":       "https://chat.example.gov/",
		"MATTERMOST_TEAM":      "pld",
		"MATTERMOST_BOT_TOKEN": "mmbot",
		"SLACK_BOT_TOKEN":      "xoxb-1",
		"SLACK_APP_TOKEN":      "xapp-1",
		"SLACK_API_URL":        "http://127.0.0.1:4000/api",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.DB, c.Listen, c.Command, c.PublicURL, c.Mattermost.URL, c.Mattermost.Team, c.Slack.APIURL}
	want := []string{"/data/env.db", ":9090", "pld", "https://liaison.example.gov", "https://chat.example.gov", "pld", "http://127.0.0.1:4000/api/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !c.SlackEnabled() || !c.Slack.SocketMode() || !c.MattermostEnabled() {
		t.Errorf("platforms: slack %v socket %v mattermost %v", c.SlackEnabled(), c.Slack.SocketMode(), c.MattermostEnabled())
	}
	// A bad file value that the environment replaces is not a problem.
	if _, err := Parse([]byte("listen: nowhere\n"), "", env(map[string]string{"LIAISON_LISTEN": ":1"})); err != nil {
		t.Errorf("overridden bad value reported: %v", err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e := map[string]string{
		"SLACK_BOT_TOKEN_FILE":          write("bot", "xoxb-from-file-1\n"),
		"SLACK_SIGNING_SECRET_FILE":     write("sign", "8f14e45fceea167a5a36dedd4bea2543\r\n"),
		"SLACK_APP_TOKEN":               "xapp-from-env",
		"MATTERMOST_URL":                "https://chat.example.gov",
		"MATTERMOST_BOT_TOKEN_FILE":     write("mm", "mm-from-file"),
		"MATTERMOST_COMMAND_TOKEN_FILE": write("cmd", "cmd-from-file\n"),
		"LIAISON_ETCD_USER_FILE":        write("user", "liaison\n"),
		"LIAISON_ETCD_PASSWORD_FILE":    write("pw", "pw-from-file\n"),
	}
	c, err := Parse(nil, "", env(e))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.Slack.BotToken, c.Slack.SigningSecret, c.Slack.AppToken, c.Mattermost.BotToken, c.Mattermost.CommandToken, c.Etcd.User, c.Etcd.Password}
	want := []string{"xoxb-from-file-1", "8f14e45fceea167a5a36dedd4bea2543", "xapp-from-env", "mm-from-file", "cmd-from-file", "liaison", "pw-from-file"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	secret := "do-not-print-me"
	bad := []struct {
		name string
		env  map[string]string
		key  string
		msg  string
	}{
		{"both", map[string]string{"MATTERMOST_BOT_TOKEN": secret, "MATTERMOST_BOT_TOKEN_FILE": write("both", secret)}, "MATTERMOST_BOT_TOKEN", "not both"},
		{"missing", map[string]string{"SLACK_BOT_TOKEN_FILE": filepath.Join(dir, "nope")}, "SLACK_BOT_TOKEN_FILE", "no such file"},
		{"directory", map[string]string{"SLACK_BOT_TOKEN_FILE": dir}, "SLACK_BOT_TOKEN_FILE", "directory"},
		{"empty", map[string]string{"LIAISON_ETCD_PASSWORD_FILE": write("empty", "\n")}, "LIAISON_ETCD_PASSWORD_FILE", "empty"},
		{"two lines", map[string]string{"LIAISON_ETCD_PASSWORD_FILE": write("two", secret+"\n"+secret+"\n")}, "LIAISON_ETCD_PASSWORD_FILE", "line breaks"},
		{"huge", map[string]string{"SLACK_APP_TOKEN_FILE": write("huge", strings.Repeat(secret, 10000))}, "SLACK_APP_TOKEN_FILE", "larger than"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(nil, "", env(tt.env))
			ps := problemsOf(t, err)
			if !ps.Has(tt.key) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("want %s: …%s…, got:\n%v", tt.key, tt.msg, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("problem prints the secret: %v", err)
			}
		})
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("etcd-pw-Zq81\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{
		"SLACK_BOT_TOKEN":            "xoxb-1111-2222-aaaa",
		"SLACK_SIGNING_SECRET":       "8f14e45fceea167a5a36dedd4bea2543",
		"SLACK_APP_TOKEN":            "xapp-1-A0-3333-bbbb",
		"MATTERMOST_BOT_TOKEN":       "mmbot9c7x2k4p8q",
		"MATTERMOST_COMMAND_TOKEN":   "mmcmd5r6t7y8u9",
		"LIAISON_ETCD_USER":          "liaison",
		"LIAISON_ETCD_PASSWORD_FILE": pw,
	}
	c, err := Parse([]byte(exampleYAML), "liaison.yaml", env(e))
	if err != nil {
		t.Fatal(err)
	}
	secrets := c.Secrets()
	if len(secrets) != 6 {
		t.Fatalf("Secrets() = %d values, want 6", len(secrets))
	}
	m := c.Masked()
	for _, s := range secrets {
		if strings.Contains(m, s) {
			t.Errorf("Masked contains a secret:\n%s", m)
		}
	}
	for _, want := range []string{"SLACK_BOT_TOKEN: ****", "LIAISON_ETCD_PASSWORD: ****", `LIAISON_ETCD_USER: "liaison"`, "slack: enabled, Socket Mode", "mattermost: enabled", `file: "liaison.yaml"`} {
		if !strings.Contains(m, want) {
			t.Errorf("Masked lacks %q:\n%s", want, m)
		}
	}
	// Unset secrets say so.
	if m := Default().Masked(); !strings.Contains(m, "SLACK_BOT_TOKEN: (unset)") {
		t.Errorf("unset secret not shown as (unset):\n%s", m)
	}

	// It is the effective configuration: it parses back to the same one.
	c2, err := Parse([]byte(m), "liaison.yaml", env(e))
	if err != nil {
		t.Fatalf("Masked does not parse back: %v\n%s", err, m)
	}
	if m2 := c2.Masked(); m2 != m {
		t.Errorf("round trip differs:\n%s\n---\n%s", m, m2)
	}
	c.Teams[0].Location, c2.Teams[0].Location = nil, nil
	if !reflect.DeepEqual(c, c2) {
		t.Errorf("round trip differs:\n%+v\n%+v", c, c2)
	}
}

func TestLookups(t *testing.T) {
	src := exampleYAML + `  tls: {ca: ca.pem}
`
	src = strings.Replace(src, "teams:\n", `  - id: uspp
    name: Protective Service
    channels: ["slack:C0USPP"]
teams:
`, 1)
	src = strings.Replace(src, "incidents:", `  - id: night
    channels: ["mattermost:w7pq2k4m9x3n5b8v6c1z0y4tre"]
incidents:`, 1)
	c, err := Parse([]byte(src), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	admins := []struct {
		platform, id string
		want         bool
	}{
		{"slack", "U0ADMIN", true},
		{"Slack", "U0ADMIN", true},
		{"slack", "u0admin", false},
		{"mattermost", "U0ADMIN", false},
		{"mattermost", "8ftxq3m1kbgfdpz7w4r9n6c2ya", true},
		{"console", "admin", true},
		{"console", "", false},
		{"", "", false},
	}
	for _, a := range admins {
		if got := c.IsAdmin(a.platform, a.id); got != a.want {
			t.Errorf("IsAdmin(%q, %q) = %v", a.platform, a.id, got)
		}
	}

	partners := []struct {
		ch   Channel
		want string
	}{
		{Channel{"slack", "C0MPDSHARED"}, "mpd"},
		{Channel{"SLACK", "C0MPDSHARED"}, "mpd"},
		{Channel{"console", "mpd"}, "mpd"},
		{Channel{"slack", "C0USPP"}, "uspp"},
		{Channel{"mattermost", "C0USPP"}, ""},
		{Channel{"slack", "C0WATCH"}, ""},
		{Channel{}, ""},
	}
	for _, tt := range partners {
		p, ok := c.PartnerForChannel(tt.ch)
		if got := ""; ok {
			got = p.ID
			if got != tt.want {
				t.Errorf("PartnerForChannel(%v) = %q, want %q", tt.ch, got, tt.want)
			}
		} else if tt.want != "" {
			t.Errorf("PartnerForChannel(%v) found nothing, want %q", tt.ch, tt.want)
		}
	}
	if p, ok := c.PartnerByID("MPD"); !ok || p != &c.Partners[0] {
		t.Errorf("PartnerByID(MPD) = %v %v", p, ok)
	}
	if _, ok := c.PartnerByID(""); ok {
		t.Error("PartnerByID(\"\") found something")
	}
	if _, ok := c.PartnerByID("fbi"); ok {
		t.Error("PartnerByID(fbi) found something")
	}

	if tm, ok := c.TeamForChannel(Channel{"console", "watch"}); !ok || tm.ID != "watch" {
		t.Errorf("TeamForChannel(console:watch) = %v %v", tm, ok)
	}
	if tm, ok := c.TeamForChannel(Channel{"mattermost", "w7pq2k4m9x3n5b8v6c1z0y4tre"}); !ok || tm.ID != "night" || tm.Location != time.UTC {
		t.Errorf("TeamForChannel(mattermost night) = %v %v", tm, ok)
	}
	if _, ok := c.TeamForChannel(Channel{"slack", "C0MPDSHARED"}); ok {
		t.Error("a partner channel maps to a team")
	}
	if tm, ok := c.TeamByID("Watch"); !ok || tm != &c.Teams[0] {
		t.Errorf("TeamByID(Watch) = %v %v", tm, ok)
	}
	if _, ok := c.TeamByID("day"); ok {
		t.Error("TeamByID(day) found something")
	}
	if c.Etcd.TLS.CA != "ca.pem" || !c.Etcd.TLS.Enabled() {
		t.Errorf("etcd tls: %+v", c.Etcd.TLS)
	}
}

func TestParseChannel(t *testing.T) {
	good := map[string]Channel{
		"slack:C0123":                            {"slack", "C0123"},
		"Mattermost:4xp9abc":                     {"mattermost", "4xp9abc"},
		"console:mpd":                            {"console", "mpd"},
		"console:a:b":                            {"console", "a:b"},
		"slack:" + strings.Repeat("x", maxIDLen): {"slack", strings.Repeat("x", maxIDLen)},
	}
	for s, want := range good {
		got, err := ParseChannel(s)
		if err != nil || got != want {
			t.Errorf("ParseChannel(%q) = %v, %v", s, got, err)
		}
		if back, _ := ParseChannel(got.String()); back != got {
			t.Errorf("String does not parse back: %q", got.String())
		}
	}
	for _, s := range []string{"", "slack", ":C1", "irc:x", "slack:", "slack: C1", "slack:C1 ", "slack:C\n1", "slack:" + strings.Repeat("x", maxIDLen+1)} {
		if ch, err := ParseChannel(s); err == nil {
			t.Errorf("ParseChannel(%q) = %v, want an error", s, ch)
		}
	}
	var ch Channel
	if err := ch.UnmarshalText([]byte("slack:C9")); err != nil || ch != (Channel{"slack", "C9"}) {
		t.Errorf("UnmarshalText: %v %v", ch, err)
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute:               "30m",
		2 * time.Hour:                  "2h",
		90 * time.Minute:               "1h30m",
		90 * time.Second:               "1m30s",
		time.Hour + 5*time.Second:      "1h0m5s",
		1500 * time.Millisecond:        "1.5s",
		0:                              "0s",
		100000*time.Hour + time.Minute: "100000h1m",
		24 * time.Hour:                 "1d",
		400 * 24 * time.Hour:           "400d",
		36 * time.Hour:                 "36h",
	} {
		got := Duration(d).String()
		if got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
		if back, err := parseDuration(got); err != nil || back != d {
			t.Errorf("%q parses back to %v, %v", got, back, err)
		}
	}
}

func TestFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	data := []byte("# " + strings.Repeat("x", MaxFileSize) + "\n")
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"load":  func() error { _, err := Load(big, nil); return err }(),
		"parse": func() error { _, err := Parse(data, "big.yaml", nil); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s: want a too-large problem, got %v", name, err)
		}
	}
	c, err := Load(filepath.Join(dir, "missing.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "no such file") || c == nil || c.Listen != DefaultListen {
		t.Errorf("missing file: %v %+v", err, c)
	}
	if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

// Anchors, aliases and merge keys work; expansions are bounded.
func TestAliasesAndMerges(t *testing.T) {
	src := `x-defaults: &shift
  timezone: America/Chicago
  remind_before: 20m
`
	// Unknown top-level key: anchors must live somewhere the schema knows.
	if _, err := Parse([]byte(src), "", nil); err == nil {
		t.Fatal("x-defaults accepted")
	}
	src = `partners:
  - &mpd
    id: mpd
    channels: &chans ["console:mpd"]
teams:
  - &day
    id: day
    timezone: America/Chicago
    remind_before: 20m
    channels: ["console:day"]
  - <<: *day
    id: night
    channels: ["console:night"]
    remind_before: 10m
`
	c, err := Parse([]byte(src), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Teams[1]
	if n.ID != "night" || n.Timezone != "America/Chicago" || n.RemindBefore.Std() != 10*time.Minute || n.Channels[0].ID != "night" {
		t.Errorf("merged team: %+v", n)
	}

	// Billion laughs: every partner is an alias of one with many channels.
	var b strings.Builder
	b.WriteString("partners:\n  - &p {id: p, channels: [")
	for i := 0; i < 1000; i++ {
		b.WriteString("console:c" + strconv.Itoa(i) + ", ")
	}
	b.WriteString("]}\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("  - *p\n")
	}
	start := time.Now()
	_, err = Parse([]byte(b.String()), "", nil)
	ps := problemsOf(t, err)
	if len(ps) == 0 || len(ps) > maxProblems+1 {
		t.Errorf("%d problems: %v", len(ps), err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}

	// The same through merge keys, which the walker expands itself.
	mergeBomb := "teams:\n  - &t0 {id: t, channels: [console:t]}\n"
	for i := 1; i < 30; i++ {
		prev := "*t" + strconv.Itoa(i-1)
		mergeBomb += "  - &t" + strconv.Itoa(i) + " {<<: [" + prev + ", " + prev + "], id: t" + strconv.Itoa(i) + "}\n"
	}
	start = time.Now()
	_, _ = Parse([]byte(mergeBomb), "", nil)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("merge bomb took %v", d)
	}

	// Alias cycles end.
	for _, src := range []string{"slack: &s {<<: *s}\n", "teams: &t [{id: a, channels: *t}]\n"} {
		if _, err := Parse([]byte(src), "", nil); err == nil {
			t.Errorf("%q accepted", src)
		}
	}
}

// ShiftSchedule must agree with cron where cron is right (no DST), and stay
// bounded where cron v3.0.1 loops forever.
func TestShiftScheduleMatchesCron(t *testing.T) {
	specs := []string{
		"0 7 * * *", "0 19 * * *", "30 6 * * 1-5", "0 */6 * * *", "15,45 8-17 * * *",
		"0 0 1 * *", "0 12 15 * 3", "0 9 * 1,7 *", "0 0 29 2 *", "@daily", "@hourly",
		"@weekly", "@monthly", "@yearly", "0 8 ? * MON", "*/20 * * * *", "0 22 * * sun",
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []*time.Location{time.UTC, tokyo} {
		for _, expr := range specs {
			ours, err := ParseShiftChange(expr, loc)
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			theirs, err := shiftParser.Parse(expr)
			if err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 2, 27, 13, 7, 11, 0, loc)
			for i := 0; i < 50; i++ {
				got, want := ours.Next(from), theirs.Next(from)
				if !got.Equal(want) {
					t.Fatalf("%s %q: Next(%v) = %v, cron says %v", loc, expr, from, got, want)
				}
				if got.IsZero() { // 29 February 2096, then none within five years
					break
				}
				if prev := ours.Prev(got); !prev.Equal(got) {
					t.Fatalf("%s %q: Prev(%v) = %v", loc, expr, got, prev)
				}
				if prev := ours.Prev(got.Add(-time.Second)); !prev.Before(got) || !ours.Next(prev).Equal(got) {
					t.Fatalf("%s %q: Prev before %v = %v", loc, expr, got, prev)
				}
				from = got
			}
		}
	}
}

func TestShiftScheduleDST(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := func(expr string, from time.Time) time.Time {
		s, err := ParseShiftChange(expr, ny)
		if err != nil {
			t.Fatal(err)
		}
		return s.Next(from)
	}
	// Spring forward, 8 March 2026: 02:30 does not exist and fires once, at 03:30 EDT.
	from := time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	if got, want := at("30 2 * * *", from), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("spring forward: %v, want %v", got, want)
	}
	if got, want := at("0 7 * * *", from), time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("07:00 EDT: %v, want %v", got, want)
	}
	// Fall back, 1 November 2026: 01:30 happens twice and fires once.
	s, _ := ParseShiftChange("30 1 * * *", ny)
	first := s.Next(time.Date(2026, 11, 1, 0, 0, 0, 0, ny))
	if second := s.Next(first); second.Sub(first) < 24*time.Hour {
		t.Errorf("fall back fires twice: %v then %v", first, second)
	}

	// Zones where cron v3.0.1's Next never returns.
	for _, zone := range []string{"Pacific/Apia", "Pacific/Chatham", "Kwajalein", "Pacific/Bougainville", "America/Sao_Paulo", "America/Havana", "Asia/Tehran"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, expr := range []string{"0 0 * * *", "0 0 1 * *", "30 0 * * 0", "@monthly", "45 2 * * *"} {
			s, err := ParseShiftChange(expr, loc)
			if err != nil {
				t.Fatal(err)
			}
			tt := time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)
			for tt.Year() < 2016 {
				n := s.Next(tt)
				if !n.After(tt) {
					t.Fatalf("%s %q: Next(%v) = %v", zone, expr, tt, n)
				}
				tt = n
			}
		}
	}
	// Apia skipped 30 December 2011: the daily change that day is moved, not lost or doubled.
	apia, _ := time.LoadLocation("Pacific/Apia")
	s, _ = ParseShiftChange("0 7 * * *", apia)
	a := s.Next(time.Date(2011, 12, 29, 8, 0, 0, 0, apia))
	b := s.Next(a)
	if !a.After(time.Date(2011, 12, 29, 8, 0, 0, 0, apia)) || !b.After(a) {
		t.Errorf("Apia: %v, %v", a, b)
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, always return
// a configuration, report problems as one-line Problems, and when it accepts
// the input, Masked must parse back without a problem to the same rendering.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		exampleYAML,
		"",
		"# comment only\n",
		"---\n",
		"listen: [1,2]\n",
		"teams:\n  - id: w\n    channels: [console:w]\n    shift_changes: [\"0 7 * *\", \"@daily\", \"TZ=UTC\"]\n",
		"partners:\n  - &p {id: p, channels: [console:p]}\n  - <<: *p\n    id: q\n    channels: [slack:Q]\n",
		"slack: &s {<<: *s}\n",
		"a: &a [x, x]\nb: [*a, *a]\n",
		"command: \"liai\\u0085son\"\npublic_url: \"https://x.example/\\u2028\"\n",
		"teams: [{id: \"w\", name: \"a\\tb\", timezone: Europe/Paris, channels: [\"console:w\"], leads: [\"@a\"], escalate_to: \"#x\"}]\n",
		"etcd: {endpoints: [\"https://[::1]:2379\", \"h:1\"], prefix: \" /x/\", tls: {cert: a, key: b}}\nstore: etcd\n",
		"db: \"\\0\"\n",
		"partners: [{id: a, name: \"\", oncall: \"null\", channels: [\"console:~\"]}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml", nil)
		if c == nil {
			t.Fatal("no config")
		}
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not Problems: %T %v", err, err)
			}
			for _, p := range ps {
				if strings.ContainsAny(p.Error(), "\n\r") {
					t.Fatalf("problem spans lines: %q", p.Error())
				}
			}
			return
		}
		m := c.Masked()
		c2, err := Parse([]byte(m), "fuzz.yaml", nil)
		if err != nil {
			t.Fatalf("Masked does not parse back: %v\ninput:\n%s\nmasked:\n%s", err, data, m)
		}
		if m2 := c2.Masked(); m2 != m {
			t.Fatalf("Masked round trip differs:\n%s\n---\n%s", m, m2)
		}
	})
}

// A signing secret alone, or a Mattermost command token alone, is a valid
// commands-only deployment.
func TestCommandsOnlyDeployments(t *testing.T) {
	for _, env := range []map[string]string{
		{"SLACK_SIGNING_SECRET": "abc"},
		{"MATTERMOST_URL": "https://chat.example.gov", "MATTERMOST_COMMAND_TOKEN": "tok"},
	} {
		c, err := Parse(nil, "", func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%v: %v", env, err)
			continue
		}
		if !c.AnyPlatform() {
			t.Errorf("%v: AnyPlatform false", env)
		}
	}
	if c, _ := Parse(nil, "", func(string) string { return "" }); c.AnyPlatform() {
		t.Error("no credentials: AnyPlatform true")
	}
}

func TestAuditRetention(t *testing.T) {
	c, err := Parse([]byte("audit:\n  retention: 400d\n"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Retention.Std() != 400*24*time.Hour {
		t.Fatalf("retention %v, want 400 days", c.Audit.Retention.Std())
	}
	if m := c.Masked(); !strings.Contains(m, "retention: 400d") {
		t.Errorf("masked configuration does not show the retention:\n%s", m)
	}
	c, err = Parse(nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Retention != 0 {
		t.Errorf("default retention %v, want 0 (keep everything)", c.Audit.Retention)
	}
	if m := c.Masked(); !strings.Contains(m, "every record is kept") {
		t.Errorf("masked configuration does not say the audit is kept whole:\n%s", m)
	}
}
