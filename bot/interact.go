package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

const (
	// maxInteractionBody bounds what an unauthenticated caller can make us
	// read and hash. A block_actions payload carries the whole message
	// clicked on, and a view_submission the whole modal: at Slack's limits
	// (50 blocks of 3,000-character sections and 40,000 characters of text
	// in a message, 100 blocks in a modal) and form-encoded, with each
	// non-ASCII character taking up to 9 bytes, that is under 2 MB. A card
	// exops posts for a big case is already over 64 KB.
	maxInteractionBody = 2 << 20
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
		seen, err := b.replayed(r.Context(), r.Header.Get("X-Slack-Signature"))
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if seen {
			// Slack never resends an interaction, so a second copy of a
			// signed request inside the window is a replay. 200 keeps it
			// quiet; nothing is decided twice.
			b.log.Warn("interaction ignored: replayed request")
			w.WriteHeader(http.StatusOK)
			return
		}
		if isViewSubmission(payload) {
			// A form is small, and what the answer says depends on it:
			// a blank field is shown on the form, which stays open.
			ic, err := decodeInteraction([]byte(payload))
			if err != nil {
				b.log.Warn("interaction payload not understood", "err", err)
				w.WriteHeader(http.StatusOK)
				return
			}
			if errs := viewErrors(ic); errs != nil {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(slack.NewErrorsViewSubmissionResponse(errs))
				return
			}
			w.WriteHeader(http.StatusOK)
			b.dispatch(ic)
			return
		}
		// Answer first: decoding the payload (it carries the whole card)
		// and the work happen after Slack has its 200.
		w.WriteHeader(http.StatusOK)
		b.background(func(ctx context.Context) {
			ic, err := decodeInteraction([]byte(payload))
			if err != nil {
				b.log.Warn("interaction payload not understood", "err", err)
				return
			}
			b.handleInteraction(ctx, ic)
		})
	})
}

// isViewSubmission reports whether an interaction payload is a modal's
// submission, reading only its type.
func isViewSubmission(payload string) bool {
	var head struct {
		Type slack.InteractionType `json:"type"`
	}
	return json.Unmarshal([]byte(payload), &head) == nil && head.Type == slack.InteractionTypeViewSubmission
}

// decodeInteraction reads an interaction payload. slack-go refuses a
// whole payload when the message clicked on or the modal holds a Block Kit
// element it does not know (Slack adds them); exops reads neither the
// message nor the modal's blocks, only the actions, the modal's state and
// metadata and who and where, so those are dropped and the rest read again.
func decodeInteraction(payload []byte) (slack.InteractionCallback, error) {
	var ic slack.InteractionCallback
	err := json.Unmarshal(payload, &ic)
	if err == nil {
		return ic, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil {
		return ic, err
	}
	delete(fields, "message")
	delete(fields, "original_message")
	if raw, ok := fields["view"]; ok {
		var view map[string]json.RawMessage
		if json.Unmarshal(raw, &view) == nil {
			delete(view, "blocks")
			if fields["view"], err = json.Marshal(view); err != nil {
				return ic, err
			}
		}
	}
	slim, merr := json.Marshal(fields)
	if merr != nil {
		return ic, merr
	}
	ic = slack.InteractionCallback{}
	if err2 := json.Unmarshal(slim, &ic); err2 != nil {
		return slack.InteractionCallback{}, err2
	}
	return ic, nil
}

// dispatch handles an acknowledged interaction in the background. HTTP and
// Socket Mode both end here.
func (b *Bot) dispatch(ic slack.InteractionCallback) {
	b.background(func(ctx context.Context) { b.handleInteraction(ctx, ic) })
}

func (b *Bot) handleInteraction(ctx context.Context, ic slack.InteractionCallback) {
	ctx = withResponseURL(ctx, ic.ResponseURL)
	if ic.User.ID == "" {
		// Nobody to record as the actor, and nobody to answer.
		b.log.Warn("interaction without a user ignored", "type", string(ic.Type))
		return
	}
	if b.foreignClick(ic) {
		// A person of another organisation in a Slack Connect channel:
		// no button of exops's changes a case for them.
		b.log.Info("click not taken: the user is from another workspace", "user", ic.User.ID, "team", ic.User.TeamID, "type", string(ic.Type))
		if ic.Type == slack.InteractionTypeBlockActions {
			channel := ic.Channel.ID
			if channel == "" {
				channel = ic.Container.ChannelID
			}
			b.ephemeral(ctx, channel, ic.User.ID, "exops takes clicks only from people of the workspace it works for; nothing was recorded.")
		}
		return
	}
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

// ephemeral answers only the person who clicked or typed the command.
// chat.postEphemeral needs exops in the channel; a command typed in a DM
// between people, or a private channel exops was never invited to, is
// answered through the request's response_url instead, which Slack made
// for answering that person there.
func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) {
	if user == "" {
		b.log.Warn("cannot answer click: no user")
		return
	}
	var err error
	if channel != "" {
		if _, err = b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err == nil {
			return
		}
	}
	if ok, rerr := b.respond(ctx, text); ok {
		return
	} else if rerr != nil {
		b.log.Error("answer through response_url failed", "user", user, "err", rerr)
	}
	if err != nil {
		b.log.Error("ephemeral answer failed", "channel", channel, "user", user, "err", slackError("post ephemeral", err))
	} else {
		b.log.Warn("cannot answer click: no channel or response_url")
	}
}

type responseURLKey struct{}

// withResponseURL gives the work for one request the response_url Slack
// sent with it (slash commands, clicks on messages).
func withResponseURL(ctx context.Context, u string) context.Context {
	if u == "" {
		return ctx
	}
	return context.WithValue(ctx, responseURLKey{}, u)
}

// responseHosts are where Slack's response_urls point.
var responseHosts = map[string]bool{"hooks.slack.com": true, "hooks.slack-gov.com": true}

// respond posts text, visible only to the person, to the request's
// response_url. It reports false with no error when there is none to use.
// Only Slack's own hooks are posted to (the LocalSlack exops is pointed at,
// when it is), so a payload cannot make exops post elsewhere.
func (b *Bot) respond(ctx context.Context, text string) (bool, error) {
	raw, _ := ctx.Value(responseURLKey{}).(string)
	if raw == "" {
		return false, nil
	}
	u, err := url.Parse(raw)
	if err != nil || !b.responseURLAllowed(u) {
		return false, errors.New("response_url is not Slack's")
	}
	msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text, ReplaceOriginal: false}
	if err := slack.PostWebhookCustomHTTPContext(ctx, u.String(), responseClient, msg); err != nil {
		return false, slackError("post to response_url", err)
	}
	return true, nil
}

var responseClient = &http.Client{Timeout: 10 * time.Second}

func (b *Bot) responseURLAllowed(u *url.URL) bool {
	if u.User != nil {
		return false
	}
	if b.cfg.APIURL != "" {
		api, err := url.Parse(b.cfg.APIURL)
		return err == nil && api.Host != "" && u.Scheme == api.Scheme && u.Host == api.Host
	}
	return u.Scheme == "https" && responseHosts[u.Host]
}
