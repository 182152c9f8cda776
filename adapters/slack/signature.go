package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// signatureWindow is how far a request's timestamp may be from now.
const signatureWindow = 5 * time.Minute

// signatures checks Slack's v0 request signatures exactly as slack-go's
// SecretsVerifier does (the same headers, checks, order and errors, so
// verifyReason reads both; a fuzz test holds the two equal), with one
// difference: its HMACs, keyed with the signing secret, are kept in a pool
// and reset, where slack-go makes a new one (and its buffers) for every
// request. That was the largest part of a slash command's cost after the
// network and the answer.
type signatures struct {
	secret string
	pool   sync.Pool // of *signer
}

// signer is one keyed HMAC and its scratch space.
type signer struct {
	mac    hash.Hash
	prefix []byte // "v0:<timestamp>:"
	sum    []byte
}

func newSignatures(secret string) *signatures {
	s := &signatures{secret: secret}
	s.pool.New = func() any {
		return &signer{mac: hmac.New(sha256.New, []byte(secret)), prefix: make([]byte, 0, 32), sum: make([]byte, 0, sha256.Size)}
	}
	return s
}

// verify returns nil when the headers sign body with the secret within the
// window around now, else slack-go's error for what is wrong.
func (s *signatures) verify(h http.Header, body []byte, now time.Time) error {
	if s.secret == "" {
		return slackapi.ErrInvalidConfiguration
	}
	sig, stamp := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || stamp == "" {
		return slackapi.ErrMissingHeaders
	}
	if len(sig) < 3 || sig[:3] != "v0=" {
		return slackapi.ErrInvalidSignature
	}
	var want [sha256.Size]byte
	n, err := decodeHex(want[:], sig[3:])
	if err != nil {
		return err
	}
	if n != sha256.Size {
		return slackapi.ErrInvalidSignature
	}
	ts, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return err
	}
	if now.Sub(time.Unix(ts, 0)).Abs() > signatureWindow {
		return slackapi.ErrExpiredTimestamp
	}
	sg := s.pool.Get().(*signer)
	defer s.pool.Put(sg)
	sg.mac.Reset()
	sg.prefix = append(append(append(sg.prefix[:0], "v0:"...), stamp...), ':')
	sg.mac.Write(sg.prefix)
	sg.mac.Write(body)
	sg.sum = sg.mac.Sum(sg.sum[:0])
	if !hmac.Equal(sg.sum, want[:]) {
		return slackapi.ErrInvalidSignature
	}
	return nil
}

// errHex is what a signature that is not hexadecimal gives; slack-go
// passes encoding/hex's error on, and verifyReason names it malformed.
type errHex struct{}

func (errHex) Error() string { return "signature is not hexadecimal" }

// decodeHex decodes s into dst, as encoding/hex would, without the copy
// of s that hex.Decode's []byte would take; n is how many bytes s holds,
// which may be more than dst (the caller refuses that length).
func decodeHex(dst []byte, s string) (n int, err error) {
	if len(s)%2 == 1 {
		return 0, errHex{}
	}
	for i := 0; i+1 < len(s); i += 2 {
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return 0, errHex{}
		}
		if n < len(dst) {
			dst[n] = hi<<4 | lo
		}
		n++
	}
	return n, nil
}

// fromHex is the value of the hexadecimal digit c. It is read from a table:
// every request's signature is 64 digits.
func fromHex(c byte) (byte, bool) {
	v := hexValue[c]
	return v, v != notHex
}

const notHex = 0xff

var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = notHex
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()
