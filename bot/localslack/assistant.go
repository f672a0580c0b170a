package localslack

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Slack's AI-app surface: the assistant.threads.* methods a bot calls in an
// assistant thread, chat.getPermalink for links to cards, and the events
// Slack sends when a user opens the assistant pane or looks at another
// channel while it is open.

// AssistantCall is one assistant.threads.* call the bot made.
type AssistantCall struct {
	Method   string            `json:"method"` // setStatus, setSuggestedPrompts, setTitle
	Channel  string            `json:"channel_id"`
	ThreadTS string            `json:"thread_ts"`
	Status   string            `json:"status,omitempty"`
	Title    string            `json:"title,omitempty"`
	Prompts  []AssistantPrompt `json:"prompts,omitempty"`
}

// AssistantPrompt is one suggested prompt.
type AssistantPrompt struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// maxAssistantPrompts is how many suggested prompts Slack takes.
const maxAssistantPrompts = 4

func threadKey(channel, ts string) string { return channel + "/" + ts }

// assistantMethod answers an assistant.threads.* method the way Slack's
// API does for the arguments it checks: channel_id and thread_ts are
// required, a status is at most 50 characters, prompts are a JSON array of
// at most four {title, message}, a title is required for setTitle.
func (l *Slack) assistantMethod(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		f := r.PostForm
		call := AssistantCall{Method: method, Channel: f.Get("channel_id"), ThreadTS: f.Get("thread_ts")}
		if call.Channel == "" || call.ThreadTS == "" {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		switch method {
		case "setStatus":
			call.Status = f.Get("status")
			if len([]rune(call.Status)) > 50 {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
				return
			}
		case "setSuggestedPrompts":
			call.Title = f.Get("title")
			if err := json.Unmarshal([]byte(f.Get("prompts")), &call.Prompts); err != nil || len(call.Prompts) == 0 || len(call.Prompts) > maxAssistantPrompts {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
				return
			}
			for _, p := range call.Prompts {
				if p.Title == "" || p.Message == "" {
					writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
					return
				}
			}
		case "setTitle":
			call.Title = f.Get("title")
			if call.Title == "" {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
				return
			}
		}
		l.mu.Lock()
		l.assistant = append(l.assistant, call)
		if method == "setStatus" {
			if l.status == nil {
				l.status = map[string]string{}
			}
			l.status[threadKey(call.Channel, call.ThreadTS)] = call.Status
		}
		l.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true})
	}
}

// AssistantCalls returns the assistant.threads.* calls so far, in order.
func (l *Slack) AssistantCalls() []AssistantCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AssistantCall(nil), l.assistant...)
}

// AssistantStatus is the status the thread shows now: the last one set,
// cleared (as Slack does) when the app replies in the thread.
func (l *Slack) AssistantStatus(channel, threadTS string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status[threadKey(channel, threadTS)]
}

// clearStatus is called, holding l.mu, when the app posts in a thread.
func (l *Slack) clearStatus(channel, threadTS string) {
	if threadTS != "" {
		delete(l.status, threadKey(channel, threadTS))
	}
}

// Permalink is the link chat.getPermalink gives for a message.
func (l *Slack) Permalink(channel, ts string) string {
	return "https://exops-local.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// getPermalink answers chat.getPermalink for messages posted here.
func (l *Slack) getPermalink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	channel, ts := r.Form.Get("channel"), r.Form.Get("message_ts")
	l.mu.Lock()
	found := l.hasMessage(channel, ts)
	l.mu.Unlock()
	if !found {
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": channel, "permalink": l.Permalink(channel, ts)})
}

// AssistantThreadStarted is the inner event Slack sends when user opens the
// assistant pane: a new thread in the app's DM channel, with the channel
// the user was looking at as its context.
func AssistantThreadStarted(user, dm, threadTS, contextChannel string) map[string]any {
	return assistantThreadEvent("assistant_thread_started", user, dm, threadTS, contextChannel)
}

// AssistantThreadContextChanged is the inner event Slack sends when the
// user looks at another channel while the pane is open.
func AssistantThreadContextChanged(user, dm, threadTS, contextChannel string) map[string]any {
	return assistantThreadEvent("assistant_thread_context_changed", user, dm, threadTS, contextChannel)
}

func assistantThreadEvent(typ, user, dm, threadTS, contextChannel string) map[string]any {
	return map[string]any{
		"type": typ,
		"assistant_thread": map[string]any{
			"user_id":    user,
			"context":    map[string]any{"channel_id": contextChannel, "team_id": "T0EXOPS01", "enterprise_id": ""},
			"channel_id": dm,
			"thread_ts":  threadTS,
		},
		"event_ts": threadTS,
	}
}

// AssistantMessage is the message event of a user writing in an assistant
// thread: an im message in the thread, as message.im delivers it.
func AssistantMessage(user, dm, threadTS, ts, text string) map[string]any {
	return map[string]any{
		"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "thread_ts": threadTS,
		"channel": dm, "event_ts": ts, "team": "T0EXOPS01",
		"blocks": []any{map[string]any{"type": "rich_text", "block_id": "b1", "elements": []any{
			map[string]any{"type": "rich_text_section", "elements": []any{map[string]any{"type": "text", "text": text}}}}}},
	}
}
