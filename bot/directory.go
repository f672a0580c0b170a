package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/exops/exops/cases"
	"github.com/slack-go/slack"
)

// Directory resolves Slack user groups to their members, through
// usergroups.users.list, cached for a few minutes (the method is Tier 2).
type Directory struct {
	api *slack.Client
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]groupEntry
}

type groupEntry struct {
	members []string
	until   time.Time
}

// Directory returns the bot's group directory (a cases.Directory).
func (n *Notifier) Directory() *Directory {
	return &Directory{api: n.api, ttl: 5 * time.Minute, now: n.wallNow, cache: map[string]groupEntry{}}
}

// GroupMembers returns the user ids in a Slack user group.
func (d *Directory) GroupMembers(ctx context.Context, group string) ([]string, error) {
	now := d.now()
	d.mu.Lock()
	if e, ok := d.cache[group]; ok && now.Before(e.until) {
		d.mu.Unlock()
		return e.members, nil
	}
	d.mu.Unlock()
	members, err := d.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, slackError(fmt.Sprintf("members of user group %s", group), err)
	}
	d.mu.Lock()
	d.cache[group] = groupEntry{members: members, until: now.Add(d.ttl)}
	d.mu.Unlock()
	return members, nil
}

var _ cases.Directory = (*Directory)(nil)
