package incident

import (
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

// Outbox origins: "incident/<id>/root/<partner>/<platform>:<channel>" for a
// root post (its sent hook records the thread ref), "incident/<id>/<kind>"
// for a post in a thread, "incident/<id>/links" for the thread links.
const originPrefix = "incident/"

func rootOrigin(id string, t Thread) string {
	return originPrefix + id + "/root/" + t.Partner + "/" + t.ChannelRef()
}

// maxTimelineInRoot bounds the "timeline so far" a new thread carries; the
// report has all of it.
const maxTimelineInRoot = 20

// fanOut starts the threads of the partners as one fan-out, fo: one root
// post per shared channel, queued in tx. withTimeline adds the timeline so
// far (a partner brought in later). Once every root post of the fan-out is
// sent, fo.ReplyTo gets the thread links (see announceLinks). A fan-out
// that posts nothing is not kept.
func (s *Service) fanOut(tx store.Tx, now time.Time, inc *Incident, partners []*config.Partner, withTimeline bool, fo Fanout) ([]Thread, error) {
	n := len(inc.Fanouts) + 1
	var added []Thread
	for _, p := range partners {
		for _, ch := range p.Channels {
			t := Thread{Partner: p.ID, Platform: ch.Platform, Channel: ch.ID, Opened: now.UTC(), Fanout: n}
			id, err := outbox.Enqueue(tx, now, outbox.Entry{
				Platform: t.Platform, Channel: t.Channel,
				Message: s.rootMessage(inc, p, withTimeline),
				Origin:  rootOrigin(inc.ID, t),
			})
			if err != nil {
				return nil, fmt.Errorf("queue root post for %s: %w", t.ChannelRef(), err)
			}
			t.OutboxID = id
			added = append(added, t)
		}
	}
	if len(added) > 0 {
		inc.Threads = append(inc.Threads, added...)
		inc.Fanouts = append(inc.Fanouts, fo)
	}
	return added, nil
}

// requestLocation is where a command was typed: the thread links go there.
func requestLocation(req *bot.Request) Location {
	return Location{Platform: req.Platform, Channel: req.Channel, ThreadRef: req.ThreadRef}
}

// rootMessage is the post that starts a partner's thread: the on-call
// handle, mission, severity, summary, who opened it, and the emergency
// guidance.
func (s *Service) rootMessage(inc *Incident, p *config.Partner, withTimeline bool) bot.Message {
	greeting := p.Name
	if p.Oncall != "" {
		greeting = p.Oncall + " (" + p.Name + ")"
	}
	lead := "the Protective Liaison Division has opened an incident and asks for your attention."
	if withTimeline {
		lead = "the Protective Liaison Division is bringing your agency into this incident."
	}
	m := bot.Message{
		Visibility: bot.InChannel,
		Title:      fmt.Sprintf("Incident %s: %s, severity %s", inc.ID, inc.MissionName, severityLabel(inc.Severity)),
		Text: greeting + ": " + lead + "\n" +
			inc.Summary + "\n" +
			"Reply in this thread: replies are shared with every agency on this incident, on every platform.",
		Sections: []bot.Section{{Fields: []bot.Field{
			{Label: "Mission", Value: missionLine(inc)},
			{Label: "Severity", Value: severityLabel(inc.Severity)},
			{Label: "Opened by", Value: inc.OpenedBy.Label() + ", " + formatTime(inc.Opened)},
			{Label: "Agencies", Value: s.partnerNames(inc.Partners)},
		}}},
		Footer: s.dir.EmergencyGuidance(),
	}
	if withTimeline {
		lines := publicTimeline(inc)
		sec := bot.Section{Title: "Timeline so far"}
		if n := len(lines) - maxTimelineInRoot; n > 0 {
			lines = append([]string{fmt.Sprintf("(%d earlier entries not shown)", n)}, lines[n:]...)
		}
		sec.Text = strings.Join(lines, "\n")
		m.Sections = append(m.Sections, sec)
	}
	return m
}

func missionLine(inc *Incident) string {
	if inc.MissionPlace == "" {
		return inc.MissionName
	}
	return inc.MissionName + " (" + inc.MissionPlace + ")"
}

func (s *Service) partnerNames(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = s.partnerName(id)
	}
	return strings.Join(names, ", ")
}

// publicTimeline is the timeline as partners may see it: no internal notes.
func publicTimeline(inc *Incident) []string {
	var lines []string
	for _, e := range inc.Timeline {
		if !e.Internal {
			lines = append(lines, entryLine(e))
		}
	}
	return lines
}

// postToThreads queues a post in every thread of the incident for which
// skip is false. A thread whose root is not sent yet gets the post as a
// reply to the root's outbox entry; the dispatcher waits for it.
func postToThreads(tx store.Tx, now time.Time, inc *Incident, kind string, msg func(Thread) bot.Message, skip func(Thread) bool) (int, error) {
	n := 0
	for _, t := range inc.Threads {
		if skip != nil && skip(t) {
			continue
		}
		e := outbox.Entry{Platform: t.Platform, Channel: t.Channel, Message: msg(t), Origin: originPrefix + inc.ID + "/" + kind}
		if t.Ref != "" {
			e.ThreadRef = t.Ref
		} else {
			e.ThreadOf = t.OutboxID
		}
		if _, err := outbox.Enqueue(tx, now, e); err != nil {
			return n, fmt.Errorf("queue %s post for %s: %w", kind, t.ChannelRef(), err)
		}
		n++
	}
	return n, nil
}

// same is a post with the same text in every thread.
func same(m bot.Message) func(Thread) bot.Message {
	m.Visibility = bot.InChannel
	return func(Thread) bot.Message { return m }
}

// recordSent runs in the transaction that marks a root post sent: the
// thread gets its ref and link, the ref is indexed so that replies under it
// are recognised, and when it was the last root post of its fan-out the
// thread links are queued for whoever asked for them.
func (s *Service) recordSent(tx store.Tx, e outbox.Entry) error {
	rest, ok := strings.CutPrefix(e.Origin, originPrefix)
	if !ok {
		return nil
	}
	id, kind, _ := strings.Cut(rest, "/")
	if !strings.HasPrefix(kind, "root/") || e.Ref.ID == "" {
		return nil
	}
	inc, found, err := Load(tx, id)
	if err != nil {
		return err
	}
	if !found {
		s.log.Warn("incident: root post sent for an unknown incident", "incident_id", id, "outbox_id", e.ID)
		return nil
	}
	for i := range inc.Threads {
		t := &inc.Threads[i]
		if t.OutboxID != e.ID {
			continue
		}
		t.Ref, t.Link = e.Ref.ID, e.Ref.Link
		if err := tx.Put(BucketThreads, threadKey(t.Platform, t.Channel, t.Ref), []byte(inc.ID)); err != nil {
			return err
		}
		// Events name the channel as the platform does; if that differs
		// from the configured form, index it too.
		if c := e.Ref.Channel; c != "" && c != t.Channel {
			if err := tx.Put(BucketThreads, threadKey(t.Platform, c, t.Ref), []byte(inc.ID)); err != nil {
				return err
			}
		}
		now := e.Sent
		if now.IsZero() {
			now = s.now()
		}
		if err := s.announceLinks(tx, now, inc, t.Fanout); err != nil {
			return err
		}
		return save(tx, inc)
	}
	s.log.Warn("incident: root post sent for no thread of the incident", "incident_id", id, "outbox_id", e.ID)
	return nil
}

// announceLinks queues the reply with the thread links of fan-out n to
// whoever asked for it, once every root post of the fan-out is sent. It
// runs in the transaction that marks a root post sent, and the flag it sets
// commits with the queued reply: the hook run again for the same post (a
// resend) or for another post of the fan-out finds it set, so the reply is
// queued exactly once.
func (s *Service) announceLinks(tx store.Tx, now time.Time, inc *Incident, n int) error {
	if n < 1 || n > len(inc.Fanouts) {
		return nil // a thread stored before fan-outs were kept
	}
	fo := &inc.Fanouts[n-1]
	if fo.Announced || fo.ReplyTo.Platform == "" || fo.ReplyTo.Channel == "" {
		return nil
	}
	var threads []Thread
	for _, t := range inc.Threads {
		if t.Fanout != n {
			continue
		}
		if t.Ref == "" {
			return nil // not all sent yet: the last one announces
		}
		threads = append(threads, t)
	}
	if len(threads) == 0 {
		return nil
	}
	to := fo.ReplyTo
	if _, err := outbox.Enqueue(tx, now, outbox.Entry{
		Platform: to.Platform, Channel: to.Channel, ThreadRef: to.ThreadRef,
		Message: s.linksMessage(inc, *fo, threads),
		Origin:  originPrefix + inc.ID + "/links",
	}); err != nil {
		return fmt.Errorf("queue the thread links for %s:%s: %w", to.Platform, to.Channel, err)
	}
	fo.Announced = true
	s.log.Info("incident thread links queued", "incident_id", inc.ID, "to", to.Platform+":"+to.Channel, "threads", len(threads))
	return nil
}

// linksMessage is the reply with a fan-out's thread links: one field per
// thread, its permalink or, where the platform has none, "console:mpd #3".
func (s *Service) linksMessage(inc *Incident, fo Fanout, threads []Thread) bot.Message {
	m := bot.Message{
		Visibility: bot.InChannel,
		Title:      fmt.Sprintf("%s: the threads are open", inc.ID),
		Text: fmt.Sprintf("Every partner channel has the incident (%s, severity %s). Replies in any thread are shared with every agency on it, on every platform.",
			missionLine(inc), severityLabel(inc.Severity)),
		Buttons: []bot.Button{{Label: "Show " + inc.ID, Command: "incident show " + inc.ID}},
	}
	if fo.Kind == KindPartner {
		m.Title = fmt.Sprintf("%s: %s is in", inc.ID, s.partnerName(fo.Partner))
		m.Text = "Its thread carries the timeline so far. Replies in any thread are shared with every agency on the incident, on every platform."
	}
	fields := make([]bot.Field, len(threads))
	for i, t := range threads {
		fields[i] = bot.Field{Label: s.partnerName(t.Partner) + " (" + platformName(t.Platform) + ")", Value: t.Target(), URL: t.Link}
	}
	m.Sections = []bot.Section{{Title: "Threads", Fields: fields}}
	return m
}
