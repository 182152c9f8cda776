package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var (
	// Mattermost's trigger-word rules, which Slack's command names also satisfy.
	commandRE = regexp.MustCompile(`^[a-z0-9_./-]{1,128}$`)
	// Partner and team ids are typed in commands ("partners:mpd,uspp",
	// "shift who watch") and used in roles ("partner:mpd"), so they are words.
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

func (p *parser) validate(c *Config) {
	p.validateTop(c)
	p.validatePlatforms(c)
	p.validateStore(c)
	owners := p.validatePartners(c)
	p.validateTeams(c, owners)
}

func (p *parser) validateTop(c *Config) {
	// People write the command as they type it; the slash is not part of
	// the name.
	c.Command = strings.TrimPrefix(c.Command, "/")
	if !commandRE.MatchString(c.Command) || strings.HasPrefix(c.Command, "/") {
		k := p.keyOf("command")
		p.addKey(k, "invalid command name %s: use 1 to 128 of a-z 0-9 _ . / - (lower case, no spaces)", quote(c.Command))
	}
	if c.PublicURL != "" {
		k := p.keyOf("public_url")
		if err := checkURL(c.PublicURL); err != nil {
			p.addKey(k, "%v", err)
		} else {
			c.PublicURL = strings.TrimRight(c.PublicURL, "/")
		}
	}
	if err := checkHostPort(c.Listen, false); err != nil {
		p.addKey(p.keyOf("listen"), "%v", err)
	}
	if strings.ContainsRune(c.DB, 0) {
		p.addKey(p.keyOf("db"), "file name contains a NUL byte")
	}
}

func (p *parser) validatePlatforms(c *Config) {
	s := &c.Slack
	if s.APIURL != DefaultSlackAPIURL {
		if err := checkURL(s.APIURL); err != nil {
			p.addKey(EnvSlackAPIURL, "%v", err)
		} else if !strings.HasSuffix(s.APIURL, "/") {
			// Callers append method names ("chat.postMessage").
			s.APIURL += "/"
		}
	}
	switch {
	case s.BotToken != "" && s.AppToken == "" && s.SigningSecret == "":
		p.addKey(EnvSlackSigningSecret, "required with %s in HTTP mode, to verify Slack's requests (or set %s for Socket Mode)", EnvSlackBotToken, EnvSlackAppToken)
	case s.BotToken == "" && s.AppToken != "":
		p.addKey(EnvSlackBotToken, "required when %s is set", EnvSlackAppToken)
	}
	// A signing secret alone is a valid, smaller deployment: slash commands
	// are answered in the HTTP response or through response_url; only posts
	// (incident threads, digests) need the bot token, and the outbox keeps
	// them, visible, until one is set.

	m := &c.Mattermost
	if m.URL != "" {
		if err := checkURL(m.URL); err != nil {
			p.addKey(p.keyOf("mattermost.url"), "%v", err)
		} else {
			// Callers append "/api/v4/…".
			m.URL = strings.TrimRight(m.URL, "/")
		}
	}
	if strings.IndexFunc(m.Team, isSpaceOrControl) >= 0 {
		p.addKey(p.keyOf("mattermost.team"), "team %s contains a space or control character", quote(m.Team))
	}
	switch {
	case m.URL == "" && m.BotToken != "":
		p.addKey(EnvMattermostURL, "required when %s is set (or set mattermost.url)", EnvMattermostBotToken)
	case m.URL == "" && m.CommandToken != "":
		p.addKey(EnvMattermostURL, "required when %s is set (or set mattermost.url)", EnvMattermostCommandToken)
	}
	// A command token alone serves the slash command (answers go in the
	// response); posting and thread replies need the bot token.
}

func (p *parser) validateStore(c *Config) {
	e := &c.Etcd
	switch c.Store {
	case "bbolt":
	case "etcd":
		if len(e.Endpoints) == 0 {
			k := "etcd.endpoints"
			line := p.lines[k]
			if line == 0 && p.keyOf("store") == "store" {
				line = p.lines["store"]
			}
			p.add(k, line, "required when store is etcd")
		}
	default:
		p.addKey("store", "unknown store %s: use bbolt or etcd", quote(c.Store))
	}
	for i, ep := range e.Endpoints {
		if err := checkEndpoint(ep); err != nil {
			p.addKey(index("etcd.endpoints", i), "%v", err)
		}
	}
	if strings.TrimSpace(e.Prefix) == "" || strings.IndexFunc(e.Prefix, isSpaceOrControl) >= 0 {
		p.addKey("etcd.prefix", "prefix %s must be non-empty without spaces (default %s)", quote(e.Prefix), DefaultEtcdPrefix)
	}
	if (e.TLS.Cert == "") != (e.TLS.Key == "") {
		k := "etcd.tls.key"
		if e.TLS.Cert == "" {
			k = "etcd.tls.cert"
		}
		p.add(k, p.lines["etcd.tls"], "cert and key go together: set both or neither")
	}
	switch {
	case e.User != "" && e.Password == "":
		p.addKey(EnvEtcdPassword, "required when %s is set", EnvEtcdUser)
	case e.User == "" && e.Password != "":
		p.addKey(EnvEtcdUser, "required when %s is set", EnvEtcdPassword)
	}
}

// owner records who claimed a channel first.
type owner struct {
	key  string // the channel entry's key path
	who  string // "partners[0] (mpd)"
	team bool
}

func (p *parser) validatePartners(c *Config) map[Channel]owner {
	owners := map[Channel]owner{}
	ids := map[string]string{} // lower-case id -> key of first use
	for i := range c.Partners {
		pt := &c.Partners[i]
		pk := p.partnerKeys[i]
		p.checkID(pt.ID, pk, "partner", ids)
		who := fmt.Sprintf("%s (%s)", pk, pt.ID)
		if len(p.partnerChans[i]) == 0 && p.lines[pk+".channels[0]"] == 0 {
			k := pk + ".channels"
			line := p.lines[k]
			if line == 0 {
				line = p.lines[pk]
			}
			p.add(k, line, "a partner needs at least one shared channel")
		}
		for _, r := range p.partnerChans[i] {
			if o, ok := owners[r.ch]; ok {
				if o.who == who {
					p.addKey(r.key, "%s is listed twice (also %s)", r.ch, o.key)
				} else {
					p.addKey(r.key, "%s is already %s's shared channel: a channel belongs to one partner", r.ch, o.who)
				}
				continue
			}
			owners[r.ch] = owner{key: r.key, who: who}
		}
	}
	return owners
}

func (p *parser) validateTeams(c *Config, owners map[Channel]owner) {
	ids := map[string]string{}
	zones := map[string]*time.Location{}
	for i := range c.Teams {
		t := &c.Teams[i]
		tk := p.teamKeys[i]
		p.checkID(t.ID, tk, "team", ids)
		who := fmt.Sprintf("%s (%s)", tk, t.ID)

		loc, ok := zones[t.Timezone]
		if !ok {
			loc = loadZone(t.Timezone)
			zones[t.Timezone] = loc
		}
		if loc == nil {
			p.addKey(tk+".timezone", "unknown time zone %s: use an IANA name such as America/New_York or UTC", quote(t.Timezone))
			loc = time.UTC // a usable value in the Config returned with problems
		}
		t.Location = loc

		if len(p.teamChans[i]) == 0 && p.lines[tk+".channels[0]"] == 0 {
			k := tk + ".channels"
			line := p.lines[k]
			if line == 0 {
				line = p.lines[tk]
			}
			p.add(k, line, "a team needs at least one channel for its reminders and digests")
		}
		for _, r := range p.teamChans[i] {
			o, ok := owners[r.ch]
			switch {
			case !ok:
				owners[r.ch] = owner{key: r.key, who: who, team: true}
			case o.who == who:
				p.addKey(r.key, "%s is listed twice (also %s)", r.ch, o.key)
			case o.team:
				p.addKey(r.key, "%s is already %s's channel: a channel belongs to one team", r.ch, o.who)
			default:
				// Digests carry the division's internal handoff notes.
				p.addKey(r.key, "%s is %s's shared channel: a team channel must be internal to the division", r.ch, o.who)
			}
		}

		for j, expr := range t.ShiftChanges {
			if expr == "" {
				continue // reported as an empty entry while decoding
			}
			if _, err := ParseShiftChange(expr, loc); err != nil {
				p.addKey(index(tk+".shift_changes", j), "bad cron expression %s: %v", quote(expr), err)
			}
		}
		if strings.IndexFunc(t.EscalateTo, isSpaceOrControl) >= 0 {
			p.addKey(tk+".escalate_to", "handle %s contains a space or control character", quote(t.EscalateTo))
		}
	}
}

// checkID checks a partner or team id: present, a word, and unique
// (case-insensitively, since commands match ids that way).
func (p *parser) checkID(id, itemKey, what string, seen map[string]string) {
	k := itemKey + ".id"
	switch {
	case id == "":
		line := p.lines[k]
		if line == 0 {
			line = p.lines[itemKey]
		}
		p.add(k, line, "missing: every %s needs an id", what)
		return
	case !idRE.MatchString(id):
		p.addKey(k, "%s id %s must be a word of letters, digits, _ . - (at most 64)", what, quote(id))
	}
	lower := strings.ToLower(id)
	if first, dup := seen[lower]; dup {
		p.addKey(k, "%s id %s is used twice (first at %s)", what, quote(id), first)
		return
	}
	seen[lower] = k
}

// loadZone resolves an IANA zone name; nil when unknown. "Local" is refused:
// the team's shift changes must not depend on the host's zone.
func loadZone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

// checkURL accepts an absolute http(s) URL without credentials, query or
// fragment: it is a base that paths are appended to, and it is shown in Masked.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return fmt.Errorf("%s is not an absolute http(s) URL (e.g. https://liaison.example.gov)", quote(s))
	}
	if u.User != nil {
		return fmt.Errorf("URL %s must not carry a user or password", quote(u.Redacted()))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("URL %s must not have a query or fragment", quote(s))
	}
	return nil
}

// checkHostPort accepts "host:port" with a numeric port; needHost refuses an
// empty host (":2379" means nothing to a client).
func checkHostPort(s string, needHost bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%s is not host:port (e.g. 127.0.0.1:8080 or :8080)", quote(s))
	}
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("%s: port %s is not a number from 0 to 65535", quote(s), quote(port))
	}
	n := 0
	for _, d := range port {
		n = n*10 + int(d-'0')
	}
	if n > 65535 {
		return fmt.Errorf("%s: port %s is not a number from 0 to 65535", quote(s), quote(port))
	}
	if strings.IndexFunc(host, isSpaceOrControl) >= 0 {
		return fmt.Errorf("%s: host contains a space or control character", quote(s))
	}
	if needHost && host == "" {
		return fmt.Errorf("%s has no host", quote(s))
	}
	return nil
}

// checkEndpoint accepts an etcd endpoint as host:port or http(s)://host:port.
func checkEndpoint(s string) error {
	if strings.Contains(s, "://") {
		if err := checkURL(s); err != nil {
			return err
		}
		u, _ := url.Parse(s)
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("endpoint %s must not have a path", quote(s))
		}
		return nil
	}
	if err := checkHostPort(s, true); err != nil {
		return fmt.Errorf("endpoint %v", err)
	}
	return nil
}
