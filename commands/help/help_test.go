package help_test

import (
	"context"
	"strings"
	"testing"

	"liaisonbot/bot"
	"liaisonbot/commands/help"
)

func TestHelpListsWhatTheRoleMayRun(t *testing.T) {
	m := bot.NewMux("liaison", nil)
	m.Use(bot.Authorize(m))
	nop := func(context.Context, *bot.Request) (*bot.Message, error) { return nil, nil }
	m.Handle(bot.Command{Usage: "contact <query>", Summary: "contacts", Help: "More about contact.", Handler: bot.HandlerFunc(nop)})
	m.Handle(bot.Command{Usage: "emergency", Summary: "numbers", Access: bot.AccessEveryone, Handler: bot.HandlerFunc(nop)})
	m.Handle(bot.Command{Usage: "incident open <summary>", Summary: "open", Handler: bot.HandlerFunc(nop)})
	m.Handle(bot.Command{Usage: "incident close <id>", Summary: "close", Handler: bot.HandlerFunc(nop)})
	help.Register(m)

	ask := func(text string, role bot.Role) *bot.Message {
		return m.Serve(context.Background(), &bot.Request{Text: text, Role: role})
	}
	agent := ask("help", bot.Role{Kind: bot.RoleAgent}).Text
	for _, want := range []string{"/liaison contact <query>", "/liaison emergency", "/liaison help [subcommand]", "/liaison incident close <id>", "/liaison incident open <summary>"} {
		if !strings.Contains(agent, want) {
			t.Errorf("agent help lacks %q:\n%s", want, agent)
		}
	}
	partner := ask("help", bot.Role{Kind: bot.RolePartner, Partner: "mpd"}).Text
	if strings.Contains(partner, "contact") || !strings.Contains(partner, "emergency") {
		t.Errorf("partner help:\n%s", partner)
	}
	if got := ask("help contact", bot.Role{Kind: bot.RoleAgent}).Text; !strings.Contains(got, "More about contact.") || strings.Contains(got, "emergency") {
		t.Errorf("help contact:\n%s", got)
	}
	if got := ask("help incident", bot.Role{Kind: bot.RoleAgent}).Text; !strings.Contains(got, "incident open") || !strings.Contains(got, "incident close") {
		t.Errorf("help incident:\n%s", got)
	}
	if msg := ask("help frob", bot.Role{Kind: bot.RoleAgent}); !msg.Error {
		t.Errorf("help of an unknown subcommand: %+v", msg)
	}
	if msg := ask("", bot.Role{Kind: bot.RoleAgent}); !strings.Contains(msg.Text, "/liaison emergency") {
		t.Errorf("an empty command should show help: %+v", msg)
	}
}
