package mmtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// Handlers of the v4 endpoints, each answering as its operation in the API
// reference does: users.yaml (GetMe, GetUser), teams.yaml (GetTeamByName,
// GetTeam, GetTeamMember), commands.yaml (ListCommands, CreateCommand),
// posts.yaml (CreatePost, CreatePostEphemeral, UpdatePost, PatchPost,
// GetPostsForChannel with since), channels.yaml (GetChannel).

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[r.PathValue("user_id")]
	if !ok {
		writeError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) getTeamByName(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.teams {
		if t.Name == r.PathValue("name") {
			s.writeTeamLocked(w, t, me)
			return
		}
	}
	writeError(w, http.StatusNotFound, "app.team.get_by_name.missing.app_error", "Unable to find the existing team.")
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.teams[r.PathValue("team_id")]
	if !ok {
		writeError(w, http.StatusNotFound, "app.team.get.find.app_error", "Unable to find the existing team.")
		return
	}
	s.writeTeamLocked(w, t, me)
}

// writeTeamLocked answers with a team the caller may see: open teams and
// the caller's own.
func (s *Server) writeTeamLocked(w http.ResponseWriter, t *model.Team, me *model.User) {
	if _, member := s.members[t.Id][me.Id]; !member && t.Type != model.TeamOpen {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) getTeamMember(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	teamID := r.PathValue("team_id")
	if _, member := s.members[teamID][me.Id]; !member { // view_team
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	m, ok := s.members[teamID][r.PathValue("user_id")]
	if !ok {
		writeError(w, http.StatusNotFound, "app.team.get_member.missing.app_error", "No team member found for that user ID and team ID.")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	teamID := r.URL.Query().Get("team_id")
	if !model.IsValidId(teamID) {
		writeError(w, http.StatusBadRequest, "api.context.invalid_url_param.app_error", "Invalid or missing team_id parameter in request URL.")
		return
	}
	customOnly, _ := strconv.ParseBool(r.URL.Query().Get("custom_only"))
	if s.forbidCommands {
		if customOnly { // commands.yaml: manage_slash_commands to list custom commands
			writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
			return
		}
		writeJSON(w, http.StatusOK, []*model.Command{}) // system commands only; the fake has none
		return
	}
	out := []*model.Command{}
	for _, c := range s.commands {
		if c.TeamId == teamID && c.DeleteAt == 0 {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *model.Command) int { return int(a.CreateAt - b.CreateAt) })
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createCommand(w http.ResponseWriter, r *http.Request, me *model.User) {
	var c model.Command
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing command in request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forbidCommands {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	if _, member := s.members[c.TeamId][me.Id]; !member {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	for _, o := range s.commands {
		if o.TeamId == c.TeamId && o.Trigger == c.Trigger && o.DeleteAt == 0 {
			writeError(w, http.StatusBadRequest, "api.command.duplicate_trigger.app_error", "This trigger word is already in use. Please choose another word.")
			return
		}
	}
	c.Id, c.Token, c.CreatorId, c.PluginId = "", "", me.Id, ""
	c.PreSave()
	if err := c.IsValid(); err != nil {
		writeJSON(w, http.StatusBadRequest, err)
		return
	}
	s.commands[c.Id] = &c
	s.notifyLocked()
	writeJSON(w, http.StatusCreated, &c)
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request, me *model.User) {
	var p model.Post
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.channelMembers[p.ChannelId][me.Id] { // create_post
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	// The server remembers pending_post_id for a while and answers a resend
	// with the post it already created.
	if p.PendingPostId != "" {
		if seen, ok := s.pending[p.PendingPostId]; ok && time.Since(seen.at) < pendingWindow {
			writeJSON(w, http.StatusCreated, s.posts[seen.postID])
			return
		}
	}
	p.UserId = me.Id
	if err := s.savePostLocked(&p); err != nil {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", err.Error())
		return
	}
	if p.PendingPostId != "" {
		s.pending[p.PendingPostId] = pendingPost{postID: p.Id, at: time.Now()}
	}
	writeJSON(w, http.StatusCreated, &p)
}

func (s *Server) createEphemeral(w http.ResponseWriter, r *http.Request, me *model.User) {
	var e model.PostEphemeral
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.Post == nil || !model.IsValidId(e.UserID) {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing ephemeral post in request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// posts.yaml: create_post_ephemeral, "currently only given to system admin".
	if !model.IsInRole(me.Roles, model.SystemAdminRoleId) {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	if _, ok := s.channels[e.Post.ChannelId]; !ok {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid channel_id.")
		return
	}
	p := e.Post
	p.Id, p.UserId, p.CreateAt = model.NewId(), me.Id, s.millisLocked()
	p.UpdateAt = p.CreateAt
	s.ephemerals = append(s.ephemerals, &model.PostEphemeral{UserID: e.UserID, Post: p.Clone()})
	s.notifyLocked()
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) updatePost(w http.ResponseWriter, r *http.Request, me *model.User) {
	var in model.Post
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Id != r.PathValue("post_id") {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.editablePostLocked(w, in.Id, me)
	if !ok {
		return
	}
	// posts.yaml: only these fields are updatable, omitted ones become blank.
	p.Message, p.IsPinned, p.HasReactions = in.Message, in.IsPinned, in.HasReactions
	p.SetProps(in.GetProps())
	s.finishEditLocked(w, p)
}

func (s *Server) patchPost(w http.ResponseWriter, r *http.Request, me *model.User) {
	var patch model.PostPatch
	if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
		writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.editablePostLocked(w, r.PathValue("post_id"), me)
	if !ok {
		return
	}
	p.Patch(&patch)
	s.finishEditLocked(w, p)
}

// editablePostLocked finds a post the caller may edit (edit_post: their own).
func (s *Server) editablePostLocked(w http.ResponseWriter, id string, me *model.User) (*model.Post, bool) {
	p, ok := s.posts[id]
	if !ok || p.DeleteAt != 0 {
		writeError(w, http.StatusNotFound, "app.post.get.app_error", "Unable to get the post.")
		return nil, false
	}
	if p.UserId != me.Id {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return nil, false
	}
	return p, true
}

func (s *Server) finishEditLocked(w http.ResponseWriter, p *model.Post) {
	now := s.millisLocked()
	p.EditAt, p.UpdateAt = now, now
	if err := p.IsValid(maxPostSize); err != nil {
		writeJSON(w, http.StatusBadRequest, err)
		return
	}
	s.broadcastPostLocked(model.WebsocketEventPostEdited, p)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[r.PathValue("channel_id")]
	if !ok {
		writeError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
		return
	}
	if !s.channelMembers[c.Id][me.Id] {
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// getPostsSince is GetPostsForChannel. With since it returns every post
// modified after that time (deleted ones included, so clients can drop
// them), at most 1000, ordered by create time, newest first as in every
// PostList; without since, a page of the channel's live posts.
func (s *Server) getPostsSince(w http.ResponseWriter, r *http.Request, me *model.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chID := r.PathValue("channel_id")
	if _, ok := s.channels[chID]; !ok {
		writeError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
		return
	}
	if !s.channelMembers[chID][me.Id] { // read_channel
		writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return
	}
	q := r.URL.Query()
	var since int64 = -1
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "api.context.invalid_url_param.app_error", "Invalid since parameter in request URL.")
			return
		}
		since = n
	}
	list := model.NewPostList()
	var picked []*model.Post
	for i := len(s.postOrder) - 1; i >= 0; i-- { // newest first
		p := s.posts[s.postOrder[i]]
		if p.ChannelId != chID {
			continue
		}
		if since >= 0 && p.UpdateAt > since || since < 0 && p.DeleteAt == 0 {
			picked = append(picked, p)
		}
	}
	limit := 1000
	if since < 0 {
		limit = 60
		if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
			limit = min(n, 200)
		}
	}
	if len(picked) > limit {
		if since >= 0 {
			picked = picked[len(picked)-limit:] // the oldest modifications first
		} else {
			picked = picked[:limit]
		}
	}
	for _, p := range picked {
		list.AddPost(p.Clone())
		list.AddOrder(p.Id)
	}
	writeJSON(w, http.StatusOK, list)
}
