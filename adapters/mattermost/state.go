package mattermost

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"time"

	"liaisonbot/bot/store"
)

// What the adapter keeps in the store, in one bucket:
//
//	action_secret      32 random bytes signing button contexts, made once per install
//	command            the slash command registered through the API, with its token
//	cursor/<channel>   the last post seen in a watched channel
const (
	bucket       = "mattermost"
	keySecret    = "action_secret"
	keyCommand   = "command"
	cursorPrefix = "cursor/"
	secretLen    = 32
	cursorMaxIDs = 64 // ids kept at the cursor's millisecond; more is pathological
)

// registration is the slash command the bot registered (or found) in its
// team. The token is what Mattermost sends with every call of the command.
type registration struct {
	TeamID    string `json:"team_id"`
	CommandID string `json:"command_id"`
	Trigger   string `json:"trigger"`
	URL       string `json:"url"`
	Token     string `json:"token"`
}

// cursor is how far the bot has seen a channel: the latest post
// modification time (milliseconds, the server's clock) and the ids of the
// posts seen at exactly that time, since "since" queries are by time.
type cursor struct {
	At  int64    `json:"at"`
	IDs []string `json:"ids,omitempty"`
}

// loadState reads (or on first start creates) the button secret, the
// registered command's token and the channel cursors.
func (a *Adapter) loadState(ctx context.Context) error {
	err := a.st.Update(ctx, func(tx store.Tx) error {
		secret, err := tx.Get(bucket, keySecret)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && len(secret) != secretLen):
			secret = make([]byte, secretLen)
			if _, err := rand.Read(secret); err != nil {
				return fmt.Errorf("generate button secret: %w", err)
			}
			if err := tx.Put(bucket, keySecret, secret); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		a.secret = secret
		reg, ok, err := store.GetJSON[registration](tx, bucket, keyCommand)
		if err != nil {
			return err
		}
		if ok {
			a.cmdToken = reg.Token
		}
		return store.ScanJSON(tx, bucket, cursorPrefix, store.PrefixEnd(cursorPrefix), func(k string, c cursor) error {
			cc := c
			a.cursors[k[len(cursorPrefix):]] = &cc
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("mattermost: load state: %w", err)
	}
	return nil
}

// loadCursors reads the stored channel cursors again, under a.mu: it runs
// at every connect, while commands are being served.
func (a *Adapter) loadCursors(ctx context.Context) error {
	stored := map[string]*cursor{}
	err := a.st.View(ctx, func(tx store.Tx) error {
		clear(stored) // fn may run again
		return store.ScanJSON(tx, bucket, cursorPrefix, store.PrefixEnd(cursorPrefix), func(k string, c cursor) error {
			cc := c
			stored[k[len(cursorPrefix):]] = &cc
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("mattermost: load cursors: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	maps.Copy(a.cursors, stored)
	return nil
}

// reloadCommandToken reads the registered command's token again, at most
// once a second, and reports whether it changed. Replicas sharing a store
// (etcd): the leader registers the command, and the others learn its token
// here, on the first command it refuses.
func (a *Adapter) reloadCommandToken(ctx context.Context) bool {
	a.mu.Lock()
	if time.Since(a.tokenReloaded) < time.Second {
		a.mu.Unlock()
		return false
	}
	a.tokenReloaded = time.Now()
	a.mu.Unlock()
	var reg registration
	var ok bool
	err := a.st.View(ctx, func(tx store.Tx) (err error) {
		reg, ok, err = store.GetJSON[registration](tx, bucket, keyCommand)
		return err
	})
	if err != nil || !ok {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if reg.Token == a.cmdToken {
		return false
	}
	a.cmdToken = reg.Token
	return true
}

func (a *Adapter) saveRegistration(ctx context.Context, reg registration) error {
	err := a.st.Update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, bucket, keyCommand, reg) })
	if err != nil {
		return fmt.Errorf("save command registration: %w", err)
	}
	a.mu.Lock()
	a.cmdToken = reg.Token
	a.mu.Unlock()
	return nil
}

func (a *Adapter) saveCursor(ctx context.Context, channel string, c cursor) error {
	err := a.st.Update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, bucket, cursorPrefix+channel, c) })
	if err != nil {
		return fmt.Errorf("save cursor of %s: %w", channel, err)
	}
	return nil
}
