package bot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// EventsHandler serves POST /slack/events: the url_verification handshake,
// then app mentions and direct messages (questions), the assistant pane's
// thread events (assistant.go) and app_home_opened. A retried event (same
// event_id) is handled once.
func (b *Bot) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := b.readSigned(w, r, "events")
		if !ok {
			return
		}
		var outer struct {
			Type    string `json:"type"`
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(body, &outer); err != nil || outer.Type == "" {
			// Sending it again will not make it one.
			w.Header().Set("X-Slack-No-Retry", "1")
			http.Error(w, "not an Events API payload", http.StatusBadRequest)
			return
		}
		ev, err := parseEvent(body)
		if err != nil {
			// The request is signed, so Slack sent it: an event type
			// slack-go does not know (Slack adds them) or a field shaped
			// otherwise than slack-go expects. Either way exops has
			// nothing to do with it; an error status would only make Slack
			// send it three more times and count failures against the
			// subscription.
			b.log.Info("event not understood, ignored", "type", outer.Type, "event_id", outer.EventID, "err", err)
			w.WriteHeader(http.StatusOK)
			return
		}
		if ev.Type == slackevents.URLVerification {
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil || ch.Challenge == "" {
				http.Error(w, "bad challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, ch.Challenge)
			return
		}
		w.WriteHeader(http.StatusOK)
		if ev.Type == slackevents.AppRateLimited {
			// Slack stops sending events for up to a minute; the ones
			// dropped are not resent. Nothing to answer, but worth a look.
			b.log.Warn("Slack is rate limiting exops's events", "team", ev.TeamID)
			return
		}
		if outer.EventID != "" && b.seenEvent(r.Context(), outer.EventID) {
			b.log.Info("event retry ignored", "event_id", outer.EventID, "retry", r.Header.Get("X-Slack-Retry-Num"), "reason", r.Header.Get("X-Slack-Retry-Reason"))
			return
		}
		b.background(func(ctx context.Context) { b.handleEvent(ctx, ev) })
	})
}

// parseEvent reads an Events API payload. slack-go refuses a whole event
// when its blocks or attachments (or an app_home_opened's view) hold a
// Block Kit element type it does not know, and Slack adds them. exops reads
// none of those, so they are dropped and the event read again.
func parseEvent(body []byte) (slackevents.EventsAPIEvent, error) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err == nil {
		return ev, nil
	}
	slim, ok := withoutBlocks(body)
	if !ok {
		return ev, err
	}
	if ev2, err2 := slackevents.ParseEvent(json.RawMessage(slim), slackevents.OptionNoVerifyToken()); err2 == nil {
		return ev2, nil
	}
	return ev, err
}

// withoutBlocks is an event_callback payload without the Block Kit parts
// exops does not read; false if there were none to drop.
func withoutBlocks(body []byte) ([]byte, bool) {
	var outer map[string]json.RawMessage
	if json.Unmarshal(body, &outer) != nil {
		return nil, false
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(outer["event"], &inner) != nil || inner == nil {
		return nil, false
	}
	dropped := false
	strip := func(m map[string]json.RawMessage) {
		for _, k := range []string{"blocks", "attachments", "view"} {
			if _, ok := m[k]; ok {
				delete(m, k)
				dropped = true
			}
		}
	}
	strip(inner)
	// Edits, broadcasts and deletions carry the messages themselves.
	for _, k := range []string{"message", "previous_message", "root"} {
		var m map[string]json.RawMessage
		if json.Unmarshal(inner[k], &m) == nil && m != nil {
			strip(m)
			raw, err := json.Marshal(m)
			if err != nil {
				return nil, false
			}
			inner[k] = raw
		}
	}
	if !dropped {
		return nil, false
	}
	raw, err := json.Marshal(inner)
	if err != nil {
		return nil, false
	}
	outer["event"] = raw
	out, err := json.Marshal(outer)
	return out, err == nil
}

// seenEvent remembers event ids for an hour (Slack retries within minutes).
// If the memory cannot be asked, the event is handled: it was already
// acknowledged, and answering a question twice is better than never.
func (b *Bot) seenEvent(ctx context.Context, id string) bool {
	seen, _ := b.replayedKey(ctx, "event:"+id, time.Hour)
	return seen
}

func (b *Bot) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" || isOwnUser(ev, e.User) {
			return
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		if b.foreignUser(ev, e.UserTeam) {
			b.refuseForeign(ctx, e.Channel, e.User, thread, e.UserTeam)
			return
		}
		b.answerQuestion(ctx, question{channel: e.Channel, thread: thread, user: e.User, text: stripMention(ev, e.Text)})
	case *slackevents.MessageEvent:
		if e.BotID != "" || e.User == "" || e.SubType == "bot_message" || isOwnUser(ev, e.User) ||
			(e.Message != nil && e.Message.BotID != "") {
			return // bots, exops included, are not asking
		}
		document := e.SubType == "file_share" && e.Message != nil && (e.ChannelType == "im" || e.ThreadTimeStamp != "")
		// Direct messages only; mentions come as app_mention. Edits and
		// other subtypes are not questions.
		if !document && (e.ChannelType != "im" || e.SubType != "") {
			return
		}
		if b.foreignUser(ev, e.UserTeam) {
			// Neither a question nor a document from another organisation:
			// an answer would tell them about cases, a document would be
			// read into one.
			b.refuseForeign(ctx, e.Channel, e.User, e.ThreadTimeStamp, e.UserTeam)
			return
		}
		if document {
			b.readDocuments(ctx, e)
			return
		}
		// A DM in a thread is the assistant pane's (as Slack's Bolt
		// frameworks take it); a DM outside one gets its answer threaded
		// under it.
		q := question{channel: e.Channel, thread: e.ThreadTimeStamp, user: e.User, text: e.Text, assistant: e.ThreadTimeStamp != ""}
		if q.thread == "" {
			q.thread = e.TimeStamp
		}
		b.answerQuestion(ctx, q)
	case *slackevents.AssistantThreadStartedEvent:
		b.assistantStarted(ctx, e.AssistantThread)
	case *slackevents.AssistantThreadContextChangedEvent:
		b.assistantContextChanged(ctx, e.AssistantThread)
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab == "home" || e.Tab == "" {
			b.PublishHome(ctx, e.User)
		}
	}
}

// isOwnUser reports whether user is the bot user an event was delivered
// for (the envelope's authorizations): exops's own messages are not
// questions even when a client left bot_id off them.
func isOwnUser(ev slackevents.EventsAPIEvent, user string) bool {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb == nil {
		return false
	}
	for _, a := range cb.Authorizations {
		if a.IsBot && a.UserID == user {
			return true
		}
	}
	return false
}

// foreignUser reports whether an event's user belongs to a workspace exops
// does not answer: in a Slack Connect channel (is_ext_shared_channel)
// people of other organisations can mention the bot, and an answer about
// cases would leave the company. Home is the workspace the event was
// delivered for (the envelope's team_id and its authorizations) and
// Config.TrustedTeams. A channel shared only among workspaces of one
// Enterprise Grid organisation is not externally shared, so nobody there
// is refused; nor in an org-wide install, whose home is every workspace of
// its organisation. An event without user_team is from home.
func (b *Bot) foreignUser(ev slackevents.EventsAPIEvent, userTeam string) bool {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb == nil || !cb.IsExtSharedChannel || userTeam == "" || userTeam == ev.TeamID || userTeam == cb.TeamID {
		return false
	}
	for _, a := range cb.Authorizations {
		if a.TeamID == userTeam || a.IsEnterpriseInstall {
			return false
		}
	}
	return !slices.Contains(b.cfg.TrustedTeams, userTeam)
}

// foreignClick is foreignUser for a click or form: the payload's team is
// the workspace it was delivered for, user.team_id the clicker's. A click
// carries no is_ext_shared_channel, so within an Enterprise Grid
// organisation, where another workspace may be a colleague's, nobody is
// refused.
func (b *Bot) foreignClick(ic slack.InteractionCallback) bool {
	team := ic.User.TeamID
	if team == "" || ic.Team.ID == "" || team == ic.Team.ID || ic.IsEnterpriseInstall || ic.Enterprise.ID != "" {
		return false
	}
	return !slices.Contains(b.cfg.TrustedTeams, team)
}

// refuseForeign tells a person of another organisation, privately, that
// exops does not answer them; nothing else is done or posted.
func (b *Bot) refuseForeign(ctx context.Context, channel, user, thread, team string) {
	b.log.Info("not answered: the user is from another workspace", "user", user, "team", team, "channel", channel)
	opts := []slack.MsgOption{slack.MsgOptionText("exops answers only people of the workspace it works for; ask your contact there.", false)}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, opts...); err != nil {
		b.log.Warn("tell a user from another workspace", "err", slackError("post ephemeral", err))
	}
}

// callbackEventID is the event_id of an event_callback ("" for others).
func callbackEventID(ev slackevents.EventsAPIEvent) string {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb != nil {
		return cb.EventID
	}
	return ""
}

// userMention is a user mention as Slack writes it, "<@U123>" or "<@U123|name>".
var userMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*`)

// stripMention takes exops's own mentions out of an app_mention's text, and
// keeps the others: "<@UEXOPS> what is <@U0ALICE> working on?" asks about
// Alice. The bot users the envelope's authorizations name are exops; a
// payload without them loses its leading mention only, which is the one
// that made it an app_mention.
func stripMention(ev slackevents.EventsAPIEvent, s string) string {
	own := map[string]bool{}
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb != nil {
		for _, a := range cb.Authorizations {
			if a.IsBot && a.UserID != "" {
				own[a.UserID] = true
			}
		}
	}
	if len(own) == 0 {
		s = strings.TrimSpace(s)
		if loc := userMention.FindStringIndex(s); loc != nil && loc[0] == 0 {
			s = s[loc[1]:]
		}
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(userMention.ReplaceAllStringFunc(s, func(m string) string {
		if own[userMention.FindStringSubmatch(m)[1]] {
			return ""
		}
		return m
	}))
}

func (b *Bot) reply(ctx context.Context, channel, thread, text string) {
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(text, 3900), false), slack.MsgOptionDisableLinkUnfurl()}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel, opts...); err != nil {
		b.log.Error("post reply", "channel", channel, "err", slackError("post reply", err))
	}
}
