package slack

import "testing"

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                                  "plain",
		"R&amp;D &lt;b&gt;":                      "R&D <b>",
		"&amp;lt;":                               "&lt;",
		"hi <@U123ABC|lee> and <@U999>":          "hi @lee and @U999",
		"in <#C123|ops> or <#C999>":              "in #ops or #C999",
		"<!here> <!channel> <!everyone>":         "@here @channel @everyone",
		"<!subteam^S01|@watch> please":           "@watch please",
		"<!date^1392734382^{date}|Feb 18, 2014>": "Feb 18, 2014",
		"see <https://x.gov/a?b=1&amp;c=2|site>": "see site (https://x.gov/a?b=1&c=2)",
		"see <https://x.gov>":                    "see https://x.gov",
		"<mailto:a@x.gov|a@x.gov>":               "a@x.gov (mailto:a@x.gov)",
		"unclosed <@U1 tag":                      "unclosed <@U1 tag",
		"2 &gt; 1 <":                             "2 > 1 <",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}
