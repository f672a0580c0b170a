// Package bot is exops's Slack side: it posts case cards and thread replies,
// and turns button clicks (over HTTP or Socket Mode) into decisions by the
// case engine. It is the only package that imports slack-go; none of
// slack-go's types appear in what the engine sees (cases.Notifier).
//
// Files by concern: bot.go (configuration, the Notifier that posts, the
// Bot that answers), services.go (the small interfaces the bot needs of the
// application layer), signing.go (request signatures and replays),
// interact.go (buttons and forms), caseops.go and modal.go (case actions and
// their forms), commands.go (/exops), events.go (Events API: mentions, DMs,
// retries), home.go (App Home), files.go (documents shared in Slack),
// socket.go (Socket Mode), directory.go (user groups), card.go (Block Kit
// case cards). The local Slack for the demo and the tests is
// bot/localslack.
package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

// Config is what the bot needs to talk to Slack. Tokens and the signing
// secret are never logged.
type Config struct {
	BotToken      string // xoxb-…: Web API calls (SLACK_BOT_TOKEN)
	AppToken      string // xapp-…: Socket Mode only (SLACK_APP_TOKEN)
	SigningSecret string // HTTP interactions only (SLACK_SIGNING_SECRET)
	// APIURL points the Web API at another server, such as LocalSlack;
	// empty means Slack's real API.
	APIURL string
	Logger *slog.Logger
	// Clock is the business clock (required): ages on the Home tab and in
	// lists, snooze times, the dates people read.
	Clock cases.Clock
	// TransportNow is the real time for the signature's timestamp window,
	// the replay memory and caches; nil means time.Now. It is not business
	// time: a demo or test that moves the business clock still signs with
	// real time. Tests inject it to check Slack's documented example.
	TransportNow func() time.Time
	// Replay is the memory of handled requests; nil keeps it in this
	// process, so a replay after a restart would pass. Main gives the store.
	Replay ReplayMemory
	// Limits pace the outbox's calls (zero: Slack's published limits).
	Limits Limits
	// TrustedTeams are workspaces, beside the one an event is delivered
	// for, whose people exops answers (EXOPS_SLACK_TRUSTED_TEAMS): a sister
	// workspace joined by Slack Connect. Other organisations' people in a
	// shared channel are not answered (events.go, foreignUser).
	TrustedTeams []string
}

// ReplayMemory remembers handled Slack requests (cases.ReplayMemory, kept
// by the store).
type ReplayMemory interface {
	SeenOnce(ctx context.Context, key string, now, expires time.Time) (first bool, err error)
}

// Notifier is the posting half of the bot: cards, thread replies and
// messages, the engine's cases.Notifier. It is made first, so the engine
// can be built with it before the desk that the receiving half (Bot) needs.
type Notifier struct {
	cfg     Config
	api     *slack.Client
	log     *slog.Logger
	now     cases.Clock      // business time
	wallNow func() time.Time // transport time: signature windows, replay memory, caches
	pace    *pacer           // Slack's rate limits, for the outbox (pace.go)
}

// NewNotifier makes the posting half. cfg.BotToken and cfg.Clock are required.
func NewNotifier(cfg Config) (*Notifier, error) {
	if cfg.BotToken == "" {
		return nil, errors.New("bot: no bot token (set SLACK_BOT_TOKEN)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		return nil, errors.New("bot: no business clock")
	}
	if cfg.TransportNow == nil {
		cfg.TransportNow = time.Now
	}
	pace := newPacer(cfg.Limits, cfg.TransportNow)
	client := &http.Client{Timeout: 20 * time.Second, Transport: watch{next: http.DefaultTransport, pacer: pace}}
	return &Notifier{cfg: cfg, api: slack.New(cfg.BotToken, apiOptions(cfg, slack.OptionHTTPClient(client))...), log: cfg.Logger.With("component", "bot"),
		now: cfg.Clock, wallNow: cfg.TransportNow, pace: pace}, nil
}

// Bot posts case cards to Slack and handles what people do there: clicks,
// forms, slash commands, mentions, shared files and the Home tab.
type Bot struct {
	*Notifier
	svc Services

	// ctx bounds the work started by clicks; Close cancels it.
	ctx      context.Context
	cancel   context.CancelFunc
	inflight sync.WaitGroup

	mu    sync.Mutex
	seen  map[string]time.Time // signatures already accepted, until they expire
	swept time.Time            // when expired entries were last removed

	links linkCache // card permalinks for answer lists (assistant.go)
}

// handleTimeout bounds the work for one click: Decide plus the ephemeral
// answer. The click was already acknowledged, so this is not Slack's 3 s.
const handleTimeout = 30 * time.Second

// New makes a bot with its own Notifier. cfg.BotToken, cfg.Clock and
// s.Decider are required.
func New(cfg Config, s Services) (*Bot, error) {
	n, err := NewNotifier(cfg)
	if err != nil {
		return nil, err
	}
	return n.Serve(s)
}

// Serve makes the receiving half on this Notifier, answering with s.
func (n *Notifier) Serve(s Services) (*Bot, error) {
	if s.Decider == nil {
		return nil, errors.New("bot: no decider")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bot{Notifier: n, svc: s, ctx: ctx, cancel: cancel, seen: map[string]time.Time{}}, nil
}

func apiOptions(cfg Config, extra ...slack.Option) []slack.Option {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 20 * time.Second})}
	if cfg.APIURL != "" {
		// slack-go appends method names to the URL as is.
		opts = append(opts, slack.OptionAPIURL(strings.TrimSuffix(cfg.APIURL, "/")+"/"))
	}
	return append(opts, extra...)
}

// Wait blocks until every click being handled has finished.
func (b *Bot) Wait() { b.inflight.Wait() }

// Close stops the work of clicks still in flight and waits for it to end.
func (b *Bot) Close() error {
	b.cancel()
	b.inflight.Wait()
	return nil
}

// PostCard posts a new case card to c.Channel and returns where it landed.
func (n *Notifier) PostCard(ctx context.Context, c *cases.Case) (cases.SlackRef, error) {
	if c.Channel == "" {
		return cases.SlackRef{}, &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("case %s has no channel to post to", c.ID)}
	}
	channel, ts, err := n.api.PostMessageContext(ctx, c.Channel,
		slack.MsgOptionText(cases.DisplayText(CardText(c), true), false),
		slack.MsgOptionBlocks(CaseCard(c)...),
		slack.MsgOptionDisableLinkUnfurl(),
		// The case id rides along as message metadata, so FindCard can tell
		// whether a card whose ts was never recorded was posted after all.
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: cardEventType, EventPayload: map[string]any{"case": c.ID}}),
	)
	if err != nil {
		return cases.SlackRef{}, slackError(fmt.Sprintf("post card of %s to %s", c.ID, c.Channel), err)
	}
	n.pace.learn(c.Channel, channel)
	return cases.SlackRef{Channel: channel, TS: ts}, nil
}

// cardEventType marks exops case cards in Slack's message metadata.
const cardEventType = "exops_case"

// FindCard looks through the channel's newest messages for the card of c,
// by the case id in its metadata: after a crash between Slack taking a card
// and exops recording its ts, the card is found instead of posted twice.
func (n *Notifier) FindCard(ctx context.Context, c *cases.Case) (cases.SlackRef, bool, error) {
	ts, found, err := n.findInHistory(ctx, c.Channel, cardEventType, "case", c.ID)
	if err != nil {
		return cases.SlackRef{}, false, slackError(fmt.Sprintf("look for the card of %s in %s", c.ID, c.Channel), err)
	}
	if !found {
		return cases.SlackRef{}, false, nil
	}
	return cases.SlackRef{Channel: c.Channel, TS: ts}, true, nil
}

// findInHistory looks through channel's newest messages for one whose
// metadata has event type typ and field set to value, and returns its ts.
// A message exops posted there is among the newest few hundred unless the
// channel is very busy; past that it may be posted again, which beats
// losing it.
func (n *Notifier) findInHistory(ctx context.Context, channel, typ, field, value string) (string, bool, error) {
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true}
	for pages := 0; pages < 3; pages++ {
		resp, err := n.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == typ && fmt.Sprint(m.Metadata.EventPayload[field]) == value {
				return m.Timestamp, true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return "", false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", false, nil
}

// UpdateCard rewrites the card at c.Slack to show the case as it is now.
func (n *Notifier) UpdateCard(ctx context.Context, c *cases.Case) error {
	if c.Slack.Channel == "" || c.Slack.TS == "" {
		return &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("case %s has no card to update", c.ID)}
	}
	_, _, _, err := n.api.UpdateMessageContext(ctx, c.Slack.Channel, c.Slack.TS,
		slack.MsgOptionText(cases.DisplayText(CardText(c), true), false),
		slack.MsgOptionBlocks(CaseCard(c)...),
	)
	if err != nil {
		return slackError(fmt.Sprintf("update card of %s", c.ID), err)
	}
	return nil
}

// replyEventType marks exops thread replies in Slack's message metadata,
// with the reply's key, so FindReply can find one whose answer was lost.
const replyEventType = "exops_reply"

// PostReply posts text in the case's thread.
func (n *Notifier) PostReply(ctx context.Context, c *cases.Case, text, key string) error {
	if c.Slack.Channel == "" || c.Slack.TS == "" {
		return &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("case %s has no card to reply under", c.ID)}
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(truncate(cases.DisplayText(text, true), 40000), false),
		slack.MsgOptionTS(c.Slack.TS),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: replyEventType, EventPayload: map[string]any{"key": key}}))
	}
	_, _, err := n.api.PostMessageContext(ctx, c.Slack.Channel, opts...)
	if err != nil {
		return slackError(fmt.Sprintf("reply in thread of %s", c.ID), err)
	}
	return nil
}

// FindReply looks through the case's thread for the reply marked key.
func (n *Notifier) FindReply(ctx context.Context, c *cases.Case, key string) (bool, error) {
	if c.Slack.Channel == "" || c.Slack.TS == "" {
		return false, nil
	}
	params := &slack.GetConversationRepliesParameters{ChannelID: c.Slack.Channel, Timestamp: c.Slack.TS, Limit: 200, IncludeAllMetadata: true}
	for pages := 0; pages < 10; pages++ {
		msgs, more, cursor, err := n.api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return false, slackError(fmt.Sprintf("look for reply %s in the thread of %s", key, c.ID), err)
		}
		for _, m := range msgs {
			if m.Metadata.EventType == replyEventType && fmt.Sprint(m.Metadata.EventPayload["key"]) == key {
				return true, nil
			}
		}
		if !more || cursor == "" {
			return false, nil
		}
		params.Cursor = cursor
	}
	return false, nil
}

// postEventType marks exops messages about a case in another channel (an
// escalation to a manager channel) in Slack's message metadata, with the
// message's key, so FindMessage can find one whose answer was lost.
const postEventType = "exops_post"

// PostMessage posts text about a case in another channel (an escalation to
// a manager channel), with a pointer to the case's thread.
func (n *Notifier) PostMessage(ctx context.Context, channel string, c *cases.Case, text, key string) error {
	if channel == "" {
		return &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("no channel for a message about %s", c.ID)}
	}
	if c.Slack.Channel != "" && c.Slack.TS != "" {
		text += fmt.Sprintf("\nThe case thread: <#%s> (message %s).", strings.TrimPrefix(c.Slack.Channel, "#"), c.Slack.TS)
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(truncate(cases.DisplayText(text, true), 40000), false),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: postEventType, EventPayload: map[string]any{"key": key}}))
	}
	_, _, err := n.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return slackError(fmt.Sprintf("post about %s to %s", c.ID, channel), err)
	}
	return nil
}

// FindMessage looks through channel's newest messages for the one marked
// key (see findInHistory for how far back).
func (n *Notifier) FindMessage(ctx context.Context, channel string, c *cases.Case, key string) (bool, error) {
	_, found, err := n.findInHistory(ctx, channel, postEventType, "key", key)
	if err != nil {
		return false, slackError(fmt.Sprintf("look for message %s about %s in %s", key, c.ID, channel), err)
	}
	return found, nil
}

// PostText posts a plain message to a channel, such as the daily digest.
func (n *Notifier) PostText(ctx context.Context, channel, text string) error {
	_, _, err := n.api.PostMessageContext(ctx, channel, slack.MsgOptionText(truncate(cases.DisplayText(text, true), 40000), false), slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		return slackError("post to "+channel, err)
	}
	return nil
}

var _ cases.Notifier = (*Notifier)(nil)

// Slack's "ok": false error codes that mean "try again later", and those that
// mean the request itself is wrong. Anything else (invalid_auth,
// not_in_channel, missing_scope…) is a setup problem: internal.
var (
	transientCodes = map[string]bool{
		"ratelimited": true, "internal_error": true, "fatal_error": true,
		"service_unavailable": true, "request_timeout": true, "team_added_to_org": true,
	}
	invalidCodes = map[string]bool{
		"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
		"no_text": true, "invalid_arguments": true, "channel_not_found": true,
		"message_not_found": true, "cant_update_message": true, "too_many_attachments": true,
		"invalid_ts_latest": true, "invalid_thread_ts": true,
	}
)

// slackError gives a Slack failure the kind the outbox acts on: only
// transient ones (rate limits, 5xx, network) are retried.
func slackError(op string, err error) error {
	kind := cases.KindInternal
	var (
		rl     *slack.RateLimitedError
		status slack.StatusCodeError
		resp   slack.SlackErrorResponse
		netErr net.Error
	)
	switch {
	case errors.As(err, &rl):
		kind = cases.KindTransient
	case errors.As(err, &status):
		if status.Code >= 500 || status.Code == http.StatusTooManyRequests {
			kind = cases.KindTransient
		}
	case errors.As(err, &resp):
		switch {
		case transientCodes[resp.Err]:
			kind = cases.KindTransient
		case invalidCodes[resp.Err]:
			kind = cases.KindInvalid
		}
	case errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A cancelled context is a shutdown mid-delivery: the outbox should
		// deliver it again after the restart.
		kind = cases.KindTransient
	}
	out := &cases.Error{Kind: kind, Msg: "slack: " + op, Err: err}
	if rl != nil {
		out.RetryAfter = rl.RetryAfter
	}
	return out
}
