package mattermost

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
	"liaisonbot/config"
)

// maxCachedUsers bounds the role cache; past it the cache starts over.
const maxCachedUsers = 10000

// userEntry is what the bot knows of a user, for RoleTTL.
type userEntry struct {
	name     string
	internal bool // of the division: member of an internal team, not a guest, not remote
	expires  time.Time
}

// role decides who a person is (SPEC §6). Members of an internal team who
// are neither guests nor users of a remote (shared-channel) cluster are
// agents, admins when listed in roles.admins; anyone else is a partner in
// a partner's shared channel, and nobody elsewhere. When membership cannot
// be checked the answer errs on the side of less access.
func (a *Adapter) role(ctx context.Context, userID, channelID string) bot.Role {
	u, err := a.user(ctx, userID)
	if err != nil && !errors.Is(err, errNoClient) {
		a.log.WarnContext(ctx, "cannot check the user's teams; treating them as outside the division", "user", userID, "err", err)
	}
	if err == nil && u.internal {
		if a.cfg.IsAdmin(bot.Mattermost, userID) {
			return bot.Role{Kind: bot.RoleAdmin}
		}
		return bot.Role{Kind: bot.RoleAgent}
	}
	if p, ok := a.cfg.PartnerForChannel(config.Channel{Platform: bot.Mattermost, ID: channelID}); ok {
		return bot.Role{Kind: bot.RolePartner, Partner: p.ID}
	}
	return bot.Role{}
}

// user looks a user up, through the cache.
func (a *Adapter) user(ctx context.Context, userID string) (userEntry, error) {
	now := time.Now()
	a.mu.Lock()
	e, ok := a.users[userID]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e, nil
	}
	if a.client == nil {
		return userEntry{}, errNoClient
	}
	teams, err := a.internalTeams(ctx)
	if err != nil {
		return userEntry{}, err
	}
	var u *model.User
	err = a.call(ctx, "get user", func(ctx context.Context) (r *model.Response, err error) {
		u, r, err = a.client.GetUser(ctx, userID, "")
		return r, err
	})
	if err != nil {
		return userEntry{}, err
	}
	e = userEntry{name: u.Username, expires: now.Add(a.roleTTL)}
	if !u.IsGuest() && !u.IsRemote() && u.DeleteAt == 0 {
		for _, team := range teams {
			member, err := a.isMember(ctx, team, userID)
			if err != nil {
				return userEntry{}, err
			}
			if member {
				e.internal = true
				break
			}
		}
	}
	a.mu.Lock()
	if len(a.users) >= maxCachedUsers {
		a.users = map[string]userEntry{}
	}
	a.users[userID] = e
	a.mu.Unlock()
	return e, nil
}

// isMember reports whether the user is a full (not guest) member of the team.
func (a *Adapter) isMember(ctx context.Context, teamID, userID string) (bool, error) {
	var m *model.TeamMember
	err := a.call(ctx, "get team member", func(ctx context.Context) (r *model.Response, err error) {
		m, r, err = a.client.GetTeamMember(ctx, teamID, userID, "")
		return r, err
	})
	if statusIs(err, http.StatusNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.DeleteAt == 0 && !m.SchemeGuest, nil
}

// internalTeams returns the internal team ids, resolving them first if a
// command arrives before start-up has.
func (a *Adapter) internalTeams(ctx context.Context) ([]string, error) {
	a.mu.Lock()
	resolved, teams := a.resolved, a.internal
	a.mu.Unlock()
	if resolved {
		return teams, nil
	}
	if err := a.resolveTeams(ctx); err != nil {
		return nil, errors.Join(errors.New("internal teams not resolved yet"), err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.internal, nil
}
