package config

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Environment variables. The secrets may instead be given as NAME_FILE, naming
// a file that holds the value (Docker and Kubernetes secrets, systemd
// credentials), so that they need not sit in the process environment.
const (
	EnvDB                     = "LIAISON_DB"
	EnvListen                 = "LIAISON_LISTEN"
	EnvCommand                = "LIAISON_COMMAND"
	EnvPublicURL              = "LIAISON_PUBLIC_URL"
	EnvSlackBotToken          = "SLACK_BOT_TOKEN"
	EnvSlackSigningSecret     = "SLACK_SIGNING_SECRET"
	EnvSlackAppToken          = "SLACK_APP_TOKEN"
	EnvSlackAPIURL            = "SLACK_API_URL"
	EnvMattermostURL          = "MATTERMOST_URL"
	EnvMattermostBotToken     = "MATTERMOST_BOT_TOKEN"
	EnvMattermostTeam         = "MATTERMOST_TEAM"
	EnvMattermostCommandToken = "MATTERMOST_COMMAND_TOKEN"
	EnvEtcdUser               = "LIAISON_ETCD_USER"
	EnvEtcdPassword           = "LIAISON_ETCD_PASSWORD"
)

// maxSecretFile bounds a NAME_FILE read: a token is well under a kilobyte, and
// a mistaken path to something huge must not be read whole.
const maxSecretFile = 64 << 10

func (p *parser) defaults(c *Config) {
	setDefault(&c.Command, DefaultCommand)
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.DB, DefaultDB)
	setDefault(&c.Store, DefaultStore)
	setDefault(&c.Etcd.Prefix, DefaultEtcdPrefix)
	if c.Incidents.StaleAfter == 0 {
		c.Incidents.StaleAfter = DefaultStaleAfter
	}
	if c.Handoff.CatchupWindow == 0 {
		c.Handoff.CatchupWindow = DefaultCatchup
	}
	for i := range c.Partners {
		setDefault(&c.Partners[i].Name, c.Partners[i].ID)
	}
	for i := range c.Teams {
		t := &c.Teams[i]
		setDefault(&t.Name, t.ID)
		setDefault(&t.Timezone, DefaultTimezone)
		if t.RemindBefore == 0 {
			t.RemindBefore = DefaultRemindBefore
		}
		if t.AckWithin == 0 {
			t.AckWithin = DefaultAckWithin
		}
	}
}

func setDefault(dst *string, def string) {
	if *dst == "" {
		*dst = def
	}
}

// environment applies the overrides; an empty variable counts as unset.
func (p *parser) environment(c *Config) {
	p.override(&c.DB, "db", EnvDB)
	p.override(&c.Listen, "listen", EnvListen)
	p.override(&c.Command, "command", EnvCommand)
	p.override(&c.PublicURL, "public_url", EnvPublicURL)
	p.override(&c.Mattermost.URL, "mattermost.url", EnvMattermostURL)
	p.override(&c.Mattermost.Team, "mattermost.team", EnvMattermostTeam)

	c.Slack.APIURL = strings.TrimSpace(p.getenv(EnvSlackAPIURL))
	if c.Slack.APIURL == "" {
		c.Slack.APIURL = DefaultSlackAPIURL
	} else {
		p.fromEnv["slack.api_url"] = EnvSlackAPIURL
	}

	c.Slack.BotToken = p.secret(EnvSlackBotToken, true)
	c.Slack.SigningSecret = p.secret(EnvSlackSigningSecret, true)
	c.Slack.AppToken = p.secret(EnvSlackAppToken, true)
	c.Mattermost.BotToken = p.secret(EnvMattermostBotToken, true)
	c.Mattermost.CommandToken = p.secret(EnvMattermostCommandToken, true)
	c.Etcd.User = p.secret(EnvEtcdUser, false)
	c.Etcd.Password = p.secret(EnvEtcdPassword, true)
}

func (p *parser) override(dst *string, key, name string) {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		*dst = v
		p.fromEnv[key] = name
	}
}

// keyOf is the name to report a problem with a top-level value under: the
// environment variable when one overrode the file.
func (p *parser) keyOf(key string) string {
	if env, ok := p.fromEnv[key]; ok {
		return env
	}
	return key
}

// secret reads name or name_FILE. Problems never include the value: a message
// about a secret names the variable and, for a file, the path and the OS error.
func (p *parser) secret(name string, secret bool) string {
	v := p.getenv(name)
	path := p.getenv(name + "_FILE")
	if v != "" && path != "" {
		p.add(name, 0, "set either %s or %s_FILE, not both", name, name)
		return ""
	}
	key := name
	if path != "" {
		key = name + "_FILE"
		data, err := readSecretFile(path)
		if err != nil {
			p.add(key, 0, "%v", err)
			return ""
		}
		if secret {
			p.secretFiles = append(p.secretFiles, SecretFile{Name: key, Path: path})
		}
		v = strings.TrimRight(string(data), "\r\n")
		if v == "" {
			p.add(key, 0, "file %s is empty", quote(path))
			return ""
		}
	}
	if strings.IndexFunc(v, isSpaceOrControl) >= 0 {
		what := "value"
		if secret {
			what = "secret"
		}
		p.add(key, 0, "the %s contains spaces, line breaks or control characters", what)
		return ""
	}
	return v
}

func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("cannot read %s: is a directory", quote(path))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("file %s is larger than %d KiB; not a secret", quote(path), maxSecretFile>>10)
	}
	return data, nil
}
