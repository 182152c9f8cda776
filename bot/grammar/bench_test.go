package grammar

import "testing"

// The lines a slash command typically carries: a look-up and a longer
// incident command with options and a quoted value.
var benchLines = []struct{ name, usage, line string }{
	{"contact", "contact <query>", "contact canada"},
	{"incident", "incident open mission:<q> [sev:1-4] [partners:a,b] <summary>",
		`incident open mission:"Embassy of Japan" sev:2 Crowd at the north gate`},
}

func BenchmarkTokenize(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Tokenize(bl.line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBind(b *testing.B) {
	for _, bl := range benchLines {
		b.Run(bl.name, func(b *testing.B) {
			u, err := ParseUsage(bl.usage)
			if err != nil {
				b.Fatal(err)
			}
			toks, err := Tokenize(bl.line)
			if err != nil {
				b.Fatal(err)
			}
			toks = toks[len(u.Path):]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := u.Bind(bl.line, toks); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
