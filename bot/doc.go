// Package bot is the platform-neutral core of liaisonbot: the Request an
// adapter decodes from a platform payload, the Message a handler answers with,
// the Adapter interface each platform implements, and the Mux that routes a
// command line to its handler through middleware (recover, audit, authorize),
// in the manner of net/http's Handler and ServeMux. The context a request
// is served with carries its log attributes (request id, platform, user id,
// incident id), which LogHandler puts on every line logged with it.
package bot
