package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/exops/exops/cases"
)

const (
	// maxInteractionBody bounds what an unauthenticated caller can make us
	// read and hash. A block_actions payload carries the whole card (up to
	// 50 blocks), which stays well under this.
	maxInteractionBody = 64 << 10
	// signatureWindow is how far a request's timestamp may be from our
	// clock, as Slack recommends, so a captured request cannot be replayed
	// later.
	signatureWindow = 5 * time.Minute
)

// Words shown to the person who clicked when something failed that they
// cannot fix: never an error string or a stack trace.
const genericFailure = "Something went wrong on our side; the click was not recorded. Try again."

// InteractionsHandler serves POST /slack/interactions: it checks Slack's
// signature, answers 200 at once (Slack shows an error after 3 s) and
// handles the click in the background.
func (b *Bot) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if b.cfg.SigningSecret == "" {
			b.log.Error("interaction refused: no signing secret configured (set SLACK_SIGNING_SECRET)")
			http.Error(w, "interactions are not configured", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		if err := b.verify(r.Header, body); err != nil {
			b.log.Warn("interaction refused", "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			http.Error(w, "missing payload", http.StatusBadRequest)
			return
		}
		payload := form.Get("payload")
		if !json.Valid([]byte(payload)) {
			http.Error(w, "payload is not an interaction", http.StatusBadRequest)
			return
		}
		if b.replayed(r.Header.Get("X-Slack-Signature")) {
			// Slack never resends an interaction, so a second copy of a
			// signed request inside the window is a replay. 200 keeps it
			// quiet; nothing is decided twice.
			b.log.Warn("interaction ignored: replayed request")
			w.WriteHeader(http.StatusOK)
			return
		}
		// Answer first: decoding the payload (it carries the whole card)
		// and the work happen after Slack has its 200.
		w.WriteHeader(http.StatusOK)
		b.background(func(ctx context.Context) {
			var ic slack.InteractionCallback
			if err := json.Unmarshal([]byte(payload), &ic); err != nil {
				b.log.Warn("interaction payload not understood", "err", err)
				return
			}
			b.handleInteraction(ctx, ic)
		})
	})
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

// replayed remembers accepted signatures for the length of the window (after
// which the timestamp check refuses them anyway) and reports a repeat.
func (b *Bot) replayed(sig string) bool { return b.replayedKey(sig, signatureWindow) }

// replayedKey reports whether key was seen within ttl, and remembers it.
func (b *Bot) replayedKey(sig string, ttl time.Duration) bool {
	now := b.wallNow()
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
	if until, ok := b.seen[sig]; ok && now.After(until) {
		delete(b.seen, sig)
	}
	if _, ok := b.seen[sig]; ok {
		return true
	}
	b.seen[sig] = now.Add(2 * ttl)
	return false
}

// dispatch handles an acknowledged interaction in the background. HTTP and
// Socket Mode both end here.
func (b *Bot) dispatch(ic slack.InteractionCallback) {
	b.background(func(ctx context.Context) { b.handleInteraction(ctx, ic) })
}

func (b *Bot) handleInteraction(ctx context.Context, ic slack.InteractionCallback) {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
	case slack.InteractionTypeViewSubmission:
		switch ic.View.CallbackID {
		case CallbackReject:
			b.submitReject(ctx, ic)
		case CallbackSnooze, CallbackComment:
			b.submitCaseModal(ctx, ic)
		}
		return
	default:
		b.log.Debug("interaction ignored", "type", string(ic.Type))
		return
	}
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	for _, a := range ic.ActionCallback.BlockActions {
		switch a.ActionID {
		case ActionApprove:
			b.decide(ctx, ic, a, channel)
		case ActionReject:
			// The policy needs a reason for every rejection: ask for it.
			b.openRejectModal(ctx, ic, a, channel)
		case ActionAssign, ActionSnooze, ActionEscalate, ActionComment:
			b.caseAction(ctx, ic, a, channel)
		default:
			// Buttons of a later version, or another app's: not ours to judge.
			b.log.Debug("unknown action ignored", "action_id", a.ActionID)
		}
	}
}

func (b *Bot) decide(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction, channel string) {
	user := ic.User.ID
	caseID, recID, ok := strings.Cut(a.Value, "|")
	if !ok || caseID == "" || recID == "" {
		b.log.Warn("click with malformed button value", "action_id", a.ActionID, "user", user)
		b.ephemeral(ctx, channel, user, "That button is not one of exops's; nothing was recorded.")
		return
	}
	b.record(ctx, channel, user, cases.DecideRequest{Case: caseID, Recommendation: recID, Actor: user, Choice: cases.ChoiceApprove})
}

// record hands a decision to the engine and tells the person, in an
// ephemeral message, what it did or why it was refused.
func (b *Bot) record(ctx context.Context, channel, user string, req cases.DecideRequest) {
	log := b.log.With("case", req.Case, "recommendation", req.Recommendation, "user", user, "choice", string(req.Choice))
	res, err := b.svc.Decider.Decide(ctx, req)
	if err != nil {
		log.Info("click not recorded", "kind", cases.KindOf(err).String(), "err", err)
		b.answerErr(ctx, channel, user, err)
		return
	}
	log.Info("click recorded")
	msg := res.Message
	if msg == "" {
		msg = "Done: your " + string(req.Choice) + " is recorded."
	}
	b.ephemeral(ctx, channel, user, msg)
}

// ephemeral answers only the person who clicked.
func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) {
	if channel == "" || user == "" {
		b.log.Warn("cannot answer click: no channel or user")
		return
	}
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		b.log.Error("ephemeral answer failed", "channel", channel, "user", user, "err", slackError("post ephemeral", err))
	}
}

// RunSocketMode receives interactions over a Socket Mode WebSocket until ctx
// ends. It needs cfg.AppToken (xapp-…). Every envelope is acknowledged
// first, then handled like an HTTP interaction.
func (b *Bot) RunSocketMode(ctx context.Context) error {
	if b.cfg.AppToken == "" {
		return errors.New("bot: socket mode needs an app-level token (set SLACK_APP_TOKEN)")
	}
	api := slack.New(b.cfg.BotToken, apiOptions(b.cfg, slack.OptionAppLevelToken(b.cfg.AppToken))...)
	client := socketmode.New(api)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }()

	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bot: socket mode: %w", err)
		case evt := <-client.Events:
			b.socketEvent(ctx, client, evt)
		}
	}
}

// socketAcker is the part of socketmode.Client the event loop needs; tests
// substitute it.
type socketAcker interface {
	Ack(req socketmode.Request, payload ...any) error
}

func (b *Bot) socketEvent(ctx context.Context, client socketAcker, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.log.Info("socket mode connecting")
	case socketmode.EventTypeConnected:
		b.log.Info("socket mode connected")
	case socketmode.EventTypeConnectionError:
		b.log.Warn("socket mode connection error; socketmode retries", "err", fmt.Sprint(evt.Data))
	case socketmode.EventTypeInteractive:
		// Ack before any work: Slack shows the clicker an error after 3 s.
		if evt.Request != nil {
			if err := client.Ack(*evt.Request); err != nil {
				b.log.Error("socket mode ack failed", "err", err)
			}
		}
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			b.log.Warn("socket mode interactive event without a callback")
			return
		}
		b.dispatch(ic)
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeEventsAPI:
		// Acknowledged first, like every envelope, then handled as over HTTP.
		if evt.Request != nil {
			if err := client.Ack(*evt.Request); err != nil {
				b.log.Error("socket mode ack failed", "err", err)
			}
		}
		switch data := evt.Data.(type) {
		case slack.SlashCommand:
			b.background(func(ctx context.Context) { b.command(ctx, data) })
		case slackevents.EventsAPIEvent:
			// A retried envelope repeats the envelope id.
			if evt.Request != nil && evt.Request.EnvelopeID != "" && b.seenEvent("envelope:"+evt.Request.EnvelopeID) {
				return
			}
			b.background(func(ctx context.Context) { b.handleEvent(ctx, data) })
		}
	}
}
