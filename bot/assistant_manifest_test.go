package bot

import (
	"os"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// The app manifest asks for what the bot's handlers need: without
// assistant_view Slack shows no pane, without assistant:write the thread
// calls fail with missing_scope, and an event not subscribed never comes.
func TestManifestHasTheAssistantSurface(t *testing.T) {
	raw, err := os.ReadFile("../docs/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			AssistantView struct {
				Description string `yaml:"assistant_description"`
			} `yaml:"assistant_view"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Features.AssistantView.Description == "" {
		t.Error("no features.assistant_view.assistant_description")
	}
	for _, s := range []string{"assistant:write", "chat:write", "im:history", "app_mentions:read"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("scope %s missing", s)
		}
	}
	for _, e := range []string{"assistant_thread_started", "assistant_thread_context_changed", "message.im", "app_mention", "app_home_opened"} {
		if !slices.Contains(m.Settings.Events.Bot, e) {
			t.Errorf("event %s not subscribed", e)
		}
	}
}
