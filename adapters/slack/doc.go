// Package slack is liaisonbot's Slack adapter. It turns what Slack sends into
// bot.Requests and bot.Events, answers with Block Kit, and posts through the
// Web API, on github.com/slack-go/slack.
//
// Two ways in, the same handling behind them:
//
//   - HTTP mode (SLACK_SIGNING_SECRET): POST /slack/commands (slash
//     commands), /slack/events (Events API) and /slack/interactions (button
//     presses). Every request is read whole, up to 64 KiB, and verified
//     with the signing secret before anything else looks at it: a request
//     that fails gets 401 (413 when too large) and nothing else happens.
//   - Socket Mode (SLACK_APP_TOKEN): the same payloads arrive as envelopes
//     over a websocket the adapter opens; each is acknowledged at once and
//     the connection is reopened with backoff when it drops.
//
// Slack gives a slash command three seconds. A command answered within
// InlineWait (2 s) is answered in the HTTP response (or the Socket Mode ack);
// a slower one is acknowledged with a short "Working on it…" and answered
// through the command's response_url when ready.
//
// Events are deduplicated by event_id in the store bucket "slack.events"
// (marked on receipt, before dispatch, kept an hour), so Slack's retries
// never reach the Mux twice, while a retry of an event never seen before is
// processed: it may be the first delivery that got through.
//
// Every string of a bot.Message is escaped for Slack (&, <, >) before it is
// rendered, so nothing typed or imported becomes a mention or a link.
package slack
