package bot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
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
		ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
		if err != nil {
			http.Error(w, "not an Events API payload", http.StatusBadRequest)
			return
		}
		if ev.Type == slackevents.URLVerification {
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil {
				http.Error(w, "bad challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, ch.Challenge)
			return
		}
		var outer struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(body, &outer)
		w.WriteHeader(http.StatusOK)
		if outer.EventID != "" && b.seenEvent(r.Context(), outer.EventID) {
			b.log.Info("event retry ignored", "event_id", outer.EventID, "retry", r.Header.Get("X-Slack-Retry-Num"))
			return
		}
		b.background(func(ctx context.Context) { b.handleEvent(ctx, ev) })
	})
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
		if e.BotID != "" {
			return
		}
		thread := e.ThreadTimeStamp
		if thread == "" {
			thread = e.TimeStamp
		}
		b.answerQuestion(ctx, question{channel: e.Channel, thread: thread, user: e.User, text: stripMention(e.Text)})
	case *slackevents.MessageEvent:
		if e.BotID != "" || e.User == "" {
			return // bots, exops included, are not asking
		}
		if e.SubType == "file_share" && e.Message != nil && (e.ChannelType == "im" || e.ThreadTimeStamp != "") {
			b.readDocuments(ctx, e)
			return
		}
		// Direct messages only; mentions come as app_mention. Edits and
		// other subtypes are not questions.
		if e.ChannelType != "im" || e.SubType != "" {
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

var mentionPrefix = regexp.MustCompile(`<@[UW][A-Z0-9]+>\s*`)

func stripMention(s string) string { return strings.TrimSpace(mentionPrefix.ReplaceAllString(s, "")) }

func (b *Bot) reply(ctx context.Context, channel, thread, text string) {
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(text, 3900), false), slack.MsgOptionDisableLinkUnfurl()}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel, opts...); err != nil {
		b.log.Error("post reply", "channel", channel, "err", slackError("post reply", err))
	}
}
