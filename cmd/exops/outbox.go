package main

import (
	"fmt"
	"strconv"

	"github.com/exops/exops/bot"
	"github.com/exops/exops/cases"
)

// outboxSettings reads how the outbox delivers (docs/operations.md):
//   - EXOPS_SLACK_PACING: "on" paces calls by Slack's rate limits (one
//     message a second per channel, chat.update 50 a minute…), "off" sends
//     as fast as workers go and obeys 429s after the fact. Default: on for
//     Slack itself, off for another Slack API (SLACK_API_URL: the local
//     Slack of the demo and the tests, which has no limits).
//   - EXOPS_OUTBOX_WORKERS: calls in flight at once, each to its own
//     channel (default 16; 1 delivers one call at a time).
func outboxSettings(cfg Config, n *bot.Notifier) (cases.Pacer, int, error) {
	getenv := cfg.Getenv
	var pacer cases.Pacer
	switch v := getenv("EXOPS_SLACK_PACING"); v {
	case "on":
		pacer = n
	case "off":
	case "":
		if cfg.SlackAPIURL == "" {
			pacer = n
		}
	default:
		return nil, 0, fmt.Errorf("EXOPS_SLACK_PACING %q: want on or off", v)
	}
	workers := 0
	if v := getenv("EXOPS_OUTBOX_WORKERS"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil || w < 1 || w > 256 {
			return nil, 0, fmt.Errorf("EXOPS_OUTBOX_WORKERS %q: want a number from 1 to 256", v)
		}
		workers = w
	}
	return pacer, workers, nil
}
