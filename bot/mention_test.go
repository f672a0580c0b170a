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

// TestForeignUser: who is of another organisation in a Slack Connect channel.
func TestForeignUser(t *testing.T) {
	ws := func(team string, auths ...slack.EventAuthorization) slackevents.EventsAPIEvent {
		return slackevents.EventsAPIEvent{TeamID: team, Data: &slackevents.EventsAPICallbackEvent{TeamID: team, Authorizations: auths, IsExtSharedChannel: true}}
	}
	internal := ws("T0ACME")
	internal.Data.(*slackevents.EventsAPICallbackEvent).IsExtSharedChannel = false
	b := &Bot{Notifier: &Notifier{cfg: Config{TrustedTeams: []string{"T0SISTER"}}}}
	tests := []struct {
		name     string
		ev       slackevents.EventsAPIEvent
		userTeam string
		want     bool
	}{
		{"same workspace", ws("T0ACME"), "T0ACME", false},
		{"no user_team (older payloads, DMs)", ws("T0ACME"), "", false},
		{"another organisation", ws("T0ACME", slack.EventAuthorization{TeamID: "T0ACME", IsBot: true}), "T0VENDOR", true},
		{"a workspace the authorizations name", ws("T0ACME", slack.EventAuthorization{TeamID: "T0OTHER", IsBot: true}), "T0OTHER", false},
		{"a trusted sister workspace", ws("T0ACME"), "T0SISTER", false},
		{"another workspace of the organisation, channel not shared outside it", internal, "T0ORGWS2", false},
		{"org-wide Grid install: every workspace is home", ws("T0ACME", slack.EventAuthorization{EnterpriseID: "E0ORG", IsEnterpriseInstall: true, IsBot: true}), "T0ORGWS2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.foreignUser(tt.ev, tt.userTeam); got != tt.want {
				t.Errorf("foreignUser(%q) = %v, want %v", tt.userTeam, got, tt.want)
			}
		})
	}
}
