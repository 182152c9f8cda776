// Package mattermost connects liaisonbot to a Mattermost server (SPEC §3).
//
// Inbound, Mattermost calls the bot over HTTP: POST /mattermost/command is
// the slash command's callback (its token checked in constant time) and
// POST /mattermost/actions receives interactive button presses (their
// context signed by the bot). Thread replies arrive over the websocket as
// posted events; after a reconnect, the posts made meanwhile in the watched
// channels are fetched, so none is missed.
//
// Outbound, the bot is a bot account using REST API v4 through
// model.Client4: posts with root_id for threads, ephemeral posts, edits,
// and at start-up the registration of its slash command.
//
// bot.Message is rendered as Mattermost Markdown with message attachments;
// every string in it is escaped so that nothing a user typed or an operator
// imported becomes a mention, a link or an image.
package mattermost
