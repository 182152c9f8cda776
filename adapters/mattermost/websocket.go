package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"liaisonbot/internal/backoff"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"
)

// helloTimeout bounds the wait for the server's hello after connecting.
const helloTimeout = 30 * time.Second

// follow keeps a websocket open until ctx ends. model.WebSocketClient does
// not reconnect: when a connection drops, follow makes a new one after a
// jittered, capped exponential backoff, and catches up on what it missed.
func (a *Adapter) follow(ctx context.Context) error {
	bo := backoff.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	for {
		healthy, err := a.session(ctx)
		if ctx.Err() != nil {
			a.setReady(errors.New("stopped"))
			return ctx.Err()
		}
		a.setReady(fmt.Errorf("websocket disconnected: %v", err))
		a.log.Warn("mattermost websocket disconnected, reconnecting", "err", err)
		if healthy {
			bo.Reset()
		}
		if err := a.wait(ctx, bo.Next()); err != nil {
			a.setReady(errors.New("stopped"))
			return err
		}
	}
}

// session runs one websocket connection until it fails. healthy reports
// whether it got as far as being ready, which resets the backoff.
func (a *Adapter) session(ctx context.Context) (healthy bool, err error) {
	dialer := &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 15 * time.Second,
		// The client's constructor takes no context; this makes shutdown
		// abandon a connection attempt to a server that does not answer.
		NetDialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	wsc, err := model.NewWebSocketClient4WithDialer(dialer, websocketURL(a.server), a.cfg.Mattermost.BotToken)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	wsc.Listen()
	defer closeWebsocket(wsc)

	// The client closes EventChannel and ResponseChannel when its reader
	// stops; every one of its channels must be drained or it blocks.
	events, responses := wsc.EventChannel, wsc.ResponseChannel
	hello := time.NewTimer(helloTimeout)
	defer hello.Stop()
	ready := false
	for {
		select {
		case <-ctx.Done():
			return ready, ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return ready, dropError(wsc)
			}
			if ev.EventType() == model.WebsocketEventHello && !ready {
				hello.Stop()
				if err := a.catchUp(ctx); err != nil {
					return false, fmt.Errorf("catch up after connecting: %w", err)
				}
				ready = true
				a.setReady(nil)
				a.log.Info("mattermost websocket connected", "watched_channels", len(a.watched))
				continue
			}
			a.handleEvent(ctx, ev)
		case resp, ok := <-responses:
			if !ok {
				responses = nil // events closes too; that case reports the drop
				continue
			}
			if resp.Status == model.StatusFail {
				return ready, fmt.Errorf("the server refused the websocket (check MATTERMOST_BOT_TOKEN): %v", resp.Error)
			}
		case <-wsc.PingTimeoutChannel:
			return ready, errors.New("no ping from the server for over a minute")
		case <-hello.C:
			return false, errors.New("no hello from the server")
		}
	}
}

// closeWebsocket closes a client and drains its channels in the
// background, so that its reader goroutine can finish.
func closeWebsocket(wsc *model.WebSocketClient) {
	wsc.Close()
	go func() {
		events, responses := wsc.EventChannel, wsc.ResponseChannel
		for events != nil || responses != nil {
			select {
			case _, ok := <-events:
				if !ok {
					events = nil
				}
			case _, ok := <-responses:
				if !ok {
					responses = nil
				}
			case <-wsc.PingTimeoutChannel:
				// keeps its watchdog from blocking the reader
			}
		}
	}()
}

func dropError(wsc *model.WebSocketClient) error {
	if wsc.ListenError != nil {
		return fmt.Errorf("connection lost: %w", wsc.ListenError)
	}
	return errors.New("connection closed by the server")
}

// websocketURL is MATTERMOST_URL with a ws(s) scheme; the client appends
// /api/v4/websocket.
func websocketURL(server *url.URL) string {
	u := *server
	u.Scheme = "ws"
	if server.Scheme == "https" {
		u.Scheme = "wss"
	}
	return strings.TrimRight(u.String(), "/")
}
