package bot

import "fmt"

// UsageError is a command typed wrongly: the answer shows the usage line.
type UsageError struct {
	Err     error
	Command *Command // nil when the command itself could not be read
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError for the request's command.
func Usagef(req *Request, format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Command: req.Command}
}

// UnknownCommandError is a first word (or subcommand) that is not registered.
type UnknownCommandError struct {
	Word        string
	Suggest     string
	Group       bool // Word is a group such as "incident" with a missing or wrong subcommand
	Sub         string
	Subcommands []*Command
}

func (e *UnknownCommandError) Error() string { return fmt.Sprintf("unknown command %q", e.Word) }

// DeniedError is a command the person's role may not run.
type DeniedError struct {
	Command string
	Role    Role
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("You are not allowed to run %q (your role: %s). Ask the Protective Liaison Division if you need it.", e.Command, e.Role)
}
