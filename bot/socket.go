package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

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
		ic, ok := evt.Data.(slack.InteractionCallback)
		b.ackInteraction(client, evt.Request, ic)
		if !ok {
			b.log.Warn("socket mode interactive event without a callback")
			return
		}
		if viewErrors(ic) == nil {
			b.dispatch(ic)
		}
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
			envelope := ""
			if evt.Request != nil {
				envelope = evt.Request.EnvelopeID
			}
			b.socketEventsAPI(ctx, envelope, data)
		}
	case socketmode.EventTypeErrorBadMessage:
		if bad, _ := evt.Data.(*socketmode.ErrorBadMessage); bad != nil {
			b.socketBadMessage(ctx, client, bad)
		}
	}
}

// socketEventsAPI handles an acknowledged events_api envelope once: a
// retried envelope repeats the envelope id; a retried event (also one
// first sent over HTTP) repeats the event id.
func (b *Bot) socketEventsAPI(ctx context.Context, envelope string, ev slackevents.EventsAPIEvent) {
	if envelope != "" && b.seenEvent(ctx, "envelope:"+envelope) {
		return
	}
	if id := callbackEventID(ev); id != "" && b.seenEvent(ctx, id) {
		b.log.Info("event retry ignored", "event_id", id)
		return
	}
	b.background(func(ctx context.Context) { b.handleEvent(ctx, ev) })
}

// socketBadMessage handles an envelope slack-go could not parse (an event
// type it does not know, a Block Kit element it does not know, a field
// shaped otherwise). A click or an event is read for what exops needs of
// it (decodeInteraction, parseEvent), acknowledged and handled. An event
// still not understood is acknowledged and dropped: left unacknowledged it
// is sent again and again, and exops has nothing to do with it. Anything else (a command) is left
// unacknowledged, so Slack tells the person it failed.
func (b *Bot) socketBadMessage(ctx context.Context, client socketAcker, bad *socketmode.ErrorBadMessage) {
	var env struct {
		EnvelopeID string          `json:"envelope_id"`
		Type       string          `json:"type"`
		Payload    json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		b.log.Warn("socket mode message not understood", "err", fmt.Sprint(bad.Cause))
		return
	}
	ack := func() {
		if err := client.Ack(socketmode.Request{EnvelopeID: env.EnvelopeID}); err != nil {
			b.log.Error("socket mode ack failed", "err", err)
		}
	}
	switch env.Type {
	case socketmode.RequestTypeInteractive:
		ic, err := decodeInteraction(env.Payload)
		if err != nil {
			b.log.Warn("socket mode interaction not understood", "err", err)
			return
		}
		b.ackInteraction(client, &socketmode.Request{EnvelopeID: env.EnvelopeID}, ic)
		if viewErrors(ic) == nil {
			b.dispatch(ic)
		}
	case socketmode.RequestTypeEventsAPI:
		ack()
		if ev, err := parseEvent(env.Payload); err == nil {
			b.socketEventsAPI(ctx, env.EnvelopeID, ev)
			return
		}
		b.log.Info("socket mode event not understood, acknowledged and ignored", "err", fmt.Sprint(bad.Cause))
	default:
		b.log.Warn("socket mode envelope not understood", "type", env.Type, "err", fmt.Sprint(bad.Cause))
	}
}

// ackInteraction acknowledges an interactive envelope; a form with a blank
// field gets its errors in the acknowledgement, as over HTTP.
func (b *Bot) ackInteraction(client socketAcker, req *socketmode.Request, ic slack.InteractionCallback) {
	if req == nil {
		return
	}
	var err error
	if errs := viewErrors(ic); errs != nil {
		err = client.Ack(*req, slack.NewErrorsViewSubmissionResponse(errs))
	} else {
		err = client.Ack(*req)
	}
	if err != nil {
		b.log.Error("socket mode ack failed", "err", err)
	}
}
