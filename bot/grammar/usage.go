package grammar

import (
	"fmt"
	"slices"
	"strings"

	"liaisonbot/internal/textdist"
)

// Param is one parameter of a usage string.
type Param struct {
	Name     string   // "query", "mission", "sev"
	Option   bool     // written key:value
	Required bool     // <name> or key:<hint>, as opposed to [name] or [key:hint]
	Choices  []string // [open|all]: the words accepted
	Hint     string   // what the value looks like: "q", "1-4", "a,b"
	Rest     bool     // the last positional: takes every remaining word
}

// Usage is a parsed usage string such as
// "incident open mission:<q> [sev:1-4] [partners:a,b] <summary>".
type Usage struct {
	Path   []string // the command words: ["incident", "open"]
	Params []Param
	text   string
}

// String gives the usage as written at registration.
func (u *Usage) String() string { return u.text }

// Name is the command path joined by spaces: "incident open".
func (u *Usage) Name() string { return strings.Join(u.Path, " ") }

// ParseUsage reads a usage string. An error here is a programming mistake in a
// registration, not a user error.
func ParseUsage(s string) (*Usage, error) {
	u := &Usage{text: s}
	fields := strings.Fields(s)
	i := 0
	for ; i < len(fields); i++ {
		f := fields[i]
		if strings.ContainsAny(f, "<>[]:|") {
			break
		}
		u.Path = append(u.Path, strings.ToLower(f))
	}
	if len(u.Path) == 0 {
		return nil, fmt.Errorf("usage %q: no command word", s)
	}
	seen := map[string]bool{}
	lastPositional := -1
	for ; i < len(fields); i++ {
		p, err := parseParam(fields[i])
		if err != nil {
			return nil, fmt.Errorf("usage %q: %w", s, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("usage %q: parameter %q twice", s, p.Name)
		}
		seen[p.Name] = true
		if !p.Option {
			lastPositional = len(u.Params)
		}
		u.Params = append(u.Params, p)
	}
	if lastPositional >= 0 && u.Params[lastPositional].Choices == nil {
		u.Params[lastPositional].Rest = true
	}
	return u, nil
}

func parseParam(f string) (Param, error) {
	var p Param
	switch {
	case strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]"):
		f = f[1 : len(f)-1]
	case strings.HasPrefix(f, "<") && strings.HasSuffix(f, ">"):
		p.Required = true
		p.Name = f[1 : len(f)-1]
		if p.Name == "" {
			return p, fmt.Errorf("empty parameter %q", f)
		}
		return p, nil
	default:
		// key:<hint> is a required option.
		if k, v, ok := strings.Cut(f, ":"); ok && isOptionKey(k) {
			return Param{Name: strings.ToLower(k), Option: true, Required: true, Hint: strings.Trim(v, "<>")}, nil
		}
		return p, fmt.Errorf("cannot read parameter %q", f)
	}
	// Inside brackets: [name], [key:hint] or [a|b].
	if k, v, ok := strings.Cut(f, ":"); ok && isOptionKey(k) {
		return Param{Name: strings.ToLower(k), Option: true, Hint: strings.Trim(v, "<>")}, nil
	}
	if strings.Contains(f, "|") {
		p.Choices = strings.Split(f, "|")
		p.Name = strings.Join(p.Choices, "|")
		return p, nil
	}
	if f == "" || strings.ContainsAny(f, "<>") && !(strings.HasPrefix(f, "<") && strings.HasSuffix(f, ">")) {
		return p, fmt.Errorf("cannot read parameter %q", f)
	}
	p.Name = strings.Trim(f, "<>")
	return p, nil
}

// Args are the values of one command line, checked against a Usage.
//
// They are held by the parameter's place in the usage, in an array of the
// Args themselves: a map per command cost two allocations, and no command
// has more than a few parameters. A usage with more, and NewArgs, use the map.
type Args struct {
	usage  *Usage
	given  uint8 // bit i: usage.Params[i] was given, its value in inline[i]
	inline [maxInlineArgs]string
	values map[string]string
}

// maxInlineArgs is how many parameters Args holds without a map (one bit
// each in Args.given).
const maxInlineArgs = 4

// Get returns a parameter's value, "" when it was not given.
func (a Args) Get(name string) string {
	if i := a.inlineIndex(name); i >= 0 {
		return a.inline[i]
	}
	return a.values[name]
}

// Has reports whether a parameter was given.
func (a Args) Has(name string) bool {
	if i := a.inlineIndex(name); i >= 0 {
		return true
	}
	_, ok := a.values[name]
	return ok
}

// inlineIndex is the place of the parameter name in inline, -1 when it
// was not given or is not held there.
func (a *Args) inlineIndex(name string) int {
	if a.given == 0 {
		return -1
	}
	for i := range a.usage.Params {
		if a.given&(1<<i) != 0 && a.usage.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// set gives the parameter at index i of the usage its value.
func (a *Args) set(i int, value string) {
	if len(a.usage.Params) <= maxInlineArgs {
		a.inline[i] = value
		a.given |= 1 << i
		return
	}
	if a.values == nil {
		a.values = make(map[string]string, len(a.usage.Params))
	}
	a.values[a.usage.Params[i].Name] = value
}

// has reports whether the parameter at index i of the usage was given.
func (a *Args) has(i int) bool {
	if a.given&(1<<i) != 0 {
		return true
	}
	_, ok := a.values[a.usage.Params[i].Name]
	return ok
}

// NewArgs builds Args directly (for tests and for callers that already hold values).
func NewArgs(values map[string]string) Args { return Args{values: values} }

// option is the index in u.Params of the option key, -1 when there is none.
func (u *Usage) option(key string) int {
	for i := range u.Params {
		if u.Params[i].Option && u.Params[i].Name == key {
			return i
		}
	}
	return -1
}

// Bind matches the tokens that follow the command path against the usage.
// line is the original text the tokens came from, so that free text keeps its
// spacing and quotes when it was typed in one stretch.
func (u *Usage) Bind(line string, tokens []Token) (Args, error) {
	args := Args{usage: u}
	hasOptions := slices.ContainsFunc(u.Params, func(p Param) bool { return p.Option })
	hasRest := slices.ContainsFunc(u.Params, func(p Param) bool { return p.Rest })
	// The words of an ordinary line fit in an array on the stack.
	var wordsBuf [16]Token
	words := wordsBuf[:0]
	for _, t := range tokens {
		if t.IsOption() {
			if i := u.option(t.Key); i >= 0 {
				p := &u.Params[i]
				if args.has(i) {
					return args, errorf("option %s: given twice", p.Name)
				}
				if strings.TrimSpace(t.Value) == "" {
					return args, errorf("option %s: needs a value (%s:%s)", p.Name, p.Name, p.Hint)
				}
				args.set(i, t.Value)
				continue
			}
			// A key:value that is not an option: a typo of one is worth
			// naming; otherwise it is free text where the command takes some.
			if guess := u.near(t.Key); guess != "" {
				return args, errorf("unknown option %s: (did you mean %s:?)", t.Key, guess)
			}
			if !hasRest {
				if hasOptions {
					return args, errorf("unknown option %s:", t.Key)
				}
				return args, errorf("unexpected %q", t.Text)
			}
		}
		words = append(words, t)
	}
	wi := 0
	for i, p := range u.Params {
		if p.Option {
			continue
		}
		switch {
		case p.Choices != nil:
			if wi < len(words) && !words[wi].Quoted && slices.Contains(p.Choices, strings.ToLower(words[wi].Text)) {
				args.set(i, strings.ToLower(words[wi].Text))
				wi++
			}
		case p.Rest:
			if wi < len(words) {
				args.set(i, joinWords(line, words[wi:]))
				wi = len(words)
			}
		default:
			if wi < len(words) {
				args.set(i, words[wi].Text)
				wi++
			}
		}
	}
	if wi < len(words) {
		return args, errorf("unexpected %q", words[wi].Text)
	}
	for i, p := range u.Params {
		if p.Required && !args.has(i) {
			if p.Option {
				return args, errorf("missing %s:%s", p.Name, p.Hint)
			}
			return args, errorf("missing <%s>", p.Name)
		}
	}
	return args, nil
}

// joinWords returns the words as typed when they were one contiguous stretch
// of the line (options only before or after), else joined by single spaces.
func joinWords(line string, words []Token) string {
	start, end := words[0].Start, words[len(words)-1].End
	contiguous := start >= 0 && end <= len(line)
	if contiguous {
		// Contiguous unless an option token sits between the first and last word.
		for i := 1; i < len(words); i++ {
			gap := line[words[i-1].End:words[i].Start]
			if strings.TrimSpace(gap) != "" {
				contiguous = false
				break
			}
		}
	}
	if contiguous {
		return strings.TrimSpace(line[start:end])
	}
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = w.Text
	}
	return strings.Join(parts, " ")
}

// near finds a declared option within one or two edits of key, to turn a typo
// like "misson:" into a helpful error instead of silent free text. Of two
// as near, the first declared wins.
func (u *Usage) near(key string) string {
	best, bestDist := "", 3
	for _, p := range u.Params {
		if !p.Option {
			continue
		}
		if d := textdist.Levenshtein(key, p.Name); d < bestDist && d <= max(1, len(p.Name)/4) {
			best, bestDist = p.Name, d
		}
	}
	return best
}
