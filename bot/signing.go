package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// readSigned reads a request body within the size limit and checks Slack's
// signature; on failure it has answered and returns false.
func (b *Bot) readSigned(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if b.cfg.SigningSecret == "" {
		b.log.Error(what + " refused: no signing secret configured (set SLACK_SIGNING_SECRET)")
		http.Error(w, what+" are not configured", http.StatusServiceUnavailable)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "could not read body", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := b.verify(r.Header, body); err != nil {
		b.log.Warn(what+" refused", "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// verify checks Slack's v0 signature and the timestamp window.
//
// slack.NewSecretsVerifier checks the window against time.Now, which cannot
// be injected, so the window is checked here with b.wallNow and the HMAC
// computed here too (the same v0 scheme: HMAC-SHA256 over
// "v0:<timestamp>:<body>", compared in constant time).
func (b *Bot) verify(h http.Header, body []byte) error {
	sig := h.Get("X-Slack-Signature")
	stamp := h.Get("X-Slack-Request-Timestamp")
	if sig == "" || stamp == "" {
		return errors.New("missing signature headers")
	}
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return errors.New("malformed timestamp")
	}
	if d := b.wallNow().Sub(time.Unix(secs, 0)); d > signatureWindow || d < -signatureWindow {
		return fmt.Errorf("timestamp %s is %s away from now", stamp, d.Round(time.Second))
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return errors.New("unknown signature version")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return errors.New("malformed signature")
	}
	mac := hmac.New(sha256.New, []byte(b.cfg.SigningSecret))
	mac.Write([]byte("v0:" + stamp + ":"))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("signature does not match")
	}
	return nil
}

// replayed remembers accepted signatures for twice the signature window
// (after which the timestamp check refuses them anyway) and reports a
// repeat. An error means the memory could not be asked: the caller refuses
// rather than risk doing a click twice.
func (b *Bot) replayed(ctx context.Context, sig string) (bool, error) {
	return b.replayedKey(ctx, "sig:"+sig, signatureWindow)
}

// replayedKey reports whether key was seen within ttl, and remembers it:
// in the store when the bot has one (cases.ReplayMemory: a restart or
// another replica knows it too), else in this process.
func (b *Bot) replayedKey(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	now := b.wallNow()
	if b.cfg.Replay != nil {
		first, err := b.cfg.Replay.SeenOnce(ctx, key, now, now.Add(2*ttl))
		if err != nil {
			b.log.Error("replay memory unavailable", "err", err)
			return false, err
		}
		return !first, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Expired entries are swept once a minute, not on every request: a
	// burst of clicks must not pay for a walk over every remembered one.
	if now.Sub(b.swept) > time.Minute {
		for s, until := range b.seen {
			if now.After(until) {
				delete(b.seen, s)
			}
		}
		b.swept = now
	}
	if until, ok := b.seen[key]; ok && now.After(until) {
		delete(b.seen, key)
	}
	if _, ok := b.seen[key]; ok {
		return true, nil
	}
	b.seen[key] = now.Add(2 * ttl)
	return false, nil
}
