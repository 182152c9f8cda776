// Package help answers `help [subcommand]` from the same registry that
// routes commands, so the help can never list a command that does not exist
// or miss one that does.
package help

import (
	"context"
	"fmt"
	"strings"

	"liaisonbot/bot"
)

// Register adds the help command to m.
func Register(m *bot.Mux) {
	m.Handle(bot.Command{
		Usage:   "help [subcommand]",
		Summary: "this list, or the usage of one subcommand",
		Access:  bot.AccessEveryone,
		Handler: bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Message, error) {
			return answer(m, req), nil
		}),
	})
}

func answer(m *bot.Mux, req *bot.Request) *bot.Message {
	topic := strings.ToLower(strings.Join(strings.Fields(req.Args.Get("subcommand")), " "))
	var shown []*bot.Command
	for _, c := range m.Commands() {
		if !c.Access.Allows(req.Role) {
			continue // list only what the person may run
		}
		if topic == "" || c.Name() == topic || strings.HasPrefix(c.Name(), topic+" ") {
			shown = append(shown, c)
		}
	}
	if len(shown) == 0 {
		return bot.Errorf(fmt.Sprintf("No subcommand %q. Type /%s help for the list.", topic, m.Name))
	}
	msg := &bot.Message{}
	if topic == "" {
		msg.Title = "/" + m.Name + " commands"
	}
	var b strings.Builder
	for i, c := range shown {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s  —  %s", m.UsageLine(c), c.Summary)
		if topic != "" && c.Help != "" {
			b.WriteString("\n    " + c.Help)
		}
	}
	msg.Text = b.String()
	if topic == "" {
		msg.Footer = fmt.Sprintf("Options are written key:value; quote values with spaces (mission:\"Embassy of Japan\"). /%s help <subcommand> tells more.", m.Name)
	}
	return msg
}
