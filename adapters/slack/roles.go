package slack

import (
	"slices"

	"liaisonbot/bot"
	"liaisonbot/config"
)

// asker is a person as a Slack payload describes them.
type asker struct {
	Channel string
	UserID  string
	// UserTeam is the workspace the person belongs to, "" when the payload
	// does not say (then they are taken to be of the workspace it came from).
	UserTeam string
	// HomeTeam is the workspace the payload was delivered for: the one the
	// app is installed in.
	HomeTeam string
}

// role decides who the person is (SPEC §6). People of the division's
// workspaces (slack.internal_teams) are agents, or admins when listed in
// roles.admins. Anyone else is a partner of the agency whose shared channel
// they are in, or nobody.
//
// With no internal_teams configured, the workspace the app is installed in
// is the division's: its people are agents, and only someone Slack marks as
// of another workspace (a Slack Connect guest) is not.
func (a *Adapter) role(p asker) bot.Role {
	if a.internal(p) {
		if a.cfg.IsAdmin(bot.Slack, p.UserID) {
			return bot.Role{Kind: bot.RoleAdmin}
		}
		return bot.Role{Kind: bot.RoleAgent}
	}
	if pt, ok := a.cfg.PartnerForChannel(config.Channel{Platform: bot.Slack, ID: p.Channel}); ok {
		return bot.Role{Kind: bot.RolePartner, Partner: pt.ID}
	}
	return bot.Role{}
}

func (a *Adapter) internal(p asker) bool {
	if teams := a.cfg.Slack.InternalTeams; len(teams) > 0 {
		return p.UserTeam != "" && slices.Contains(teams, p.UserTeam)
	}
	home := a.identity().TeamID // auth.test: the installation's workspace
	if home == "" {
		home = p.HomeTeam
	}
	return p.UserTeam == "" || home == "" || p.UserTeam == home
}
