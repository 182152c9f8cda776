package grammar

import (
	"strings"
	"testing"
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
		if len(args.values) != len(tt.want) {
			t.Errorf("%s / %q: got %v, want %v", tt.usage, tt.line, args.values, tt.want)
		}
		for k, v := range tt.want {
			if args.Get(k) != v {
				t.Errorf("%s / %q: %s = %q, want %q", tt.usage, tt.line, k, args.Get(k), v)
			}
		}
	}
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
