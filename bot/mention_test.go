package bot

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// TestStripMention: an app_mention loses exops's own mentions and keeps
// the people it asks about ("what is @alice working on?").
func TestStripMention(t *testing.T) {
	withAuth := slackevents.EventsAPIEvent{Data: &slackevents.EventsAPICallbackEvent{
		Authorizations: []slack.EventAuthorization{{UserID: "U0EXOPS", IsBot: true}}}}
	noAuth := slackevents.EventsAPIEvent{Data: &slackevents.EventsAPICallbackEvent{}}
	tests := []struct {
		name string
		ev   slackevents.EventsAPIEvent
		text string
		want string
	}{
		{"leading own mention", withAuth, "<@U0EXOPS> status of SO-1042?", "status of SO-1042?"},
		{"another person kept", withAuth, "<@U0EXOPS> what is <@U0ALICE> working on?", "what is <@U0ALICE> working on?"},
		{"own mention in the middle", withAuth, "hey <@U0EXOPS|exops>, cases waiting for <@W0BOB>", "hey , cases waiting for <@W0BOB>"},
		{"no authorizations: the leading mention only", noAuth, "<@U0EXOPS> cases assigned to <@U0ALICE>", "cases assigned to <@U0ALICE>"},
		{"no authorizations, no leading mention", noAuth, "what is <@U0ALICE> on?", "what is <@U0ALICE> on?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripMention(tt.ev, tt.text); got != tt.want {
				t.Errorf("stripMention(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
