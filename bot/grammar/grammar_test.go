package grammar

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		line    string
		want    []string // Text of each token; options as key=value
		wantErr string
	}{
		{line: "contact canada", want: []string{"contact", "canada"}},
		{line: "  contact   cote d'ivoire  ", want: []string{"contact", "cote", "d'ivoire"}},
		{line: `incident open mission:"Embassy of Japan" sev:2 Crowd at gate`, want: []string{"incident", "open", "mission=Embassy of Japan", "sev=2", "Crowd", "at", "gate"}},
		{line: "office “New York”", want: []string{"office", "New York"}},
		{line: `note "say \"hi\""`, want: []string{"note", `say "hi"`}},
		{line: "update INC-1 at 12:30 see https://example.org", want: []string{"update", "INC-1", "at", "12:30", "see", "https=//example.org"}},
		{line: "", want: nil},
		{line: `office "unterminated`, wantErr: "never closed"},
		{line: strings.Repeat("a", MaxLineBytes+1), wantErr: "too long"},
		{line: strings.Repeat("a ", MaxTokens+1), wantErr: "too many words"},
		{line: "bad \xff utf8", wantErr: "UTF-8"},
	}
	for _, tt := range tests {
		toks, err := Tokenize(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Tokenize(%.40q) error = %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Tokenize(%q): %v", tt.line, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			if tk.IsOption() {
				got = append(got, tk.Key+"="+tk.Value)
			} else {
				got = append(got, tk.Text)
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestParseUsage(t *testing.T) {
	u, err := ParseUsage("incident open mission:<q> [sev:1-4] [partners:a,b] <summary>")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name() != "incident open" || len(u.Params) != 4 {
		t.Fatalf("got %q with %d params", u.Name(), len(u.Params))
	}
	if p := u.Params[0]; !p.Option || !p.Required || p.Name != "mission" {
		t.Errorf("mission param = %+v", p)
	}
	if p := u.Params[1]; !p.Option || p.Required || p.Hint != "1-4" {
		t.Errorf("sev param = %+v", p)
	}
	if p := u.Params[3]; p.Option || !p.Required || !p.Rest {
		t.Errorf("summary param = %+v", p)
	}
	for _, bad := range []string{"", "<x>", "cmd <a> <a>", "cmd [", "cmd <>"} {
		if _, err := ParseUsage(bad); err == nil {
			t.Errorf("ParseUsage(%q) accepted", bad)
		}
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		usage, line string
		want        map[string]string
		wantErr     string
	}{
		{usage: "contact <query>", line: "cote d'ivoire", want: map[string]string{"query": "cote d'ivoire"}},
		{usage: "contact <query>", line: "  japan   houston ", want: map[string]string{"query": "japan   houston"}},
		{usage: "contact <query>", line: "", wantErr: "missing <query>"},
		{usage: "emergency", line: "now", wantErr: `unexpected "now"`},
		{usage: "incident open mission:<q> [sev:1-4] [partners:a,b] <summary>",
			line: `mission:"Embassy of Japan" sev:2 Crowd at "north" gate`,
			want: map[string]string{"mission": "Embassy of Japan", "sev": "2", "summary": `Crowd at "north" gate`}},
		{usage: "incident open mission:<q> [sev:1-4] <summary>", line: "sev:2 Crowd", wantErr: "missing mission:q"},
		{usage: "incident open mission:<q> [sev:1-4] <summary>", line: "mission:japan", wantErr: "missing <summary>"},
		{usage: "incident open mission:<q> [sev:1-4] <summary>", line: "misson:japan crowd", wantErr: "did you mean mission:"},
		{usage: "incident open mission:<q> [sev:1-4] <summary>", line: "mission:japan mission:canada x", wantErr: "given twice"},
		{usage: "incident open mission:<q> [sev:1-4] <summary>", line: "mission: x", wantErr: "needs a value"},
		{usage: "incident update <id> <text>", line: "INC-2026-0001 see https://example.org now",
			want: map[string]string{"id": "INC-2026-0001", "text": "see https://example.org now"}},
		{usage: "incident list [open|all] [mission:<q>]", line: "all mission:japan", want: map[string]string{"open|all": "all", "mission": "japan"}},
		{usage: "incident list [open|all] [mission:<q>]", line: "", want: map[string]string{}},
		{usage: "incident list [open|all] [mission:<q>]", line: "closed", wantErr: `unexpected "closed"`},
		{usage: "incident list [open|all] [mission:<q>]", line: "foo:bar", wantErr: "unknown option foo:"},
		{usage: "help [subcommand]", line: "incident open", want: map[string]string{"subcommand": "incident open"}},
		// An empty quoted word is given, though its value is "".
		{usage: "note <id> [text]", line: `"" x`, want: map[string]string{"id": "", "text": "x"}},
		// More parameters than Args holds inline.
		{usage: "big a:<x> [b:<y>] [c:<z>] [d:<w>] <rest>", line: "d:4 a:1 free text", want: map[string]string{"a": "1", "d": "4", "rest": "free text"}},
		{usage: "big a:<x> [b:<y>] [c:<z>] [d:<w>] <rest>", line: "a:1 a:2 x", wantErr: "given twice"},
		{usage: "big a:<x> [b:<y>] [c:<z>] [d:<w>] <rest>", line: "b:1 x", wantErr: "missing a:x"},
	}
	for _, tt := range tests {
		u, err := ParseUsage(tt.usage)
		if err != nil {
			t.Fatal(err)
		}
		toks, err := Tokenize(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		args, err := u.Bind(tt.line, toks)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s / %q: error = %v, want %q", tt.usage, tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s / %q: %v", tt.usage, tt.line, err)
			continue
		}
		if got := given(u, args); len(got) != len(tt.want) {
			t.Errorf("%s / %q: got %v, want %v", tt.usage, tt.line, got, tt.want)
		}
		for k, v := range tt.want {
			if args.Get(k) != v {
				t.Errorf("%s / %q: %s = %q, want %q", tt.usage, tt.line, k, args.Get(k), v)
			}
		}
	}
}

func TestArgsOutsideBind(t *testing.T) {
	var zero Args
	if zero.Has("query") || zero.Get("query") != "" {
		t.Errorf("zero Args has a query")
	}
	a := NewArgs(map[string]string{"query": "canada", "empty": ""})
	if a.Get("query") != "canada" || !a.Has("empty") || a.Has("other") {
		t.Errorf("NewArgs: query %q, empty %v, other %v", a.Get("query"), a.Has("empty"), a.Has("other"))
	}
}

// given lists the parameters of u that args has, by name.
func given(u *Usage, args Args) map[string]string {
	out := map[string]string{}
	for _, p := range u.Params {
		if args.Has(p.Name) {
			out[p.Name] = args.Get(p.Name)
		}
	}
	return out
}

func FuzzTokenizeBind(f *testing.F) {
	for _, s := range []string{"contact canada", `mission:"Embassy of Japan" sev:2 x`, `"`, "a:b:c", "“x”", "\\\"", "k:\"v\\\"", "mission:japan misson:x"} {
		f.Add(s)
	}
	u, err := ParseUsage("incident open mission:<q> [sev:1-4] [partners:a,b] <summary>")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		toks, err := Tokenize(line)
		if err != nil {
			return
		}
		if len(toks) > MaxTokens {
			t.Fatalf("%d tokens", len(toks))
		}
		for _, tk := range toks {
			if tk.Start < 0 || tk.End > len(line) || tk.Start >= tk.End {
				t.Fatalf("token %+v out of line of %d bytes", tk, len(line))
			}
		}
		args, err := u.Bind(line, toks)
		if err == nil && args.Get("mission") == "" {
			t.Fatalf("bound without the required mission: %q", line)
		}
	})
}

// tokenizeReference is Tokenize as it was before its fast paths (each token
// built rune by rune), kept as the oracle they must agree with.
func tokenizeReference(line string) []Token {
	var tokens []Token
	i := 0
	for {
		for i < len(line) {
			r, size := utf8.DecodeRuneInString(line[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		if i >= len(line) {
			return tokens
		}
		var b strings.Builder
		quoted, colon, start := false, -1, i
		for i < len(line) {
			r, size := utf8.DecodeRuneInString(line[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += size
			if isQuote(r) {
				quoted = true
				for i < len(line) {
					r, size = utf8.DecodeRuneInString(line[i:])
					i += size
					if isQuote(r) {
						break
					}
					if r == '\\' && i < len(line) {
						r, size = utf8.DecodeRuneInString(line[i:])
						i += size
					}
					b.WriteRune(r)
				}
				continue
			}
			if r == ':' && colon < 0 && !quoted {
				colon = b.Len()
			}
			b.WriteRune(r)
		}
		tok := Token{Text: b.String(), Quoted: quoted, Start: start, End: i}
		if colon > 0 && isOptionKey(tok.Text[:colon]) {
			tok.Key, tok.Value = strings.ToLower(tok.Text[:colon]), tok.Text[colon+1:]
		}
		tokens = append(tokens, tok)
	}
}

// The fast paths (a plain token as a substring, a quoted one measured then
// built) must give what building every token rune by rune gives.
var referenceLines = []string{
	"contact canada", "CONTACT Canada", "contact Côte d'Ivoire", "office “New York”", "office „Berlin“ now",
	`mission:"Embassy of Japan" sev:2 x`, `Mission:"Japan" SEV:2`, `note "say \"hi\""`, `a"b c"d:e`, `k:v:w`,
	"contact\u00a0canada\u2003now", "x\u0085y", "\tcontact\n canada\r", `""`, `key:""`, `"a\\" b`, `é:x ab:é`,
	"12:30 https://example.org", `k:"v\`, "a:b:c", `"\`, "tab\there", `:x`, "ü", `"“x”"`,
}

func TestTokenizeMatchesReference(t *testing.T) {
	for _, line := range referenceLines {
		checkAgainstReference(t, line)
	}
}

func FuzzTokenizeMatchesReference(f *testing.F) {
	for _, line := range referenceLines {
		f.Add(line)
	}
	f.Fuzz(checkAgainstReference)
}

func checkAgainstReference(t *testing.T, line string) {
	got, err := Tokenize(line)
	if err != nil {
		return // the limits and the unclosed quote are tested on their own
	}
	if want := tokenizeReference(line); !slices.Equal(got, want) {
		t.Errorf("Tokenize(%q) =\n%+v\nwant\n%+v", line, got, want)
	}
}
