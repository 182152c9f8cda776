package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/outbox"
	"liaisonbot/bot/store"
	"liaisonbot/config"
)

// editTimeout bounds one edit of a posted digest.
const editTimeout = 10 * time.Second

func (s *Service) cmdAck(ctx context.Context, req *bot.Request) (*bot.Message, error) {
	var t *config.Team
	var key string
	id := strings.TrimSpace(req.Args.Get("digest"))
	if id != "" {
		team, seq, ok := parseDigestID(id)
		if !ok {
			return nil, bot.Usagef(req, "%q is not a digest id (they look like watch-0003, as on the digest's Acknowledge button)", id)
		}
		if t, ok = s.cfg.TeamByID(team); !ok {
			return nil, problemf("No digest %s.", id)
		}
		key = digestKey(t.ID, seq)
	} else {
		var err error
		if t, err = s.team(req, req.Args.Get("team")); err != nil {
			return nil, err
		}
	}
	now := s.now()
	who := requester(req)
	var d *digest
	already := false
	err := s.store.Update(ctx, func(tx store.Tx) error {
		already = false // fn may run again (etcd store)
		var ok bool
		var err error
		if key == "" {
			d, ok, err = latestDigest(tx, t.ID)
			if err == nil && !ok {
				return problemf("No handoff digest has been posted for %s yet: handoff now posts one.", teamName(t))
			}
		} else {
			d, ok, err = loadDigest(tx, key)
			if err == nil && !ok {
				return problemf("No digest %s.", id)
			}
		}
		if err != nil {
			return err
		}
		if d.Ack != nil {
			already = true
			return nil
		}
		d.Ack = &ack{By: who, At: now.UTC()}
		for i := range d.Posts {
			d.Posts[i].EditPending = true
		}
		if err := store.PutJSON(tx, bucketDigests, d.key(), d); err != nil {
			return err
		}
		if err := tx.Put(bucketEdits, d.key(), nil); err != nil {
			return err
		}
		// This acknowledgement answers for the team's earlier digests still
		// waiting for one: the incoming shift has the latest picture.
		var answered []string
		p := t.ID + "|"
		if err := tx.Scan(bucketAwaiting, p, store.PrefixEnd(p), func(k string, _ []byte) error {
			if k <= d.key() {
				answered = append(answered, k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range answered {
			if err := tx.Delete(bucketAwaiting, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	loc := t.Location
	if already {
		return &bot.Message{Text: fmt.Sprintf("Digest %s was already acknowledged by %s at %s.", d.ID, d.Ack.By.Name, day(d.Ack.At, loc))}, nil
	}
	if s.onAcked != nil {
		s.onAcked(t.ID)
	}
	s.log.InfoContext(ctx, "handoff: digest acknowledged", "team", t.ID, "digest", d.ID, "by", who.Name)
	left, err := s.applyEdits(ctx, d.key())
	if err != nil {
		s.log.ErrorContext(ctx, "handoff: editing the acknowledged digest failed; retried by the scheduler", "digest", d.ID, "err", err)
	}
	text := fmt.Sprintf("Digest %s for %s acknowledged by %s at %s.", d.ID, teamName(t), who.Name, day(now, loc))
	if left {
		text += " The digest will show it once its posts are sent."
	}
	return &bot.Message{Text: text}, nil
}

// applyEdits edits an acknowledged digest wherever it was posted and is
// not yet edited. A post whose platform reference is not known yet (still
// in the outbox), or whose edit the platform refused, waits for a later
// call: the scheduler retries the digests left in the edits bucket. It
// reports whether edits are left; its error is the store's.
func (s *Service) applyEdits(ctx context.Context, key string) (bool, error) {
	s.editMu.Lock()
	defer s.editMu.Unlock()
	var d *digest
	if err := s.store.View(ctx, func(tx store.Tx) (err error) {
		d, _, err = loadDigest(tx, key)
		return err
	}); err != nil {
		return true, err
	}
	if d == nil || d.Ack == nil {
		return false, s.store.Update(ctx, func(tx store.Tx) error { return tx.Delete(bucketEdits, key) })
	}
	var loc *time.Location
	if t, ok := s.cfg.TeamByID(d.Team); ok {
		loc = t.Location
	}
	msg := acknowledged(d, loc)
	edited := map[string]bool{}
	left := false
	for _, p := range d.Posts {
		if !p.EditPending {
			continue
		}
		if p.Ref == "" {
			left = true
			s.log.DebugContext(ctx, "handoff: digest edit waits for its post to be sent", "digest", d.ID, "outbox_id", p.OutboxID)
			continue
		}
		var ad bot.Adapter
		ok := false
		if s.adapter != nil {
			ad, ok = s.adapter(p.Platform)
		}
		if !ok {
			left = true
			s.log.DebugContext(ctx, "handoff: digest edit waits for its platform", "digest", d.ID, "platform", p.Platform)
			continue
		}
		uctx, cancel := context.WithTimeout(ctx, editTimeout)
		err := ad.Update(uctx, bot.MessageRef{Platform: p.Platform, Channel: p.Channel, ID: p.Ref}, msg)
		cancel()
		if err != nil {
			// The platform is unreachable or refuses for now: the
			// scheduler retries.
			left = true
			s.log.WarnContext(ctx, "handoff: editing a digest failed; will retry", "digest", d.ID, "platform", p.Platform, "channel", p.Channel, "err", err)
			continue
		}
		edited[p.OutboxID] = true
	}
	if len(edited) == 0 && left {
		return true, nil
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		d, ok, err := loadDigest(tx, key)
		if err != nil || !ok {
			return err
		}
		pending := false
		for i := range d.Posts {
			if edited[d.Posts[i].OutboxID] {
				d.Posts[i].EditPending = false
			}
			pending = pending || d.Posts[i].EditPending
		}
		if !pending {
			if err := tx.Delete(bucketEdits, key); err != nil {
				return err
			}
		}
		return store.PutJSON(tx, bucketDigests, key, d)
	})
	return left, err
}

// applyPendingEdits retries every acknowledgement edit still waiting.
func (s *Service) applyPendingEdits(ctx context.Context) (bool, error) {
	var keys []string
	if err := s.store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketEdits, "", "", func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		})
	}); err != nil {
		return false, err
	}
	anyLeft := false
	var errs []error
	for _, k := range keys {
		left, err := s.applyEdits(ctx, k)
		anyLeft = anyLeft || left
		if err != nil {
			errs = append(errs, err)
		}
	}
	return anyLeft, errors.Join(errs...)
}

// recordSent runs in the outbox's transaction when a digest post is sent:
// it records the platform's reference, which editing the digest needs.
func (s *Service) recordSent(tx store.Tx, e outbox.Entry) error {
	key := strings.TrimPrefix(e.Origin, originPrefix)
	d, ok, err := loadDigest(tx, key)
	if err != nil || !ok {
		return err
	}
	for i := range d.Posts {
		if d.Posts[i].OutboxID == e.ID {
			d.Posts[i].Ref = e.Ref.ID
			if e.Ref.Channel != "" {
				d.Posts[i].Channel = e.Ref.Channel
			}
		}
	}
	return store.PutJSON(tx, bucketDigests, key, d)
}
