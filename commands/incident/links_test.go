package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
)

// linkConfig puts MPD on Mattermost and USPP on Slack, whose posts have
// permalinks, and one more partner on the console, whose posts have none.
const linkConfig = `
partners:
  - id: mpd
    name: Metropolitan Police Department
    oncall: "@mpd-watch"
    channels: ["mattermost:mm-mpd"]
  - id: uspp
    name: United States Park Police
    oncall: "@uspp-desk"
    channels: ["slack:C0USPP"]
  - id: fbi
    name: FBI Washington Field Office
    channels: ["console:fbi"]
`

// doAt runs a command line as an agent typing it on a platform, in a
// channel and maybe a thread.
func (e *env) doAt(platform, channel, thread, text string) *bot.Message {
	e.t.Helper()
	req := &bot.Request{Platform: platform, Channel: channel, ThreadRef: thread,
		User: bot.User{ID: "u-ann", Name: "Ann Cole"}, Role: agent, Text: text, Time: e.clock.now()}
	m := e.mux.Serve(context.Background(), req)
	if m.Error {
		e.t.Fatalf("%q: %s", text, flatten(*m))
	}
	return m
}

// threadFields are the fields of the "Threads" section of a message.
func threadFields(t *testing.T, m bot.Message) []bot.Field {
	t.Helper()
	for _, s := range m.Sections {
		if s.Title == "Threads" {
			return s.Fields
		}
	}
	t.Fatalf("no Threads section in %q", flatten(m))
	return nil
}

// resendHooks runs the sent hook again for every root post already sent,
// as a resend of a post whose sent mark was lost would.
func (e *env) resendHooks() {
	e.t.Helper()
	err := e.db.Update(context.Background(), func(tx store.Tx) error {
		return store.ScanJSON(tx, outbox.BucketSent, "", "", func(_ string, en outbox.Entry) error {
			return e.svc.recordSent(tx, en)
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestOpenerGetsTheThreadLinksOnce(t *testing.T) {
	e := newEnv(t, linkConfig)
	// Slack refuses the first root post: the links wait for its retry.
	e.ads[bot.Slack].fail = func(attempt int, p bot.Post) error {
		if attempt == 1 {
			return errors.New("slack: 503 service unavailable")
		}
		return nil
	}
	opened := flatten(*e.doAt(bot.Mattermost, "mm-pld", "cmd-root-1", "incident open mission:canada sev:2 partners:mpd,uspp Protest at the gate"))
	// The answer still says where the incident is being posted.
	contains(t, "open answer", opened, inc1+" opened", "Posting to 2 partner channel(s)",
		"mattermost:mm-mpd (Metropolitan Police Department, @mpd-watch)", "slack:C0USPP (United States Park Police, @uspp-desk)",
		"The thread links follow here once the posts are sent")
	lacks(t, "open answer", opened, "https://")

	e.flush()
	if ps := e.postsTo(bot.Mattermost, "mm-pld"); len(ps) != 0 {
		t.Fatalf("links before every root post was sent: %v", ps)
	}
	if inc := e.incident(inc1); len(inc.Fanouts) != 1 || inc.Fanouts[0].Announced ||
		inc.Fanouts[0].ReplyTo != (Location{Platform: bot.Mattermost, Channel: "mm-pld", ThreadRef: "cmd-root-1"}) {
		t.Fatalf("fan-out after the first flush: %+v", inc.Fanouts)
	}

	e.clock.advance(time.Hour)
	e.flush() // Slack's root goes, and in the same flush the links
	mmRoot, slackRoot := e.postsTo(bot.Mattermost, "mm-mpd"), e.postsTo(bot.Slack, "C0USPP")
	if len(mmRoot) != 1 || len(slackRoot) != 1 {
		t.Fatalf("roots: %v", e.posts())
	}
	links := e.postsTo(bot.Mattermost, "mm-pld")
	if len(links) != 1 {
		t.Fatalf("opener's channel: want one message, got %v", links)
	}
	if links[0].ThreadRef != "cmd-root-1" {
		t.Fatalf("links outside the command's thread: %v", links[0])
	}
	contains(t, "links", links[0].Text, inc1+": the threads are open", "Embassy of Canada (Washington, DC), severity 2 (high)",
		"Metropolitan Police Department (Mattermost): "+mmRoot[0].Link,
		"United States Park Police (Slack): "+slackRoot[0].Link)
	fields := threadFields(t, links[0].Message)
	if len(fields) != 2 || fields[0].URL != mmRoot[0].Link || fields[1].URL != slackRoot[0].Link || fields[0].URL == "" {
		t.Fatalf("link fields %+v", fields)
	}

	// Never twice: not by later flushes, not by the hook run again.
	e.resendHooks()
	if n := e.count(outbox.BucketPending); n != 0 {
		t.Fatalf("the hook run again queued %d posts", n)
	}
	e.clock.advance(time.Hour)
	e.flush()
	if ps := e.postsTo(bot.Mattermost, "mm-pld"); len(ps) != 1 {
		t.Fatalf("links sent again: %v", ps)
	}
	if inc := e.incident(inc1); !inc.Fanouts[0].Announced || inc.Threads[0].Link != mmRoot[0].Link || inc.Threads[1].Link != slackRoot[0].Link {
		t.Fatalf("incident after the links: %+v", inc)
	}

	// incident show lists the links too.
	show := e.doAt(bot.Mattermost, "mm-pld", "", "incident show "+inc1)
	fields = threadFields(t, *show)
	if len(fields) != 2 || fields[0].Label != "mattermost:mm-mpd (Metropolitan Police Department)" || fields[0].Value != mmRoot[0].Link ||
		fields[0].URL != mmRoot[0].Link || fields[1].URL != slackRoot[0].Link {
		t.Fatalf("show threads %+v", fields)
	}
}

func TestPartnerBroughtInAnnouncesItsOwnThread(t *testing.T) {
	e := newEnv(t, linkConfig)
	e.ok(agent, "incident open mission:canada partners:mpd Vehicle at the gate")
	e.flush()
	first := e.postsTo(bot.Console, "console")
	if len(first) != 1 || len(threadFields(t, first[0].Message)) != 1 {
		t.Fatalf("opener's links: %v", first)
	}

	// Brought in from another console channel: that channel gets the new
	// thread, without a link (the console has none), and nothing else.
	m := e.do(agent, "watch", "incident partner "+inc1+" fbi")
	contains(t, "partner answer", flatten(*m), "FBI Washington Field Office brought into "+inc1, "console:fbi", "The thread links follow here")
	e.flush()
	fbiRoot := e.postsTo(bot.Console, "fbi")
	if len(fbiRoot) != 1 {
		t.Fatalf("fbi: %v", fbiRoot)
	}
	got := e.postsTo(bot.Console, "watch")
	if len(got) != 1 {
		t.Fatalf("watch: %v", got)
	}
	contains(t, "partner links", got[0].Text, inc1+": FBI Washington Field Office is in", "timeline so far",
		"FBI Washington Field Office (console): console:fbi #"+fbiRoot[0].ID)
	fields := threadFields(t, got[0].Message)
	if len(fields) != 1 || fields[0].URL != "" {
		t.Fatalf("fields %+v", fields)
	}
	if n := len(e.postsTo(bot.Console, "console")); n != 1 {
		t.Fatalf("the opener heard again: %d messages", n)
	}
	show := e.ok(agent, "incident show "+inc1)
	contains(t, "show", show, "console:fbi (FBI Washington Field Office): thread "+fbiRoot[0].ID,
		"mattermost:mm-mpd (Metropolitan Police Department): https://mattermost.example/mm-mpd/mattermost-1")
	if strings.Count(show, "https://") != 1 {
		t.Fatalf("show: want the one link:\n%s", show)
	}
}
