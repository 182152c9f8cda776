// Package grammar is the one command-line grammar every adapter shares: words,
// key:value options and double-quoted values, checked against a command's usage
// string. The usage string ("contact <query>") is at once the parser, the help
// line and the registration, so the three can never disagree.
package grammar

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits keep a hostile or accidental paste from costing more than a normal
// command: chat platforms cap messages at a few thousand characters anyway.
const (
	MaxLineBytes = 4000
	MaxTokens    = 64
)

// Token is one word of a command line, unquoted.
type Token struct {
	Text   string // the word as typed, without surrounding quotes
	Key    string // for key:value tokens, the lower-cased key; "" otherwise
	Value  string // for key:value tokens, the value (unquoted)
	Quoted bool   // the word (or the option's value) was quoted
	Start  int    // byte offsets of the token in the line, quotes included
	End    int
}

// IsOption reports whether the token has the key:value shape. Whether it is an
// option of a given command is decided against that command's usage.
func (t Token) IsOption() bool { return t.Key != "" }

// Error is a problem with what the user typed; its text is safe to show them.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Tokenize splits a line into tokens. Double quotes (straight or the curly ones
// that phones and macOS substitute) group words; a backslash inside quotes
// escapes the next character. Apostrophes are ordinary letters, since names
// like "Côte d'Ivoire" are typed every day.
func Tokenize(line string) ([]Token, error) { return AppendTokens(nil, line) }

// AppendTokens is Tokenize appending to dst, so that a caller can keep the
// tokens of an ordinary line in an array of its own (on its stack) instead
// of a fresh slice per line. On error it returns nil.
func AppendTokens(dst []Token, line string) ([]Token, error) {
	if len(line) > MaxLineBytes {
		return nil, errorf("the command is too long (%d bytes, at most %d)", len(line), MaxLineBytes)
	}
	if !utf8.ValidString(line) {
		return nil, errorf("the command is not valid UTF-8 text")
	}
	n0 := len(dst)
	i := 0
	for {
		for i < len(line) {
			if c := line[i]; c < utf8.RuneSelf {
				if !asciiSpace[c] {
					break
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		if i >= len(line) {
			return dst, nil
		}
		if len(dst)-n0 == MaxTokens {
			return nil, errorf("too many words in the command (at most %d)", MaxTokens)
		}
		tok, next, err := scanToken(line, i)
		if err != nil {
			return nil, err
		}
		dst = append(dst, tok)
		i = next
	}
}

// asciiSpace is unicode.IsSpace below utf8.RuneSelf, for the byte-wise
// reading of ASCII, which nearly every command line is.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' || r == '„' }

// scanToken reads one token starting at i: a run of non-space characters in
// which quoted stretches may contain spaces (so key:"two words" is one token).
// A token without quotes is the line's own substring; one with quotes is
// built, in one allocation of the size a first pass measured.
func scanToken(line string, start int) (Token, int, error) {
	end, colon, plain := scanPlain(line, start)
	n, quoted := 0, false
	if !plain {
		var err error
		if end, n, colon, quoted, err = unquote(line, start, nil); err != nil {
			return Token{}, 0, err
		}
	}
	text := line[start:end]
	if quoted {
		var b strings.Builder
		b.Grow(n)
		unquote(line, start, &b)
		text = b.String()
	}
	tok := Token{Text: text, Quoted: quoted, Start: start, End: end}
	if colon > 0 {
		key := tok.Text[:colon]
		if isOptionKey(key) {
			tok.Key = strings.ToLower(key)
			tok.Value = tok.Text[colon+1:]
		}
	}
	return tok, end, nil
}

// scanPlain reads a token of ASCII without quotes, the common case, a byte
// at a time. It gives up (plain false) at a quote or a non-ASCII byte, for
// unquote to read the token instead; otherwise end and colon are as
// unquote's.
func scanPlain(line string, start int) (end, colon int, plain bool) {
	colon = -1
	for i := start; i < len(line); i++ {
		switch c := line[i]; {
		case c >= utf8.RuneSelf || c == '"':
			return 0, 0, false
		case asciiSpace[c]:
			return i, colon, true
		case c == ':' && colon < 0:
			colon = i - start
		}
	}
	return len(line), colon, true
}

// unquote walks the token starting at start, writing its text to b when b
// is not nil. It returns where the token ends, the length of its text, the
// index in the text of the first colon outside quotes (before any quote;
// -1 when none) and whether the token has quotes.
func unquote(line string, start int, b *strings.Builder) (end, n, colon int, quoted bool, err error) {
	colon = -1
	i := start
	write := func(r rune, size int) {
		if b != nil {
			b.WriteRune(r)
		}
		n += size
	}
	for i < len(line) {
		r, size := utf8.DecodeRuneInString(line[i:])
		if unicode.IsSpace(r) {
			break
		}
		if isQuote(r) {
			quoted = true
			i += size
			closed := false
			for i < len(line) {
				r, size = utf8.DecodeRuneInString(line[i:])
				i += size
				if isQuote(r) {
					closed = true
					break
				}
				if r == '\\' && i < len(line) {
					r, size = utf8.DecodeRuneInString(line[i:])
					i += size
				}
				write(r, size)
			}
			if !closed {
				return 0, 0, 0, false, errorf("a quote opened at character %d is never closed", utf8.RuneCountInString(line[:start])+1)
			}
			continue
		}
		if r == ':' && colon < 0 && !quoted {
			colon = n
		}
		write(r, size)
		i += size
	}
	return i, n, colon, quoted, nil
}

// isOptionKey accepts short identifier-like keys only, so that "12:30",
// "https://…" or "Note:" in free text are not mistaken for options.
func isOptionKey(key string) bool {
	if len(key) == 0 || len(key) > 24 {
		return false
	}
	for i, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r == '_' || r == '-' || (r >= '0' && r <= '9')):
		default:
			return false
		}
	}
	return true
}
