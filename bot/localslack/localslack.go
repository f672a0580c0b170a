// Package localslack is a local Slack: the Web API that the demo and the
// tests talk to through slack-go's real client, and the signed requests
// (clicks, form submissions, slash commands, Events API callbacks) that
// Slack would send to exops. It is part of the product (`exops demo` runs on
// it), kept out of package bot so that the production bot exports no test
// helpers.
package localslack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// Slack is a Slack Web API stand-in for the demo and the tests, where
// no workspace is reachable. It is slacktest's server with chat.postMessage,
// chat.update and chat.postEphemeral replaced (slacktest has no chat.update,
// and its ts values are whole seconds that collide) by handlers that answer
// like Slack and keep a transcript.
type Slack struct {
	srv *slacktest.Server
	// clock stamps what Slack would stamp (message ts, action and event
	// times) in business time; signatures use the real time, as Slack's do,
	// since exops checks them against its transport clock.
	clock func() time.Time

	mu     sync.Mutex
	posts  []Posted
	nextTS int64 // microseconds since the epoch; ts values only go up
	// overrides replace the recording handlers, for tests of failures.
	overrides map[string]http.HandlerFunc
	// groups are the user groups usergroups.users.list answers with.
	groups map[string][]string
	views  []OpenedView
	homes  map[string]json.RawMessage // user → published Home view
	outage map[string][]Failure       // method → failures still to give
	files  map[string]*UploadedFile   // file id → file
	nextF  int
	// assistant is every assistant.threads.* call; status the status each
	// assistant thread shows now (assistant.go).
	assistant []AssistantCall
	status    map[string]string
	limits    *limiter // rate limits enforced (ratelimit.go); nil: none
}

// UploadedFile is a file the bot uploaded with the external upload flow.
type UploadedFile struct {
	ID, Name, Channel, Comment string
	Content                    []byte
	Shared                     bool // completeUploadExternal was called
}

// OpenedView is a modal the bot opened with views.open.
type OpenedView struct {
	TriggerID string          `json:"trigger_id"`
	View      json.RawMessage `json:"view"`
}

// Posted is one message the bot sent to Slack.
type Posted struct {
	Method   string          `json:"method"` // chat.postMessage, chat.update, chat.postEphemeral
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user,omitempty"` // who sees an ephemeral message
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Button is one button found in a posted message's blocks.
type Button struct {
	Text     string `json:"text"`
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Value    string `json:"value"`
	// Label is the button's accessibility label, which on exops cards names
	// the recommendation ("Approve: Release credit hold").
	Label string `json:"label,omitempty"`
}

// New starts a local Slack API server. Close it when done.
func New(clock func() time.Time) *Slack {
	l := &Slack{clock: clock}
	l.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		// Custom handlers are registered first and win over slacktest's.
		c.Handle("/chat.postMessage", l.handle("chat.postMessage"))
		c.Handle("/chat.update", l.handle("chat.update"))
		c.Handle("/chat.postEphemeral", l.handle("chat.postEphemeral"))
		c.Handle("/views.open", l.viewsOpen)
		c.Handle("/views.publish", l.viewsPublish)
		c.Handle("/usergroups.users.list", l.groupMembers)
		c.Handle("/conversations.open", l.conversationsOpen)
		c.Handle("/conversations.history", l.conversationsHistory)
		c.Handle("/conversations.replies", l.conversationsReplies)
		c.Handle("/files.getUploadURLExternal", l.uploadURL)
		c.Handle("/upload/", l.upload)
		c.Handle("/private/", l.download)
		c.Handle("/files.completeUploadExternal", l.completeUpload)
		c.Handle("/chat.getPermalink", l.getPermalink)
		for _, m := range []string{"setStatus", "setSuggestedPrompts", "setTitle"} {
			c.Handle("/assistant.threads."+m, l.assistantMethod(m))
		}
	})
	l.srv.Start()
	return l
}

// APIURL is the URL to give the bot as Config.APIURL.
func (l *Slack) APIURL() string { return l.srv.GetAPIURL() }

// Server is the underlying slacktest server, for Socket Mode tests that
// need its WebSocket.
func (l *Slack) Server() *slacktest.Server { return l.srv }

// Close stops the server.
func (l *Slack) Close() { l.srv.Stop() }

// Transcript returns a copy of everything posted so far, in order.
func (l *Slack) Transcript() []Posted {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Posted(nil), l.posts...)
}

// Handle replaces an API method, such as chat.postMessage with a handler
// that answers 429 to test rate limits, or adds one slacktest lacks.
func (l *Slack) Handle(method string, h http.HandlerFunc) {
	method = strings.TrimPrefix(method, "/")
	switch method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		// slacktest's routes cannot be registered twice; ours look here first.
		l.mu.Lock()
		if l.overrides == nil {
			l.overrides = map[string]http.HandlerFunc{}
		}
		l.overrides[method] = h
		l.mu.Unlock()
	default:
		l.srv.Handle("/"+method, h)
	}
}

func (l *Slack) handle(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if l.overLimit(w, r, method) {
			return
		}
		l.mu.Lock()
		override := l.overrides[method]
		var fail *Failure
		if q := l.outage[method]; len(q) > 0 {
			fail, l.outage[method] = &q[0], q[1:]
		}
		l.mu.Unlock()
		if fail != nil && !fail.AfterPost {
			if fail.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fail.RetryAfter))
			}
			w.WriteHeader(fail.Status)
			return
		}
		if override != nil {
			override(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		f := r.PostForm
		p := Posted{
			Method:   method,
			Channel:  f.Get("channel"),
			ThreadTS: f.Get("thread_ts"),
			User:     f.Get("user"),
			Text:     f.Get("text"),
		}
		if bl := f.Get("blocks"); bl != "" {
			if !json.Valid([]byte(bl)) {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks_format"})
				return
			}
			p.Blocks = json.RawMessage(bl)
		}
		if md := f.Get("metadata"); md != "" && json.Valid([]byte(md)) {
			p.Metadata = json.RawMessage(md)
		}
		if p.Channel == "" {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		if p.Text == "" && p.Blocks == nil {
			writeJSON(w, map[string]any{"ok": false, "error": "no_text"})
			return
		}

		l.mu.Lock()
		if method == "chat.update" {
			p.TS = f.Get("ts")
			if !l.hasMessage(p.Channel, p.TS) {
				l.mu.Unlock()
				writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
				return
			}
		} else {
			// ts values follow the clock, and never repeat or go back.
			l.nextTS = max(l.nextTS+100, l.clock().UnixMicro())
			p.TS = fmt.Sprintf("%d.%06d", l.nextTS/1_000_000, l.nextTS%1_000_000)
		}
		l.posts = append(l.posts, p)
		if method == "chat.postMessage" {
			l.clearStatus(p.Channel, p.ThreadTS) // a reply ends "is thinking…"
		}
		l.mu.Unlock()
		if fail != nil { // AfterPost: taken, and the answer lost
			w.WriteHeader(fail.Status)
			return
		}

		msg := map[string]any{"type": "message", "text": p.Text, "ts": p.TS, "bot_id": "B000EXOPS"}
		if p.Blocks != nil {
			msg["blocks"] = p.Blocks
		}
		if p.ThreadTS != "" {
			msg["thread_ts"] = p.ThreadTS
		}
		switch method {
		case "chat.postEphemeral":
			writeJSON(w, map[string]any{"ok": true, "message_ts": p.TS})
		default:
			writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "text": p.Text, "message": msg})
		}
	}
}

// hasMessage reports whether a non-ephemeral message was posted at ts.
// Callers hold l.mu.
func (l *Slack) hasMessage(channel, ts string) bool {
	for _, p := range l.posts {
		if p.Method == "chat.postMessage" && p.Channel == channel && p.TS == ts {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// Buttons lists the buttons in the message's blocks, in order.
func (p Posted) Buttons() []Button {
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Label    string `json:"accessibility_label"`
			// A button's text is an object; a context element's is a string.
			Text json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(p.Blocks, &blocks); err != nil {
		return nil
	}
	var out []Button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" {
				var text struct {
					Text string `json:"text"`
				}
				_ = json.Unmarshal(e.Text, &text)
				out = append(out, Button{Text: text.Text, ActionID: e.ActionID, BlockID: b.BlockID, Value: e.Value, Label: e.Label})
			}
		}
	}
	return out
}

// Click sends the interactions endpoint what Slack sends when userID clicks
// button b on message p: a signed block_actions payload shaped like Slack's
// documented one. A non-200 answer is an error.
func (l *Slack) Click(ctx context.Context, interactionsURL, signingSecret, userID string, p Posted, b Button) error {
	body, err := ClickBody(userID, p, b, l.clock())
	if err != nil {
		return err
	}
	return l.post(ctx, interactionsURL, signingSecret, body, fmt.Sprintf("click %s on %s", b.ActionID, p.TS))
}

// Sign computes Slack's v0 request signature.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// ClickBody is the form-encoded body (payload=…) Slack posts when userID
// clicks button b on message p at time at.
func ClickBody(userID string, p Posted, b Button, at time.Time) ([]byte, error) {
	actionTS := fmt.Sprintf("%d.%06d", at.Unix(), at.Nanosecond()/1000)
	trigger := sha256.Sum256([]byte(actionTS + userID + p.TS))
	blocks := p.Blocks
	if blocks == nil {
		blocks = json.RawMessage("[]")
	}
	payload := map[string]any{
		"type": "block_actions",
		"user": map[string]any{
			"id": userID, "username": strings.ToLower(userID), "name": strings.ToLower(userID), "team_id": "T0EXOPS01",
		},
		"api_app_id": "A0EXOPS01",
		"token":      "verification-token-unused",
		"container": map[string]any{
			"type": "message", "message_ts": p.TS, "channel_id": p.Channel, "is_ephemeral": false,
		},
		"trigger_id": fmt.Sprintf("%d.%d.%x", at.Unix(), 47445629121, trigger[:16]),
		"team":       map[string]any{"id": "T0EXOPS01", "domain": "exops-local"},
		"enterprise": nil,
		"channel":    map[string]any{"id": p.Channel, "name": strings.TrimPrefix(p.Channel, "#")},
		"message": map[string]any{
			"type": "message", "bot_id": "B000EXOPS", "text": p.Text, "ts": p.TS, "blocks": blocks,
		},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/T0EXOPS01/000000000000/local",
		"actions": []map[string]any{{
			"action_id": b.ActionID,
			"block_id":  b.BlockID,
			"text":      map[string]any{"type": "plain_text", "text": b.Text, "emoji": true},
			"value":     b.Value,
			"type":      "button",
			"action_ts": actionTS,
		}},
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("click payload: %w", err)
	}
	return []byte(url.Values{"payload": {string(raw)}}.Encode()), nil
}

// FormatTranscript writes what was posted as people would read it.
func FormatTranscript(w io.Writer, posts []Posted) {
	for _, p := range posts {
		var what string
		switch {
		case p.Method == "chat.update":
			what = "card updated"
		case p.Method == "chat.postEphemeral":
			what = "ephemeral to @" + p.User
		case p.ThreadTS != "":
			what = "thread reply"
		default:
			what = "new card"
		}
		fmt.Fprintf(w, "→ #%s (%s) ts=%s\n", strings.TrimPrefix(p.Channel, "#"), what, p.TS)
		for _, line := range blockLines(p) {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
}

// slackDateToken matches <!date^unix^format|fallback>, shown as its fallback.
var slackDateToken = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)

// readable turns mrkdwn into what a reader sees, near enough for a transcript.
func readable(s string) string {
	s = slackDateToken.ReplaceAllString(s, "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// buttonLine renders an actions block's buttons as "[Approve: title]".
func buttonLine(raw json.RawMessage) string {
	var buttons []string
	for _, b := range (Posted{Blocks: json.RawMessage("[" + string(raw) + "]")}).Buttons() {
		label := b.Label
		if label == "" {
			label = b.Text
		}
		buttons = append(buttons, "["+label+"]")
	}
	return strings.Join(buttons, " ")
}

// blockLines extracts the readable text of a message: the header, sections,
// fields and context lines, or the plain text when there are no blocks.
func blockLines(p Posted) []string {
	type text struct {
		Text string `json:"text"`
	}
	var blocks []struct {
		Type   string `json:"type"`
		Text   *text  `json:"text"`
		Fields []text `json:"fields"`
		// Raw, because elements differ by block: context elements have
		// text strings, buttons have text objects.
		Elements []json.RawMessage `json:"elements"`
	}
	if len(p.Blocks) == 0 || json.Unmarshal(p.Blocks, &blocks) != nil || len(blocks) == 0 {
		return strings.Split(p.Text, "\n")
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(p.Blocks, &raws)
	var lines []string
	add := func(s string) {
		for _, l := range strings.Split(readable(s), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	for i, b := range blocks {
		switch b.Type {
		case "actions":
			add(buttonLine(raws[i]))
		case "header":
			if b.Text != nil {
				add("== " + b.Text.Text + " ==")
			}
		case "section":
			if b.Text != nil {
				add(b.Text.Text)
			}
			var fields []string
			for _, f := range b.Fields {
				fields = append(fields, strings.ReplaceAll(f.Text, "\n", " "))
			}
			if len(fields) > 0 {
				add(strings.Join(fields, " | "))
			}
		case "context":
			for _, raw := range b.Elements {
				var e text
				if json.Unmarshal(raw, &e) == nil {
					add(e.Text)
				}
			}
		case "divider":
			add("----")
		}
	}
	return lines
}

// SetGroup makes usergroups.users.list answer members for group.
func (l *Slack) SetGroup(group string, members ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.groups == nil {
		l.groups = map[string][]string{}
	}
	l.groups[group] = members
}

func (l *Slack) groupMembers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	l.mu.Lock()
	members, ok := l.groups[r.Form.Get("usergroup")]
	l.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "users": members})
}

func (l *Slack) viewsOpen(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var body struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.TriggerID == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	l.mu.Lock()
	l.views = append(l.views, OpenedView{TriggerID: body.TriggerID, View: body.View})
	n := len(l.views)
	l.mu.Unlock()
	var view map[string]any
	_ = json.Unmarshal(body.View, &view)
	view["id"] = fmt.Sprintf("V%08d", n)
	writeJSON(w, map[string]any{"ok": true, "view": view})
}

// Views returns the modals opened so far.
func (l *Slack) Views() []OpenedView {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]OpenedView(nil), l.views...)
}

// SubmitView sends the interactions endpoint what Slack sends when userID
// submits modal v with the given input values (block id → action id →
// value): a signed view_submission payload.
//
// A string value fills a plain_text_input; a time fills a datetimepicker.
func (l *Slack) SubmitView(ctx context.Context, interactionsURL, signingSecret, userID string, v OpenedView, values map[string]map[string]any) error {
	var view map[string]any
	if err := json.Unmarshal(v.View, &view); err != nil {
		return fmt.Errorf("submit view: %w", err)
	}
	state := map[string]any{}
	for block, actions := range values {
		m := map[string]any{}
		for action, value := range actions {
			switch v := value.(type) {
			case time.Time:
				m[action] = map[string]any{"type": "datetimepicker", "selected_date_time": v.Unix()}
			default:
				m[action] = map[string]any{"type": "plain_text_input", "value": fmt.Sprint(v)}
			}
		}
		state[block] = m
	}
	view["id"] = "V00000001"
	view["state"] = map[string]any{"values": state}
	payload := map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": "T0EXOPS01", "domain": "exops-local"},
		"user":       map[string]any{"id": userID, "username": strings.ToLower(userID), "name": strings.ToLower(userID), "team_id": "T0EXOPS01"},
		"api_app_id": "A0EXOPS01",
		"token":      "verification-token-unused",
		"trigger_id": "12345.98765.abcd2358fdea",
		"view":       view,
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("submit view: %w", err)
	}
	return l.post(ctx, interactionsURL, signingSecret, []byte(url.Values{"payload": {string(raw)}}.Encode()), "view_submission")
}

// post signs a form body as Slack does and POSTs it to target.
func (l *Slack) post(ctx context.Context, target, signingSecret string, body []byte, what string) error {
	return l.send(ctx, target, signingSecret, "application/x-www-form-urlencoded", body, what)
}

// send signs body as Slack does (v0 over the timestamp and the raw body)
// and POSTs it; an answer other than 200 is an error.
func (l *Slack) send(ctx context.Context, target, signingSecret, contentType string, body []byte, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", contentType)
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", Sign(signingSecret, stamp, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", what, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (l *Slack) viewsPublish(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var body struct {
		UserID string          `json:"user_id"`
		View   json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.UserID == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	l.mu.Lock()
	if l.homes == nil {
		l.homes = map[string]json.RawMessage{}
	}
	l.homes[body.UserID] = body.View
	l.mu.Unlock()
	var view map[string]any
	_ = json.Unmarshal(body.View, &view)
	view["id"] = "VHOME" + body.UserID
	writeJSON(w, map[string]any{"ok": true, "view": view})
}

// Home returns the App Home view last published for user.
func (l *Slack) Home(user string) json.RawMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.homes[user]
}

func (l *Slack) conversationsOpen(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	users := r.Form.Get("users")
	if users == "" || strings.Contains(users, ",") {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + users, "is_im": true}})
}

func (l *Slack) uploadURL(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	name, size := r.Form.Get("filename"), r.Form.Get("length")
	if name == "" || size == "" || size == "0" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	l.mu.Lock()
	l.nextF++
	id := fmt.Sprintf("F%07d", l.nextF)
	if l.files == nil {
		l.files = map[string]*UploadedFile{}
	}
	l.files[id] = &UploadedFile{ID: id, Name: name}
	l.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "upload_url": l.APIURL() + "upload/" + id, "file_id": id})
}

func (l *Slack) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(io.LimitReader(file, 50<<20))
	l.mu.Lock()
	f, ok := l.files[id]
	if ok {
		f.Content = data
	}
	l.mu.Unlock()
	if !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

func (l *Slack) completeUpload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.Form.Get("files")), &files); err != nil || len(files) != 1 {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	l.mu.Lock()
	f, ok := l.files[files[0].ID]
	if ok {
		f.Shared, f.Channel, f.Comment = true, r.Form.Get("channel_id"), r.Form.Get("initial_comment")
	}
	l.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "file_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "files": []map[string]any{{"id": f.ID, "title": files[0].Title}}})
}

// Files returns the files uploaded and shared so far.
func (l *Slack) Files() []UploadedFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []UploadedFile
	for _, f := range l.files {
		if f.Shared {
			out = append(out, *f)
		}
	}
	return out
}

// Command sends the commands endpoint what Slack sends when userID types
// "/exops TEXT" in channel: a signed form post.
func (l *Slack) Command(ctx context.Context, commandsURL, signingSecret, userID, channel, text string) error {
	body := url.Values{
		"token": {"verification-token-unused"}, "team_id": {"T0EXOPS01"}, "team_domain": {"exops-local"},
		"channel_id": {channel}, "channel_name": {strings.TrimPrefix(channel, "#")}, "user_id": {userID},
		"user_name": {strings.ToLower(userID)}, "command": {"/exops"}, "text": {text},
		"api_app_id":   {"A0EXOPS01"},
		"response_url": {"https://hooks.slack.com/commands/T0EXOPS01/0000/local"}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"},
	}.Encode()
	return l.post(ctx, commandsURL, signingSecret, []byte(body), "/exops "+text)
}

// Event sends the events endpoint an Events API callback wrapping inner
// (an app_mention, message or app_home_opened event), signed, with eventID.
func (l *Slack) Event(ctx context.Context, eventsURL, signingSecret, eventID string, inner map[string]any) error {
	raw, err := json.Marshal(map[string]any{
		"token": "verification-token-unused", "team_id": "T0EXOPS01", "api_app_id": "A0EXOPS01",
		"event": inner, "type": "event_callback", "event_id": eventID, "event_time": l.clock().Unix(),
		"authorizations": []map[string]any{{"team_id": "T0EXOPS01", "user_id": "U0EXOPSBOT", "is_bot": true}},
	})
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	return l.send(ctx, eventsURL, signingSecret, "application/json", raw, "event "+eventID)
}

// conversationsHistory answers with the channel's top-level messages, newest
// first, with their metadata, as Slack does with include_all_metadata.
func (l *Slack) conversationsHistory(w http.ResponseWriter, r *http.Request) {
	if l.overLimit(w, r, "conversations.history") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	channel := r.Form.Get("channel")
	l.mu.Lock()
	var msgs []map[string]any
	for i := len(l.posts) - 1; i >= 0; i-- {
		p := l.posts[i]
		if p.Channel != channel || p.ThreadTS != "" || p.Method != "chat.postMessage" {
			continue
		}
		m := map[string]any{"type": "message", "ts": p.TS, "text": p.Text, "bot_id": "B000EXOPS"}
		if p.Metadata != nil {
			m["metadata"] = p.Metadata
		}
		msgs = append(msgs, m)
	}
	l.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

// conversationsReplies answers with a thread: its parent and replies, oldest
// first, with their metadata.
func (l *Slack) conversationsReplies(w http.ResponseWriter, r *http.Request) {
	if l.overLimit(w, r, "conversations.replies") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	channel, ts := r.Form.Get("channel"), r.Form.Get("ts")
	l.mu.Lock()
	var msgs []map[string]any
	for _, p := range l.posts {
		if p.Channel != channel || p.Method != "chat.postMessage" || (p.TS != ts && p.ThreadTS != ts) {
			continue
		}
		m := map[string]any{"type": "message", "ts": p.TS, "text": p.Text, "bot_id": "B000EXOPS"}
		if p.ThreadTS != "" {
			m["thread_ts"] = p.ThreadTS
		}
		if p.Metadata != nil {
			m["metadata"] = p.Metadata
		}
		msgs = append(msgs, m)
	}
	l.mu.Unlock()
	if len(msgs) == 0 {
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

// Failure is one failed answer of an outage: an HTTP status and, for 429,
// the Retry-After seconds.
type Failure struct {
	Status     int
	RetryAfter int
	// AfterPost: Slack takes the call (the message is posted) and then the
	// answer is lost, as in a 500 after the post or a timeout.
	AfterPost bool
}

// Outage makes the next calls of method fail as listed, before it works
// again; nothing is recorded for a failed call, as Slack posts nothing.
func (l *Slack) Outage(method string, failures ...Failure) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.outage == nil {
		l.outage = map[string][]Failure{}
	}
	l.outage[method] = append(l.outage[method], failures...)
}

// ShareFile makes content downloadable as a Slack file would be (its
// url_private_download, which needs the bot token) and returns the file
// object an event carries.
func (l *Slack) ShareFile(name, mimetype string, content []byte) map[string]any {
	l.mu.Lock()
	l.nextF++
	id := fmt.Sprintf("F%07d", l.nextF)
	if l.files == nil {
		l.files = map[string]*UploadedFile{}
	}
	l.files[id] = &UploadedFile{ID: id, Name: name, Content: content}
	l.mu.Unlock()
	return map[string]any{"id": id, "name": name, "mimetype": mimetype, "filetype": "pdf", "size": len(content),
		"url_private_download": l.APIURL() + "private/" + id + "/" + name}
}

func (l *Slack) download(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer xoxb-") {
		http.Error(w, "not authed", http.StatusUnauthorized)
		return
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/private/"), "/")
	l.mu.Lock()
	f, ok := l.files[id]
	l.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(f.Content)
}
