package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Poster posts a plain message to a chat channel; the bot's Notifier is one.
type Poster interface {
	PostText(ctx context.Context, channel, text string) error
}

// Publisher posts checkpoints to a channel outside the database, so that a
// rewrite of the database cannot rewrite them too. It never blocks the
// transaction that made a checkpoint: it keeps the newest one not yet posted
// and posts it from its own goroutine, retrying until it lands or a newer
// one replaces it. A newer checkpoint vouches for everything an older one
// did, so skipping the older one loses nothing; a checkpoint not yet posted
// when the process dies is covered by the next one.
type Publisher struct {
	Poster  Poster
	Channel string
	Logger  *slog.Logger
	// Retry is the wait after a failed post (default 5 s).
	Retry time.Duration

	mu      sync.Mutex
	pending *Checkpoint
	wake    chan struct{}
	once    sync.Once
}

func (p *Publisher) init() {
	p.once.Do(func() {
		p.wake = make(chan struct{}, 1)
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
		if p.Retry <= 0 {
			p.Retry = 5 * time.Second
		}
	})
}

// Publish queues c to be posted (replacing an older one not yet posted).
func (p *Publisher) Publish(c Checkpoint) {
	p.init()
	p.mu.Lock()
	if p.pending == nil || p.pending.Seq < c.Seq {
		p.pending = &c
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run posts queued checkpoints until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	p.init()
	for {
		p.mu.Lock()
		c := p.pending
		p.mu.Unlock()
		if c == nil {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		err := p.Poster.PostText(ctx, p.Channel, CheckpointMessage(*c))
		if err == nil {
			p.mu.Lock()
			if p.pending != nil && p.pending.Seq == c.Seq {
				p.pending = nil
			}
			p.mu.Unlock()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		p.Logger.Warn("audit checkpoint not posted; will retry", "channel", p.Channel, "seq", c.Seq, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.Retry):
		}
	}
}

// CheckpointMessage is the chat message of a checkpoint: a sentence for
// people and the checkpoint line, which ParseCheckpoints reads back from a
// copy of the channel's messages.
func CheckpointMessage(c Checkpoint) string {
	return fmt.Sprintf("Audit checkpoint: record %d of the exops audit log has hash %s (signed by key %s at %s). "+
		"Keep this message: `exops audit verify --pubkey KEY.pub --checkpoint FILE` with this line in FILE proves the log up to record %d was not rewritten.\n`%s`",
		c.Seq, c.Hash, c.Key, c.Time.UTC().Format(time.RFC3339), c.Seq, c.Line())
}
