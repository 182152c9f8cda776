// Package console is the terminal adapter: a person (or a script) types
// command lines on standard input and reads the answers on standard output.
// Posts that would go to other channels (incident threads, digests) are
// printed too, labelled with their channel, so every feature can be tried
// without a chat platform.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"liaisonbot/bot"
)

// maxLine bounds one input line; longer ones are answered with an error and
// skipped, not allowed to stop the session.
const maxLine = 64 << 10

// Adapter is the console platform.
type Adapter struct {
	In      io.Reader
	Out     io.Writer
	Mux     *bot.Mux
	Channel string // the console channel typed in: "console" by default
	User    bot.User
	Role    bot.Role
	// Interactive prints a prompt before each line (a terminal); otherwise
	// answers are separated by a blank line so a script can split them.
	Interactive bool
	Now         func() time.Time
	// AfterLine runs after each answered line (the program flushes the
	// outbox there, so the posts a command caused follow its answer).
	AfterLine func(ctx context.Context)

	mu       sync.Mutex // one writer on Out at a time: answers and posts interleave
	seq      atomic.Int64
	writeErr error // the first failed write (a reader that went away): stop answering

}

var _ bot.Adapter = (*Adapter)(nil)

// Platform is "console".
func (a *Adapter) Platform() string { return bot.Console }

// Run answers lines until the input ends, ctx is done, or the person types
// quit. It returns nil at the end of input.
func (a *Adapter) Run(ctx context.Context) error {
	if a.Channel == "" {
		a.Channel = "console"
	}
	now := a.Now
	if now == nil {
		now = time.Now
	}
	r := bufio.NewReaderSize(a.In, 4096)
	for {
		if ctx.Err() != nil || a.outputGone() {
			return nil
		}
		if a.Interactive {
			a.write("liaison> ")
		}
		line, tooLong, err := readLine(r)
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				if a.Interactive {
					a.write("\n")
				}
				return nil
			}
			return fmt.Errorf("console input: %w", err)
		}
		text := strings.TrimSpace(line)
		switch {
		case tooLong:
			a.answer(bot.Errorf(fmt.Sprintf("That line is longer than %d bytes and was skipped.", maxLine)))
			continue
		case text == "" || strings.HasPrefix(text, "#"):
			continue
		case text == "quit" || text == "exit":
			return nil
		}
		req := &bot.Request{
			Platform: bot.Console, Channel: a.Channel, User: a.User, Role: a.Role,
			Text: text, Time: now(),
		}
		a.answer(a.Mux.Serve(ctx, req))
		if a.AfterLine != nil {
			a.AfterLine(ctx)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// readLine reads one line of any length, keeping at most maxLine bytes.
func readLine(r *bufio.Reader) (string, bool, error) {
	var b strings.Builder
	tooLong := false
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return b.String(), tooLong, err
		}
		if b.Len()+len(chunk) > maxLine {
			tooLong = true
		} else {
			b.Write(chunk)
		}
		if !isPrefix {
			return b.String(), tooLong, nil
		}
	}
}

func (a *Adapter) answer(m *bot.Message) {
	out := Render(m)
	if !a.Interactive {
		out += "\n"
	}
	a.write(out)
}

func (a *Adapter) write(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.writeErr != nil {
		return
	}
	if _, err := io.WriteString(a.Out, s); err != nil {
		a.writeErr = err
	}
}

// outputGone reports whether the output can no longer be written (`… |
// head -1`): the session then ends normally, so the program closes the
// store and writes its audit instead of dying on the broken pipe.
func (a *Adapter) outputGone() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writeErr != nil
}

// Post prints a message for another channel, labelled with it.
func (a *Adapter) Post(ctx context.Context, p bot.Post) (bot.MessageRef, error) {
	id := strconv.FormatInt(a.seq.Add(1), 10)
	label := "[console:" + p.Channel
	if p.ThreadRef != "" {
		label += " thread " + p.ThreadRef
	}
	label += " #" + id + "]"
	a.write(label + "\n" + Render(&p.Message) + "\n")
	return bot.MessageRef{Platform: bot.Console, Channel: p.Channel, ID: id}, nil
}

// Update prints the new text of an earlier post.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	a.write("[console:" + ref.Channel + " #" + ref.ID + " edited]\n" + Render(&m) + "\n")
	return nil
}
