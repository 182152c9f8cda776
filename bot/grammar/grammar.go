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
func Tokenize(line string) ([]Token, error) {
	if len(line) > MaxLineBytes {
		return nil, errorf("the command is too long (%d bytes, at most %d)", len(line), MaxLineBytes)
	}
	if !utf8.ValidString(line) {
		return nil, errorf("the command is not valid UTF-8 text")
	}
	var tokens []Token
	i := 0
	for {
		for i < len(line) {
			r, size := utf8.DecodeRuneInString(line[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		if i >= len(line) {
			return tokens, nil
		}
		if len(tokens) == MaxTokens {
			return nil, errorf("too many words in the command (at most %d)", MaxTokens)
		}
		tok, next, err := scanToken(line, i)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
		i = next
	}
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' || r == '„' }

// scanToken reads one token starting at i: a run of non-space characters in
// which quoted stretches may contain spaces (so key:"two words" is one token).
func scanToken(line string, start int) (Token, int, error) {
	var b strings.Builder
	quoted := false
	colon := -1 // index in b of the first colon outside quotes
	i := start
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
				b.WriteRune(r)
			}
			if !closed {
				return Token{}, 0, errorf("a quote opened at character %d is never closed", utf8.RuneCountInString(line[:start])+1)
			}
			continue
		}
		if r == ':' && colon < 0 && !quoted {
			colon = b.Len()
		}
		b.WriteRune(r)
		i += size
	}
	tok := Token{Text: b.String(), Quoted: quoted, Start: start, End: i}
	if colon > 0 {
		key := tok.Text[:colon]
		if isOptionKey(key) {
			tok.Key = strings.ToLower(key)
			tok.Value = tok.Text[colon+1:]
		}
	}
	return tok, i, nil
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
