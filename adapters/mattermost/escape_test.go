package mattermost

import (
	"strings"
	"testing"
)

func TestEscapeMarkdown(t *testing.T) {
	z := zwsp
	tests := []struct{ in, want string }{
		{"@channel [x](https://evil) ![i](https://evil/i.png) <!channel>",
			"@" + z + `channel \[x\](https:` + z + `//evil) !\[i\](https:` + z + `//evil/i.png) \<!channel\>`},
		{"mail j.avery@example.org, or @here", "mail j.avery@example.org, or @" + z + "here"},
		{"(@all)", "(@" + z + "all)"},
		{"*bold* _it_ `code` ~~strike~~ ~town-square", `\*bold\* \_it\_ \` + "`code\\`" + " ~" + z + "~" + z + "strike~" + z + "~" + z + " ~" + z + "town-square"},
		{"# heading\n#tag", "#" + z + " heading\n#" + z + "tag"},
		{"- item\n+ item\n1. first\n10) tenth\n===", `\- item` + "\n" + `\+ item` + "\n" + `1\. first` + "\n" + `10\) tenth` + "\n" + `\===`},
		{"> quote | table $x$", `\> quote \| table \$x\$`},
		{"see www.evil.com or WWW.evil.com; awww.ok", "see www" + z + ".evil.com or WWW" + z + ".evil.com; awww.ok"},
		{"    code?\n\tx", "\u00a0\u00a0\u00a0\u00a0code?\n\u00a0\u00a0\u00a0\u00a0x"},
		{"a\x00b\x1bc\u202ed\r", "abcd"},
		{`back\slash`, `back\\slash`},
		{"Call 911 first (202-895-3600).", "Call 911 first (202-895-3600)."},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tc := range tests {
		if got := escapeMarkdown(tc.in); got != tc.want {
			t.Errorf("escapeMarkdown(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	z := zwsp
	got := plainText("@channel [x](https://evil)\n![i](www.evil.com) <!channel>")
	want := "@" + z + "channel [x]" + z + "(https:" + z + "//evil) !" + z + "[i]" + z + "(www" + z + ".evil.com) <" + z + "!" + z + "channel>"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if plainText("Embassy of Japan") != "Embassy of Japan" {
		t.Error("ordinary text changed")
	}
	if strings.Contains(plainText("a\nb\tc"), "\n") {
		t.Error("line break kept in a one-line context")
	}
}

func TestConfiguredHandlesStayMentions(t *testing.T) {
	z := zwsp
	hs := mentionHandles("@mpd-watch", "@pld_duty.officer", "@channel", "@all", "", "@bad handle")
	if len(hs) != 2 {
		t.Fatalf("handles %v", hs)
	}
	tests := []struct{ in, want string }{
		{"@mpd-watch (MPD): an incident.", "@mpd-watch (MPD): an incident."},
		{"Call @MPD-watch.", "Call @MPD-watch."},
		{"@pld_duty.officer, please", "@pld_duty.officer, please"},
		{"@mpd-watchers", "@" + z + "mpd-watchers"},
		{"@channel @all @here", "@" + z + "channel @" + z + "all @" + z + "here"},
		{"x@mpd-watch", "x@mpd-watch"},
		{"@mpd-watch_x", "@" + z + "mpd-watch\\_x"},
	}
	for _, tc := range tests {
		if got := escapeMarkdownAllowing(tc.in, hs); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
