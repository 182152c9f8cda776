package mmtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// AddTeam creates a team with that name.
func (s *Server) AddTeam(name string) *model.Team {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.millisLocked()
	t := &model.Team{Id: model.NewId(), Name: name, DisplayName: strings.ToUpper(name), Type: model.TeamOpen, CreateAt: now, UpdateAt: now}
	s.teams[t.Id] = t
	s.members[t.Id] = map[string]*model.TeamMember{}
	return t
}

// UserOptions describe a user to add.
type UserOptions struct {
	Username string
	Roles    string // default "system_user"; "system_guest" makes a guest
	RemoteID string // set for a user of a shared-channel remote cluster
	Bot      bool
	Token    string // a bot or personal access token authenticating as this user
}

// AddUser creates a user.
func (s *Server) AddUser(o UserOptions) *model.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.millisLocked()
	u := &model.User{Id: model.NewId(), Username: o.Username, Roles: o.Roles, IsBot: o.Bot, CreateAt: now, UpdateAt: now, Locale: "en"}
	if u.Roles == "" {
		u.Roles = model.SystemUserRoleId
	}
	if o.RemoteID != "" {
		u.RemoteId = model.NewPointer(o.RemoteID)
	}
	s.users[u.Id] = u
	if o.Token != "" {
		s.tokens[o.Token] = u.Id
	}
	return u
}

// AddTeamMember puts a user in a team; guest makes the membership a guest's.
func (s *Server) AddTeamMember(teamID, userID string, guest bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &model.TeamMember{TeamId: teamID, UserId: userID, SchemeGuest: guest, SchemeUser: !guest, Roles: "team_user"}
	if guest {
		m.Roles = "team_guest"
	}
	s.members[teamID][userID] = m
}

// AddChannel creates an open channel in a team with the given members.
func (s *Server) AddChannel(teamID, name string, memberIDs ...string) *model.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.millisLocked()
	c := &model.Channel{Id: model.NewId(), TeamId: teamID, Name: name, DisplayName: name, Type: model.ChannelTypeOpen, CreateAt: now, UpdateAt: now}
	s.channels[c.Id] = c
	s.channelMembers[c.Id] = map[string]bool{}
	for _, id := range memberIDs {
		s.channelMembers[c.Id][id] = true
	}
	return c
}

// Post writes a post as a user would in the web app: stored, then pushed
// as a posted event to every websocket of a channel member.
func (s *Server) Post(userID, channelID, rootID, message string) *model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &model.Post{UserId: userID, ChannelId: channelID, RootId: rootID, Message: message}
	if err := s.savePostLocked(p); err != nil {
		panic(fmt.Sprintf("mmtest: Post: %v", err))
	}
	return p.Clone()
}

// Edit changes a post's message as its author would, pushing post_edited.
func (s *Server) Edit(postID, message string) *model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[postID]
	now := s.millisLocked()
	p.Message, p.EditAt, p.UpdateAt = message, now, now
	s.broadcastPostLocked(model.WebsocketEventPostEdited, p)
	s.notifyLocked()
	return p.Clone()
}

// Delete soft-deletes a post, pushing post_deleted.
func (s *Server) Delete(postID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[postID]
	now := s.millisLocked()
	p.DeleteAt, p.UpdateAt = now, now
	s.broadcastPostLocked(model.WebsocketEventPostDeleted, p)
	s.notifyLocked()
}

// savePostLocked fills in what the server sets, validates like the server,
// bumps the thread root (the server updates its update_at when a reply is
// added, so "since" queries return roots of active threads too) and
// broadcasts.
func (s *Server) savePostLocked(p *model.Post) error {
	ch, ok := s.channels[p.ChannelId]
	if !ok {
		return fmt.Errorf("channel %s: %w", p.ChannelId, errNotFound)
	}
	if p.RootId != "" {
		root, ok := s.posts[p.RootId]
		if !ok || root.ChannelId != ch.Id || root.RootId != "" {
			return fmt.Errorf("root_id %s is not a root post of channel %s", p.RootId, ch.Id)
		}
	}
	p.Id = ""
	p.CreateAt = s.millisLocked()
	p.PreSave()
	if u := s.users[p.UserId]; u != nil && u.IsBot {
		p.AddProp(model.PostPropsFromBot, "true")
	}
	if err := p.IsValid(maxPostSize); err != nil {
		return err
	}
	s.posts[p.Id] = p
	s.postOrder = append(s.postOrder, p.Id)
	if p.RootId != "" {
		s.posts[p.RootId].UpdateAt = p.CreateAt
	}
	s.broadcastPostLocked(model.WebsocketEventPosted, p)
	s.notifyLocked()
	return nil
}

// Posts returns copies of every post (ephemeral ones excluded) in creation order.
func (s *Server) Posts() []*model.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*model.Post, 0, len(s.postOrder))
	for _, id := range s.postOrder {
		out = append(out, s.posts[id].Clone())
	}
	return out
}

// Ephemerals returns the ephemeral posts created through the API.
func (s *Server) Ephemerals() []*model.PostEphemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ephemerals)
}

// Commands returns copies of the slash commands registered so far.
func (s *Server) Commands() []*model.Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*model.Command
	for _, c := range s.commands {
		cc := *c
		out = append(out, &cc)
	}
	slices.SortFunc(out, func(a, b *model.Command) int { return int(a.CreateAt - b.CreateAt) })
	return out
}

// AddCommand registers a command as an admin would by hand (Integrations →
// Slash Commands), returning it with its token.
func (s *Server) AddCommand(teamID, creatorID, trigger, url string) *model.Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &model.Command{TeamId: teamID, CreatorId: creatorID, Trigger: trigger, URL: url, Method: model.CommandMethodPost}
	c.PreSave()
	s.commands[c.Id] = c
	cc := *c
	return &cc
}

// postEventData is what the server puts in a posted event: data.post is
// the post as a JSON string, not an object.
func (s *Server) postEventData(p *model.Post) map[string]any {
	js, _ := json.Marshal(p)
	ch := s.channels[p.ChannelId]
	data := map[string]any{
		"post":       string(js),
		"set_online": true,
	}
	if ch != nil {
		data["channel_display_name"] = ch.DisplayName
		data["channel_name"] = ch.Name
		data["channel_type"] = string(ch.Type)
		data["team_id"] = ch.TeamId
	}
	if u := s.users[p.UserId]; u != nil {
		data["sender_name"] = "@" + u.Username
	}
	return data
}

func (s *Server) hookExpired(h *hook) bool {
	return time.Since(h.created) > 30*time.Minute || h.uses >= 5
}
