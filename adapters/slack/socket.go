package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack/socketmode"

	"liaisonbot/bot"
	"liaisonbot/internal/backoff"
)

// Reconnect delays: Slack's own client backs off up to 5 minutes too.
const (
	reconnectMin = time.Second
	reconnectMax = 5 * time.Minute
)

// maxAck is the largest ack payload sent; Slack drops those of 20 KB or more.
const maxAck = 19 << 10

// runSocket holds the Socket Mode connection until ctx ends. slack-go
// reconnects by itself on most failures but returns on others (bad token,
// revoked app): this loop starts it again after a jittered backoff, so a
// Slack outage or a token fixed later does not need a restart.
func (a *Adapter) runSocket(ctx context.Context) error {
	opts := append([]socketmode.Option{socketmode.OptionLog(slogWriter{a.log})}, a.socketOpts...)
	client := socketmode.New(a.api, opts...)
	consumer := make(chan struct{})
	go func() {
		defer close(consumer)
		a.consumeSocket(ctx, client)
	}()
	defer func() { <-consumer }()

	b := backoff.Backoff{Min: reconnectMin, Max: reconnectMax}
	for {
		started := time.Now()
		err := client.RunContext(ctx)
		if ctx.Err() != nil {
			a.conn.set(false, "stopped")
			return nil
		}
		if time.Since(started) > time.Minute {
			b.Reset() // it was up for a while: this is a new outage
		}
		d := b.Next()
		reason := fmt.Sprintf("%v (retrying in %s)", err, d.Round(time.Second))
		a.conn.set(false, reason)
		a.log.Warn("socket mode connection ended", "err", err, "retry_in", d)
		if a.wait(ctx, d) != nil {
			a.conn.set(false, "stopped")
			return nil
		}
	}
}

// consumeSocket reads the client's events until ctx ends. Every envelope is
// acknowledged before any work, since Slack redelivers one that is not
// acknowledged within 3 seconds.
func (a *Adapter) consumeSocket(ctx context.Context, client *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-client.Events:
			a.socketEvent(ctx, client, evt)
		}
	}
}

func (a *Adapter) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.conn.set(false, "connecting")
	case socketmode.EventTypeConnectionError:
		a.conn.set(false, fmt.Sprintf("connection error: %v", evt.Data))
		a.log.Warn("socket mode connection error", "err", fmt.Sprint(evt.Data))
	case socketmode.EventTypeInvalidAuth:
		a.conn.set(false, "invalid app token")
		a.log.Error("socket mode: Slack refused the app token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeHello:
		a.conn.set(true, "")
		a.log.Info("socket mode connected")
	case socketmode.EventTypeDisconnect:
		a.conn.set(false, "Slack asked to reconnect")
	case socketmode.EventTypeEventsAPI:
		req := evt.Request
		a.ack(ctx, client, req, nil)
		env, err := decodeEnvelope(req.Payload)
		if err != nil {
			a.log.Warn("bad events payload", "err", err)
			return
		}
		if env.Type != "event_callback" {
			return
		}
		retry := ""
		if req.RetryAttempt > 0 {
			retry = fmt.Sprint(req.RetryAttempt)
		}
		if err := a.acceptEvent(ctx, env, retry); err != nil {
			// Already acknowledged: Slack will not send it again.
			a.log.Error("event not recorded", "event_id", env.EventID, "err", err)
		}
	case socketmode.EventTypeSlashCommand:
		req := evt.Request
		sc, err := decodeSlashCommandJSON(req.Payload)
		if err != nil {
			a.ack(ctx, client, req, nil)
			a.log.Warn("bad slash command", "err", err)
			return
		}
		// Each command in its own goroutine: the ack waits up to
		// InlineWait for the answer, and commands must not queue.
		a.inflight.Go(func() {
			r := a.commandRequest(sc)
			rctx := bot.WithRequestLog(context.WithoutCancel(ctx), r)
			a.serveCommand(rctx, r, sc.ResponseURL, func(rep reply, final bool) {
				if !final {
					a.ack(ctx, client, req, nil) // the answer follows through response_url
					return
				}
				a.ackReply(ctx, rctx, client, req, sc.ResponseURL, rep)
			})
		})
	case socketmode.EventTypeInteractive:
		req := evt.Request
		a.ack(ctx, client, req, nil)
		in, err := decodeInteractionJSON(req.Payload)
		if err != nil {
			a.log.Warn("bad interaction payload", "err", err)
			return
		}
		a.pressed(context.WithoutCancel(ctx), in)
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not read the envelope and so did not hand it on;
		// acknowledge it anyway, or Slack redelivers it forever.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				a.ack(ctx, client, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
			}
			a.log.Warn("socket mode: unreadable envelope", "err", bad.Cause)
		}
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("socket mode error", "type", string(evt.Type), "err", fmt.Sprint(evt.Data))
	}
}

func (a *Adapter) ack(ctx context.Context, client *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		a.log.Error("socket mode ack failed", "err", err)
	}
}

// ackReply acknowledges a slash command with its answer. An answer too big
// for an ack goes through the response_url instead, under rctx, the
// command's context.
func (a *Adapter) ackReply(ctx, rctx context.Context, client *socketmode.Client, req *socketmode.Request, responseURL string, rep reply) {
	if data := rep.appendJSON(nil); len(data) < maxAck {
		a.ack(ctx, client, req, json.RawMessage(data))
		return
	}
	a.ack(ctx, client, req, nil)
	a.inflight.Go(func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(rctx), commandTimeout)
		defer cancel()
		if err := a.respond(rctx, responseURL, rep); err != nil {
			a.log.ErrorContext(rctx, "answer too big to ack, and not delivered through response_url", "err", err)
		}
	})
}

// slogWriter routes slack-go's debug log lines into slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.log.Debug("socketmode", "msg", s)
	return nil
}
