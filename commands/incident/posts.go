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
// for a post in a thread.
const originPrefix = "incident/"

func rootOrigin(id string, t Thread) string {
	return originPrefix + id + "/root/" + t.Partner + "/" + t.ChannelRef()
}

// maxTimelineInRoot bounds the "timeline so far" a new thread carries; the
// report has all of it.
const maxTimelineInRoot = 20

// openThreads starts the partner's threads: one root post per shared
// channel, queued in tx. withTimeline adds the timeline so far (a partner
// brought in later).
func (s *Service) openThreads(tx store.Tx, now time.Time, inc *Incident, p *config.Partner, withTimeline bool) ([]Thread, error) {
	var added []Thread
	for _, ch := range p.Channels {
		t := Thread{Partner: p.ID, Platform: ch.Platform, Channel: ch.ID, Opened: now.UTC()}
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
	inc.Threads = append(inc.Threads, added...)
	return added, nil
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
// thread gets its ref, and the ref is indexed so that replies under it are
// recognised.
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
		t.Ref = e.Ref.ID
		if err := save(tx, inc); err != nil {
			return err
		}
		if err := tx.Put(BucketThreads, threadKey(t.Platform, t.Channel, t.Ref), []byte(inc.ID)); err != nil {
			return err
		}
		// Events name the channel as the platform does; if that differs
		// from the configured form, index it too.
		if c := e.Ref.Channel; c != "" && c != t.Channel {
			return tx.Put(BucketThreads, threadKey(t.Platform, c, t.Ref), []byte(inc.ID))
		}
		return nil
	}
	s.log.Warn("incident: root post sent for no thread of the incident", "incident_id", id, "outbox_id", e.ID)
	return nil
}
