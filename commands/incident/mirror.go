package incident

import (
	"context"
	"errors"
	"strings"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

var _ bot.EventHandler = (*Service)(nil)

// HandleEvent mirrors a reply typed in one of an incident's threads into
// its other threads and stores it in the timeline (SPEC §2: incident
// threads are one conversation). The bot's own posts are never mirrored;
// edits and deletions are not mirrored at all; a message seen before (a
// replayed or re-fetched event) changes nothing.
func (s *Service) HandleEvent(ctx context.Context, e bot.Event) error {
	if e.Kind != bot.EventPosted || e.FromBot || e.ThreadRef == "" || e.MessageID == "" || e.MessageID == e.ThreadRef {
		return nil
	}
	tkey := threadKey(e.Platform, e.Channel, e.ThreadRef)
	skey := seenKey(e.Platform, e.Channel, e.MessageID)
	// Most messages in a watched channel are not incident replies: answer
	// those from a read transaction.
	var id string
	err := s.store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(BucketThreads, tkey)
		if err != nil {
			return err
		}
		if _, err := tx.Get(BucketSeen, skey); err == nil {
			return nil // seen: id stays ""
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id = string(v)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && id == "") {
		return nil
	}
	if err != nil {
		return err
	}

	now := s.now().UTC()
	mirrored, recorded := 0, false
	err = s.store.Update(ctx, func(tx store.Tx) error {
		mirrored, recorded = 0, false // fn may run again (etcd store)
		if _, err := tx.Get(BucketSeen, skey); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.Put(BucketSeen, skey, []byte(id)); err != nil {
			return err
		}
		text := clip(e.Text)
		if text == "" {
			return nil // a file or an empty message: nothing to say
		}
		inc, err := mustLoad(tx, id)
		if errors.Is(err, errNoIncident) {
			return nil
		}
		if err != nil {
			return err
		}
		author := s.eventAuthor(e, inc)
		if err := appendEntry(tx, inc, Entry{
			Time: now, Kind: KindReply, Author: author, Text: text,
			Source: e.Platform + ":" + e.Channel + ":" + e.MessageID,
		}); err != nil {
			return err
		}
		mirrored, err = postToThreads(tx, now, inc, KindReply, same(bot.Message{Text: author.Via() + ": " + text}),
			func(t Thread) bool { return t.Platform == e.Platform && t.Ref == e.ThreadRef }) // the reply's own thread
		if err != nil {
			return err
		}
		recorded = true
		return save(tx, inc)
	})
	if err != nil {
		return err
	}
	if recorded {
		s.notify()
		s.log.Info("incident reply mirrored", "incident_id", id, "platform", e.Platform, "channel", e.Channel,
			"message_id", e.MessageID, "threads", mirrored)
	}
	return nil
}

// eventAuthor attributes a thread reply: the division's people are PLD;
// anyone else in a partner's thread speaks for their agency, which is the
// channel's partner when the platform could not say.
func (s *Service) eventAuthor(e bot.Event, inc *Incident) Author {
	a := Author{ID: e.User.ID, Name: e.User.Name, Platform: e.Platform}
	if a.Name == "" {
		a.Name = e.User.ID
	}
	if a.Name == "" {
		a.Name = "someone"
	}
	switch {
	case e.Role.AtLeastAgent():
		a.Agency = Division
		return a
	case e.Role.Kind == bot.RolePartner && e.Role.Partner != "":
		a.Partner, a.Agency = s.partnerLabel(e.Role.Partner)
		return a
	}
	partner := ""
	if p, ok := s.cfg.PartnerForChannel(config.Channel{Platform: e.Platform, ID: e.Channel}); ok {
		partner = p.ID
	} else {
		for _, t := range inc.Threads {
			if t.Platform == e.Platform && t.Channel == e.Channel {
				partner = t.Partner
			}
		}
	}
	if partner != "" {
		a.Partner, a.Agency = s.partnerLabel(partner)
	} else {
		a.Agency = strings.ToUpper(e.Platform) + " guest"
	}
	return a
}
