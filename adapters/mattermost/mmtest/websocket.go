package mmtest

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"
)

// serverVersion is what the hello event reports.
const serverVersion = "10.5.0.mmtest"

// wsConn is one authenticated websocket. Writes are serialised: gorilla
// allows one concurrent writer.
type wsConn struct {
	c      *websocket.Conn
	userID string

	mu  sync.Mutex
	seq int64
}

func (c *wsConn) send(ev *model.WebSocketEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, err := ev.SetSequence(c.seq).ToJSON()
	if err != nil {
		return
	}
	c.seq++
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.c.WriteMessage(websocket.TextMessage, data)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// websocket is /api/v4/websocket as introduction.yaml describes it: the
// client authenticates with an authentication_challenge action, gets a
// status OK response with seq_reply, then a hello event, then events.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refused := s.wsRefused || s.down
	s.mu.Unlock()
	if refused {
		writeError(w, http.StatusServiceUnavailable, "api.server.down", "The server is not accepting connections.")
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req model.WebSocketRequest
	if err := c.ReadJSON(&req); err != nil {
		return
	}
	token, _ := req.Data["token"].(string)
	s.mu.Lock()
	uid, ok := s.tokens[token]
	s.mu.Unlock()
	if req.Action != string(model.WebsocketAuthenticationChallenge) || !ok {
		_ = c.WriteJSON(model.NewWebSocketError(req.Seq, model.NewAppError("WebSocketRouter", "api.web_socket_router.not_authenticated.app_error", nil, "", http.StatusUnauthorized)))
		return
	}
	conn := &wsConn{c: c, userID: uid}
	conn.mu.Lock()
	err = c.WriteJSON(model.NewWebSocketResponse(model.StatusOk, req.Seq, nil))
	conn.mu.Unlock()
	if err != nil {
		return
	}
	hello := model.NewWebSocketEvent(model.WebsocketEventHello, "", "", uid, nil, "")
	hello.Add("server_version", serverVersion)
	conn.send(hello)

	s.mu.Lock()
	s.ws[conn] = true
	s.wsTotal++
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.ws, conn)
		s.notifyLocked()
		s.mu.Unlock()
	}()

	// Read until the connection ends; the adapter sends nothing after the
	// challenge, but a client may, and the reads also process pongs.
	_ = c.SetReadDeadline(time.Time{})
	for {
		var in model.WebSocketRequest
		if err := c.ReadJSON(&in); err != nil {
			return
		}
		conn.mu.Lock()
		_ = c.WriteJSON(model.NewWebSocketResponse(model.StatusOk, in.Seq, nil))
		conn.mu.Unlock()
	}
}

// broadcastPostLocked pushes a post event to the websockets of the
// channel's members; s.mu must be held.
func (s *Server) broadcastPostLocked(kind model.WebsocketEventType, p *model.Post) {
	ch := s.channels[p.ChannelId]
	if ch == nil {
		return
	}
	ev := model.NewWebSocketEvent(kind, "", ch.Id, "", nil, "")
	for k, v := range s.postEventData(p) {
		if kind != model.WebsocketEventPosted && k != "post" {
			continue // post_edited and post_deleted carry only the post
		}
		ev.Add(k, v)
	}
	for c := range s.ws {
		if s.channelMembers[ch.Id][c.userID] {
			c.send(ev)
		}
	}
}

// DropWebsockets cuts every websocket without a closing handshake, as a
// network failure or a server restart does.
func (s *Server) DropWebsockets() {
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.ws))
	for c := range s.ws {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.c.UnderlyingConn().Close()
	}
	// Wait for the handlers to unregister, so a post made right after this
	// call is surely not delivered over the old connections.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Await(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range conns {
			if s.ws[c] {
				return false
			}
		}
		return true
	})
}

// SetWebsocketRefused makes new websocket connections fail (503) or work again.
func (s *Server) SetWebsocketRefused(refused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wsRefused = refused
	s.notifyLocked()
}

// WebsocketsOpen is the number of authenticated websockets now open.
func (s *Server) WebsocketsOpen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ws)
}

// WebsocketsTotal is the number of websockets ever authenticated.
func (s *Server) WebsocketsTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wsTotal
}

// Broadcast pushes an arbitrary event to every websocket, for tests of
// what a client does with events it does not expect.
func (s *Server) Broadcast(ev *model.WebSocketEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.ws {
		c.send(ev)
	}
}
