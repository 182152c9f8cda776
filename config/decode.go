package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"liaisonbot/internal/textdist"
)

// The file is decoded into a yaml.Node and walked against the schema by hand,
// rather than unmarshalled with KnownFields, so that every problem can name its
// full key path and line, wrong types included, and so that decoding goes on
// after the first mistake.

// nodeBudget bounds how many nodes one parse visits. Anchors and aliases can
// make a small file expand without bound ("billion laughs"), and the walk
// follows aliases, so it counts every node it visits. A real configuration has
// hundreds of values.
const nodeBudget = 250_000

// maxProblems bounds the report: past it the file is hopeless, and a crafted
// one must not make the report itself huge.
const maxProblems = 200

// maxMergeDepth bounds "<<" merges of merges (and alias cycles through them).
const maxMergeDepth = 32

type parser struct {
	getenv func(string) string
	probs  Problems

	// lines maps a key path to the line it was written at, for problems found
	// after decoding (duplicates, cross-references).
	lines map[string]int
	// fromEnv maps a key path to the environment variable that overrode it, so
	// that a bad value is reported under the name the operator actually set.
	fromEnv map[string]string

	budget    int
	exhausted bool // stop walking: budget spent or too many problems
	tooMany   bool
	decoding  bool // walking the file, as opposed to validating the result

	partnerKeys  []string    // key path of each decoded partner, parallel to Config.Partners
	partnerChans [][]chanRef // its channels with their key paths
	teamKeys     []string
	teamChans    [][]chanRef

	secretFiles []SecretFile // NAME_FILE settings read
}

type chanRef struct {
	ch  Channel
	key string
}

func build(data []byte, name string, fileProblem *Problem, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	p := &parser{
		getenv:  getenv,
		lines:   map[string]int{},
		fromEnv: map[string]string{},
		budget:  nodeBudget,
	}
	c := &Config{Path: name}
	switch {
	case fileProblem != nil:
		p.probs = append(p.probs, *fileProblem)
	case len(data) > MaxFileSize:
		p.probs = append(p.probs, tooLarge())
	default:
		p.decoding = true
		p.decode(data, c)
		p.decoding = false
	}
	p.defaults(c)
	p.environment(c)
	c.SecretFiles = p.secretFiles
	p.validate(c)
	if len(p.probs) == 0 {
		return c, nil
	}
	return c, p.sorted()
}

func tooLarge() Problem {
	return Problem{Message: fmt.Sprintf("config file is larger than %d KiB (1 MiB); refusing to read it", MaxFileSize>>10)}
}

// readFile reads at most MaxFileSize+1 bytes, so that a huge or endless file
// (a device, a pipe) is refused without being read whole.
func readFile(path string) ([]byte, *Problem) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Problem{Message: "cannot read config file: " + err.Error()}
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &Problem{Message: fmt.Sprintf("config file %s is a directory", quote(path))}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Problem{Message: "cannot read config file: " + err.Error()}
	}
	if len(data) > MaxFileSize {
		pr := tooLarge()
		return nil, &pr
	}
	return data, nil
}

func (p *parser) add(key string, line int, format string, args ...any) {
	if p.tooMany || (p.decoding && p.exhausted) {
		// Past the budget every remaining value looks missing; saying so
		// would bury the one problem that matters.
		return
	}
	if len(p.probs) >= maxProblems {
		p.tooMany, p.exhausted = true, true
		p.probs = append(p.probs, Problem{Message: fmt.Sprintf("more than %d problems; fix these first", maxProblems)})
		return
	}
	p.probs = append(p.probs, Problem{Key: key, Line: line, Message: oneLine(fmt.Sprintf(format, args...))})
}

// maxMessage bounds one problem's message; values in it are clipped already,
// but library errors may echo their input whole.
const maxMessage = 1000

// oneLine keeps a message on one line (Problems renders one problem per line)
// and bounded, whatever a library error echoed into it.
func oneLine(s string) string {
	if strings.IndexFunc(s, breaksLine) >= 0 {
		var b strings.Builder
		for _, r := range s {
			if breaksLine(r) {
				q := strconv.QuoteRune(r)
				b.WriteString(q[1 : len(q)-1])
				continue
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	return clip(s, maxMessage)
}

func breaksLine(r rune) bool {
	return unicode.IsControl(r) || r == 0x2028 || r == 0x2029
}

// sorted orders problems as an operator reads the file: problems with the
// file as a whole first, then by line, then those from the environment.
func (p *parser) sorted() Problems {
	rank := func(pr Problem) int {
		switch {
		case pr.Key == "" && pr.Line == 0:
			return 0
		case pr.Line > 0:
			return pr.Line
		default:
			return 1 << 30
		}
	}
	ps := p.probs
	if p.tooMany { // the "more than N problems" note stays last
		ps = ps[:len(ps)-1]
	}
	sort.SliceStable(ps, func(i, j int) bool { return rank(ps[i]) < rank(ps[j]) })
	return p.probs
}

// addKey adds a problem at key, at the line key was written at if it came from
// the file.
func (p *parser) addKey(key string, format string, args ...any) {
	p.add(key, p.lines[key], format, args...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax turns a YAML parser error into a problem, lifting its line number.
func (p *parser) syntax(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		p.add("", n, "bad YAML: %s", m[2])
		return
	}
	p.add("", 0, "bad YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

func (p *parser) decode(data []byte, c *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) { // EOF: empty or only comments, all defaults
			p.syntax(err)
		}
		return
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntax(err)
	default:
		p.add("", next.Line, "more than one YAML document (---): a config file holds one")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	p.root(root, c)
}

// spend charges one node to the budget and reports whether walking may go on.
func (p *parser) spend() bool {
	if p.exhausted {
		return false
	}
	p.budget--
	if p.budget < 0 {
		p.add("", 0, "the file expands to more than %d values (anchors and aliases?); refusing to go on", nodeBudget)
		p.exhausted = true
		return false
	}
	return true
}

// deref follows aliases; nil means "nothing there" (or the budget ran out).
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxMergeDepth {
			return nil
		}
		n = n.Alias
	}
	if n == nil || !p.spend() {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "true/false"
		case "!!null":
			return "nothing"
		}
		return "a string"
	}
	return "something else"
}

func (p *parser) wrongType(key string, line int, n *yaml.Node, want string) {
	p.add(key, line, "expected %s, got %s", want, describe(n))
}

// joinKey appends a mapping key to a path, quoting keys that are not plain
// words so that a strange key cannot garble the message.
func joinKey(path, name string) string {
	if !plainKey.MatchString(name) {
		name = quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// fields maps the known keys of a mapping to what decodes their value; the
// function gets the value node and its full key path.
type fields map[string]func(v *yaml.Node, key string)

// hints explain keys that are deliberately not in the file: secrets and other
// values that only the environment holds.
var hints = map[string]string{
	"slack.bot_token":          "secrets come from the environment: set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE",
	"slack.signing_secret":     "secrets come from the environment: set SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE",
	"slack.app_token":          "secrets come from the environment: set SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE",
	"slack.api_url":            "set SLACK_API_URL in the environment",
	"mattermost.bot_token":     "secrets come from the environment: set MATTERMOST_BOT_TOKEN or MATTERMOST_BOT_TOKEN_FILE",
	"mattermost.command_token": "secrets come from the environment: set MATTERMOST_COMMAND_TOKEN or MATTERMOST_COMMAND_TOKEN_FILE",
	"etcd.user":                "set LIAISON_ETCD_USER in the environment",
	"etcd.password":            "secrets come from the environment: set LIAISON_ETCD_PASSWORD or LIAISON_ETCD_PASSWORD_FILE",
	"incidents.catchup_window": "catchup_window belongs under handoff",
	"handoff.stale_after":      "stale_after belongs under incidents",
}

var listIndex = regexp.MustCompile(`\[\d+\]`)

// unknown reports a key the schema does not have, with a hint or the closest
// known key.
func (p *parser) unknown(key string, line int, name string, known fields) {
	msg := "unknown key"
	if h, ok := hints[listIndex.ReplaceAllString(key, "[]")]; ok {
		msg += " (" + h + ")"
	} else if best := closest(name, known); best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	p.add(key, line, "%s", msg)
}

// closest returns the known key within edit distance 2 of name, if any.
func closest(name string, known fields) string {
	if len(name) > 64 {
		return ""
	}
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := textdist.Levenshtein(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

type entry struct {
	k, v   *yaml.Node
	merged bool
}

// entries lists a mapping's key/value pairs with YAML merge keys ("<<: *base")
// expanded: keys written in the mapping win over merged ones, and among merged
// mappings the earlier wins.
func (p *parser) entries(m *yaml.Node, key string, depth int) []entry {
	var own []entry
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		own = append(own, entry{k: k, v: v})
	}
	if len(merges) == 0 {
		return own
	}
	if depth >= maxMergeDepth {
		p.add(key, m.Line, "merge keys (<<) nested too deeply")
		return own
	}
	have := map[string]bool{}
	for _, e := range own {
		if e.k.Kind == yaml.ScalarNode {
			have[e.k.Value] = true
		}
	}
	out := own
	addFrom := func(src *yaml.Node, line int) {
		s := p.deref(src)
		if s == nil {
			return
		}
		if s.Kind != yaml.MappingNode {
			p.add(key, line, "a merge key (<<) must refer to a mapping, got %s", describe(s))
			return
		}
		for _, e := range p.entries(s, key, depth+1) {
			if !p.spend() {
				return
			}
			name := ""
			if e.k.Kind == yaml.ScalarNode {
				name = e.k.Value
				if have[name] {
					continue
				}
				have[name] = true
			}
			e.merged = true
			out = append(out, e)
		}
	}
	for _, v := range merges {
		d := p.deref(v)
		if d != nil && d.Kind == yaml.SequenceNode {
			for _, item := range d.Content {
				addFrom(item, v.Line)
			}
			continue
		}
		addFrom(v, v.Line)
	}
	return out
}

// mapping walks a mapping node against its known fields. A null value is an
// empty mapping.
func (p *parser) mapping(n *yaml.Node, key string, line int, fs fields) {
	m := p.deref(n)
	if isNull(m) {
		return
	}
	if m.Kind != yaml.MappingNode {
		p.wrongType(displayKey(key), line, m, "a mapping")
		return
	}
	seen := map[string]int{}
	for _, e := range p.entries(m, key, 0) {
		if p.exhausted {
			return
		}
		k := p.deref(e.k)
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			p.add(joinKey(key, "?"), e.k.Line, "keys must be plain names, got %s", describe(k))
			continue
		}
		name := k.Value
		ck := joinKey(key, name)
		if !e.merged {
			if first, dup := seen[name]; dup {
				p.add(ck, e.k.Line, "set twice (first at line %d)", first)
				continue
			}
			seen[name] = e.k.Line
		}
		fn, ok := fs[name]
		if !ok {
			p.unknown(ck, e.k.Line, name, fs)
			continue
		}
		p.lines[ck] = e.k.Line
		fn(e.v, ck)
	}
}

// displayKey names the root for type errors about the whole document.
func displayKey(key string) string {
	if key == "" {
		return "(top level)"
	}
	return key
}

// list walks a sequence; a null value is an empty list. It records each item's
// line under its key path.
func (p *parser) list(n *yaml.Node, key string) []*yaml.Node {
	m := p.deref(n)
	if isNull(m) {
		return nil
	}
	if m.Kind != yaml.SequenceNode {
		p.wrongType(key, p.lines[key], m, "a list")
		return nil
	}
	for i, item := range m.Content {
		p.lines[index(key, i)] = item.Line
	}
	return m.Content
}

// str decodes a scalar as a string; ok is false for null (not set) and for a
// wrong type (reported).
func (p *parser) str(n *yaml.Node, key string) (string, bool) {
	m := p.deref(n)
	if isNull(m) {
		return "", false
	}
	if m.Kind != yaml.ScalarNode {
		p.wrongType(key, p.lines[key], m, "a string")
		return "", false
	}
	return m.Value, true
}

// item decodes one list entry as a string; an empty entry is a problem.
func (p *parser) item(n *yaml.Node, key string) (string, bool) {
	m := p.deref(n)
	if isNull(m) {
		p.addKey(key, "empty entry")
		return "", false
	}
	s, ok := p.str(m, key)
	if ok && strings.TrimSpace(s) == "" {
		p.addKey(key, "empty entry")
		return "", false
	}
	return s, ok
}

// words decodes a list of plain words (team ids, handles).
func (p *parser) words(n *yaml.Node, key string) []string {
	var out []string
	for i, it := range p.list(n, key) {
		ik := index(key, i)
		s, ok := p.item(it, ik)
		if !ok {
			continue
		}
		if strings.IndexFunc(s, isSpaceOrControl) >= 0 {
			p.addKey(ik, "%s contains a space or control character", quote(s))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) duration(n *yaml.Node, key string) (Duration, bool) {
	s, ok := p.str(n, key)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(strings.TrimSpace(s))
	if err != nil {
		p.addKey(key, "bad duration %s: write a number with a unit, e.g. 30m, 2h, 90s, 400d", quote(s))
		return 0, false
	}
	if d <= 0 {
		p.addKey(key, "duration %s must be positive", quote(s))
		return 0, false
	}
	return Duration(d), true
}

func (p *parser) channels(n *yaml.Node, key string) []chanRef {
	var out []chanRef
	for i, it := range p.list(n, key) {
		ik := index(key, i)
		s, ok := p.item(it, ik)
		if !ok {
			continue
		}
		ch, err := ParseChannel(s)
		if err != nil {
			p.addKey(ik, "%v", err)
			continue
		}
		out = append(out, chanRef{ch: ch, key: ik})
	}
	return out
}

func (p *parser) strField(dst *string) func(*yaml.Node, string) {
	return func(v *yaml.Node, k string) {
		if s, ok := p.str(v, k); ok {
			*dst = s
		}
	}
}

func (p *parser) root(n *yaml.Node, c *Config) {
	p.mapping(n, "", n.Line, fields{
		"command":    p.strField(&c.Command),
		"public_url": p.strField(&c.PublicURL),
		"listen":     p.strField(&c.Listen),
		"db":         p.strField(&c.DB),
		"store":      p.strField(&c.Store),
		"slack": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"internal_teams": func(v *yaml.Node, k string) { c.Slack.InternalTeams = p.words(v, k) },
			})
		},
		"mattermost": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"url":            p.strField(&c.Mattermost.URL),
				"team":           p.strField(&c.Mattermost.Team),
				"internal_teams": func(v *yaml.Node, k string) { c.Mattermost.InternalTeams = p.words(v, k) },
			})
		},
		"roles": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"admins": func(v *yaml.Node, k string) {
					for _, r := range p.channels(v, k) {
						c.Roles.Admins = append(c.Roles.Admins, r.ch.String())
					}
				},
			})
		},
		"partners": func(v *yaml.Node, k string) {
			for i, it := range p.list(v, k) {
				p.partner(it, index(k, i), c)
			}
		},
		"teams": func(v *yaml.Node, k string) {
			for i, it := range p.list(v, k) {
				p.team(it, index(k, i), c)
			}
		},
		"incidents": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"stale_after": func(v *yaml.Node, k string) {
					if d, ok := p.duration(v, k); ok {
						c.Incidents.StaleAfter = d
					}
				},
			})
		},
		"audit": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"retention": func(v *yaml.Node, k string) {
					if d, ok := p.duration(v, k); ok {
						if d < Duration(24*time.Hour) {
							p.addKey(k, "retention %s is under a day: the audit is the record of who did what; write e.g. 400d, or leave it out to keep everything", quote(d.String()))
							return
						}
						c.Audit.Retention = d
					}
				},
			})
		},
		"handoff": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"catchup_window": func(v *yaml.Node, k string) {
					if d, ok := p.duration(v, k); ok {
						c.Handoff.CatchupWindow = d
					}
				},
			})
		},
		"etcd": func(v *yaml.Node, k string) {
			p.mapping(v, k, p.lines[k], fields{
				"endpoints": func(v *yaml.Node, k string) { c.Etcd.Endpoints = p.words(v, k) },
				"prefix":    p.strField(&c.Etcd.Prefix),
				"tls": func(v *yaml.Node, k string) {
					p.mapping(v, k, p.lines[k], fields{
						"ca":   p.strField(&c.Etcd.TLS.CA),
						"cert": p.strField(&c.Etcd.TLS.Cert),
						"key":  p.strField(&c.Etcd.TLS.Key),
					})
				},
			})
		},
	})
}

func (p *parser) partner(n *yaml.Node, key string, c *Config) {
	m := p.deref(n)
	if isNull(m) || m.Kind != yaml.MappingNode {
		if m != nil {
			p.wrongType(key, p.lines[key], m, "a mapping (id, name, oncall, channels)")
		}
		return
	}
	var pt Partner
	var chans []chanRef
	p.mapping(m, key, p.lines[key], fields{
		"id":     p.strField(&pt.ID),
		"name":   p.strField(&pt.Name),
		"oncall": p.strField(&pt.Oncall),
		"channels": func(v *yaml.Node, k string) {
			chans = p.channels(v, k)
		},
	})
	for _, r := range chans {
		pt.Channels = append(pt.Channels, r.ch)
	}
	c.Partners = append(c.Partners, pt)
	p.partnerKeys = append(p.partnerKeys, key)
	p.partnerChans = append(p.partnerChans, chans)
}

func (p *parser) team(n *yaml.Node, key string, c *Config) {
	m := p.deref(n)
	if isNull(m) || m.Kind != yaml.MappingNode {
		if m != nil {
			p.wrongType(key, p.lines[key], m, "a mapping (id, name, timezone, channels, …)")
		}
		return
	}
	var t Team
	var chans []chanRef
	p.mapping(m, key, p.lines[key], fields{
		"id":       p.strField(&t.ID),
		"name":     p.strField(&t.Name),
		"timezone": p.strField(&t.Timezone),
		"channels": func(v *yaml.Node, k string) { chans = p.channels(v, k) },
		"shift_changes": func(v *yaml.Node, k string) {
			for i, it := range p.list(v, k) {
				ik := index(k, i)
				if s, ok := p.item(it, ik); ok {
					t.ShiftChanges = append(t.ShiftChanges, s)
				} else {
					// Keep indexes aligned with the file for later messages.
					t.ShiftChanges = append(t.ShiftChanges, "")
				}
			}
		},
		"remind_before": func(v *yaml.Node, k string) { t.RemindBefore, _ = p.duration(v, k) },
		"ack_within":    func(v *yaml.Node, k string) { t.AckWithin, _ = p.duration(v, k) },
		"escalate_to":   p.strField(&t.EscalateTo),
		"leads":         func(v *yaml.Node, k string) { t.Leads = p.words(v, k) },
	})
	for _, r := range chans {
		t.Channels = append(t.Channels, r.ch)
	}
	c.Teams = append(c.Teams, t)
	p.teamKeys = append(p.teamKeys, key)
	p.teamChans = append(p.teamChans, chans)
}

// isSpaceOrControl reports runes that never belong in an id, a handle or an
// endpoint (and would garble one-line messages).
func isSpaceOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
}

// parseDuration is time.ParseDuration, plus whole days ("400d"), which a
// retention is naturally written in.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*366 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
