package config

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Masked renders the effective configuration as YAML for `liaisonbot config
// check`: every key with its effective value, defaults included. Values that
// only the environment holds are shown as comments above their section, with
// every secret as "****" when set or "(unset)" when not, so the output never
// contains a secret and parses back (with Parse) to the same configuration.
func (c *Config) Masked() string {
	root := mapNode()
	add := func(k string, v *yaml.Node, comment ...string) {
		kn := strNode(k)
		kn.HeadComment = strings.Join(comment, "\n")
		root.Content = append(root.Content, kn, v)
	}

	add("command", strNode(c.Command))
	add("public_url", strNode(c.PublicURL))
	add("listen", strNode(c.Listen))
	add("db", strNode(c.DB))

	add("slack", mapNode("internal_teams", flowList(c.Slack.InternalTeams)),
		"slack: "+c.slackStatus(),
		EnvSlackBotToken+": "+masked(c.Slack.BotToken),
		EnvSlackSigningSecret+": "+masked(c.Slack.SigningSecret),
		EnvSlackAppToken+": "+masked(c.Slack.AppToken),
		EnvSlackAPIURL+": "+strconv.Quote(c.Slack.APIURL))

	add("mattermost", mapNode(
		"url", strNode(c.Mattermost.URL),
		"team", strNode(c.Mattermost.Team),
		"internal_teams", flowList(c.Mattermost.InternalTeams)),
		"mattermost: "+c.mattermostStatus(),
		EnvMattermostBotToken+": "+masked(c.Mattermost.BotToken),
		EnvMattermostCommandToken+": "+masked(c.Mattermost.CommandToken))

	add("roles", mapNode("admins", flowList(c.Roles.Admins)))

	partners := listNode()
	for _, pt := range c.Partners {
		partners.Content = append(partners.Content, mapNode(
			"id", strNode(pt.ID),
			"name", strNode(pt.Name),
			"oncall", strNode(pt.Oncall),
			"channels", channelList(pt.Channels)))
	}
	add("partners", partners)

	teams := listNode()
	for _, t := range c.Teams {
		teams.Content = append(teams.Content, mapNode(
			"id", strNode(t.ID),
			"name", strNode(t.Name),
			"timezone", strNode(t.Timezone),
			"channels", channelList(t.Channels),
			"shift_changes", flowList(t.ShiftChanges),
			"remind_before", strNode(t.RemindBefore.String()),
			"ack_within", strNode(t.AckWithin.String()),
			"escalate_to", strNode(t.EscalateTo),
			"leads", flowList(t.Leads)))
	}
	add("teams", teams)

	add("incidents", mapNode("stale_after", strNode(c.Incidents.StaleAfter.String())))
	add("handoff", mapNode("catchup_window", strNode(c.Handoff.CatchupWindow.String())))
	if c.Audit.Retention > 0 {
		add("audit", mapNode("retention", strNode(c.Audit.Retention.String())))
	} else {
		add("audit", mapNode(), "audit.retention unset: every record is kept")
	}
	add("store", strNode(c.Store))

	user := "(unset)"
	if c.Etcd.User != "" {
		user = strconv.Quote(c.Etcd.User)
	}
	add("etcd", mapNode(
		"endpoints", flowList(c.Etcd.Endpoints),
		"prefix", strNode(c.Etcd.Prefix),
		"tls", mapNode(
			"ca", strNode(c.Etcd.TLS.CA),
			"cert", strNode(c.Etcd.TLS.Cert),
			"key", strNode(c.Etcd.TLS.Key))),
		EnvEtcdUser+": "+user,
		EnvEtcdPassword+": "+masked(c.Etcd.Password))

	source := "no config file: defaults and environment"
	if c.Path != "" {
		source = "file: " + strconv.Quote(c.Path)
	}
	doc := &yaml.Node{
		Kind:        yaml.DocumentNode,
		HeadComment: "liaisonbot effective configuration\n" + source,
		Content:     []*yaml.Node{root},
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Only strings are encoded, so this cannot happen; say so rather
		// than return something half-written.
		return "# cannot render the configuration: " + strconv.Quote(err.Error()) + "\n"
	}
	_ = enc.Close()
	return buf.String()
}

func (c *Config) slackStatus() string {
	switch {
	case !c.SlackEnabled():
		return "disabled (no " + EnvSlackBotToken + ")"
	case c.Slack.SocketMode():
		return "enabled, Socket Mode"
	default:
		return "enabled, HTTP mode"
	}
}

func (c *Config) mattermostStatus() string {
	switch {
	case c.MattermostEnabled():
		return "enabled"
	case c.Mattermost.URL == "":
		return "disabled (no url)"
	default:
		return "disabled (no " + EnvMattermostBotToken + ")"
	}
}

func masked(secret string) string {
	if secret == "" {
		return "(unset)"
	}
	return "****"
}

func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	// Left to itself the encoder may pick a block style for a string with
	// control characters and write something that does not parse back
	// ("\t0\r\r" becomes a literal block starting with a tab); double quotes
	// escape every such character.
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func listNode() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
}

func flowList(items []string) *yaml.Node {
	n := listNode()
	n.Style = yaml.FlowStyle
	for _, s := range items {
		n.Content = append(n.Content, strNode(s))
	}
	return n
}

func channelList(chs []Channel) *yaml.Node {
	items := make([]string, len(chs))
	for i, ch := range chs {
		items[i] = ch.String()
	}
	return flowList(items)
}

// mapNode builds a mapping from alternating key strings and value nodes.
func mapNode(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, strNode(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
