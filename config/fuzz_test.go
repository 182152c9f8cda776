package config

import (
	"errors"
	"strings"
	"testing"
)

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
