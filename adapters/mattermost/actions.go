package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"liaisonbot/bot"
)

// Interactive buttons. Mattermost sends a button press to the action's URL
// with the context the bot put in it; nothing else authenticates the
// request. The context holds the command line and an HMAC of it under a
// secret only the bot knows (made once per install, kept in the store), so
// the endpoint runs no command line the bot did not itself offer.
// Mattermost never shows the context to clients.

// sign is the hex HMAC-SHA256 of a button's command line.
func (a *Adapter) sign(command string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(command))
	return hex.EncodeToString(mac.Sum(nil))
}

// verify checks a signature in constant time.
func (a *Adapter) verify(command, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(command))
	return hmac.Equal(got, mac.Sum(nil))
}

// serveAction answers POST /mattermost/actions: a button press, as
// model.PostActionIntegrationRequest. A bad signature gets 401 and nothing
// runs. Otherwise the command line runs as the person who pressed, in the
// channel of the post, and the answer comes back as ephemeral_text; an
// in-channel answer is posted to the channel instead.
func (a *Adapter) serveAction(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var in model.PostActionIntegrationRequest
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "malformed action request", http.StatusBadRequest)
		return
	}
	command, _ := in.Context["command"].(string)
	sig, _ := in.Context["sig"].(string)
	if command == "" || !a.verify(command, sig) {
		a.log.Warn("button press refused: bad or missing signature", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if strings.TrimSpace(in.UserId) == "" || strings.TrimSpace(in.ChannelId) == "" {
		http.Error(w, "missing field(s): user_id, channel_id", http.StatusBadRequest)
		return
	}
	req := &bot.Request{
		ID: bot.NewRequestID(), Platform: bot.Mattermost, Channel: in.ChannelId,
		User: bot.User{ID: in.UserId, Name: in.UserName, Team: in.TeamId},
		Text: command, Time: time.Now(),
	}
	ctx, cancel := context.WithTimeout(bot.WithRequestLog(r.Context(), req), syncWait)
	defer cancel()
	req.Role = a.role(ctx, in.UserId, in.ChannelId)
	m := a.mux.Serve(ctx, req)

	resp := &model.PostActionIntegrationResponse{SkipSlackParsing: true}
	if m.Visibility == bot.InChannel && a.client != nil {
		if _, err := a.Post(ctx, bot.Post{Channel: in.ChannelId, Message: *m, Key: req.ID}); err != nil {
			a.log.ErrorContext(ctx, "button answer not posted", "channel", in.ChannelId, "err", err)
			resp.EphemeralText = a.flatten(bot.Errorf("The answer could not be posted to the channel. Reference: " + req.ID + "."))
		}
	} else {
		resp.EphemeralText = a.flatten(m)
	}
	writeJSON(w, resp)
	a.log.DebugContext(ctx, "button press answered", "channel", in.ChannelId)
}
