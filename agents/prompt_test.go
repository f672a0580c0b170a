package agents_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agents -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (a changed prompt is a new version: add a file, do not edit one in use)\n--- got\n%s", name, path, got)
	}
}

// The prompts in force and what the model receives for the demo's case.
func TestPromptsGolden(t *testing.T) {
	c := compositeCase(t)
	for _, tt := range []struct{ name, text string }{
		{"prompt_summary.golden", mustPrompt(t, agents.SummaryPrompt) + "\n---\n" + agents.CaseFactsPrompt(c) + "\n"},
		{"prompt_recommend.golden", agents.RecommendSystemPrompt(c) + "\n"},
		{"prompt_answer.golden", mustPrompt(t, agents.AnswerPrompt)},
		{"prompt_extract.golden", mustPrompt(t, agents.ExtractPrompt)},
	} {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, tt.text) })
	}
}

func mustPrompt(t *testing.T, name string) string {
	t.Helper()
	p, err := agents.Prompt(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A sender cannot grow a prompt without bound.
func TestCaseFactsPromptBounded(t *testing.T) {
	long := strings.Repeat("x", 5000)
	var evs []cases.CaseEvent
	for i := 0; i < 100; i++ {
		evs = append(evs, caseEvent(t, "order.credit_hold", with(creditHoldAcme, "reason", long[:cases.MaxStringField])))
	}
	c := newCase(map[string]string{"note": long}, evs...)
	if n := len(agents.CaseFactsPrompt(c)); n > 40000 {
		t.Errorf("prompt is %d bytes for 100 events with long fields, want it bounded", n)
	}
}

func TestGrounding(t *testing.T) {
	f := agents.NewFacts([]string{"EX-000042", "SO-1042", "Acme Retail", "C-ACME", "2026-11-30", "2026-12-02T00:00:00Z", "stock/SKU-88/RNO", "order_value"},
		[]float64{48250, 0.7462, 1200, 5})
	tests := []struct {
		text string
		want string // the first ungrounded word, "" if grounded
	}{
		{"EX-000042 holds order SO-1042 for Acme Retail.", ""},
		{"The order is worth 48,250 USD.", ""},
		{"The order is worth 48,250.00 USD.", ""},
		{"Variance 0.75%.", ""},
		{"Variance 0.7%.", ""},
		{"It slipped 5 days.", ""},
		{"It slipped 6 days.", "6"},
		{"Ship 1,200 units from RNO.", ""},
		{"Ship 1,300 units.", "1,300"},
		{"Promised for 2026-11-30.", ""},
		{"Promised for November 30.", ""},
		{"Promised for Nov 30, 2026.", ""},
		{"Promised for December 30.", "December 30"},
		{"Due 2026-12-01.", "2026-12-01"},
		{"Order SO-1043 is late.", "SO-1043"},
		{"Customer C-GLOBEX is late.", "C-GLOBEX"},
		{"Globex is the customer.", "Globex"},
		{"Acme's order is held.", ""},
		{"Ask Bob to approve.", "Bob"},
		{"Decision needed: release the credit hold.", ""},
		{"Case EX-42 is open.", "EX-42"},
	}
	for _, tt := range tests {
		if got := f.Ungrounded(tt.text); got != tt.want {
			t.Errorf("Ungrounded(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    agents.Config
		wantErr string
	}{
		{"default is rules only", nil, agents.Config{Provider: agents.ProviderNone, Timeout: agents.DefaultTimeout, Retries: 2, CaseBudget: 6}, ""},
		{"ollama bare host", map[string]string{"EXOPS_LLM_PROVIDER": "ollama", "OLLAMA_HOST": "gpu-box:11434"},
			agents.Config{Provider: agents.ProviderOllama, Model: "llama3.1", BaseURL: "http://gpu-box:11434", Timeout: agents.DefaultTimeout, Retries: 2, CaseBudget: 6}, ""},
		{"openai-compatible server without a key", map[string]string{"EXOPS_LLM_PROVIDER": "OpenAI", "OPENAI_BASE_URL": "http://vllm:8000/v1/", "EXOPS_LLM_MODEL": "qwen"},
			agents.Config{Provider: agents.ProviderOpenAI, Model: "qwen", BaseURL: "http://vllm:8000/v1", Timeout: agents.DefaultTimeout, Retries: 2, CaseBudget: 6}, ""},
		{"openai needs a key", map[string]string{"EXOPS_LLM_PROVIDER": "openai"}, agents.Config{}, "OPENAI_API_KEY"},
		{"anthropic needs a key", map[string]string{"EXOPS_LLM_PROVIDER": "anthropic"}, agents.Config{}, "ANTHROPIC_API_KEY"},
		{"tuning", map[string]string{"EXOPS_LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-abc123", "EXOPS_LLM_TIMEOUT": "5s", "EXOPS_LLM_RETRIES": "0", "EXOPS_LLM_CASE_BUDGET": "3"},
			agents.Config{Provider: agents.ProviderAnthropic, Model: "claude-3-5-haiku-latest", APIKey: "sk-ant-abc123", Timeout: 5 * time.Second, Retries: 0, CaseBudget: 3}, ""},
		{"unknown provider", map[string]string{"EXOPS_LLM_PROVIDER": "gpt"}, agents.Config{}, "EXOPS_LLM_PROVIDER"},
		{"bad timeout", map[string]string{"EXOPS_LLM_PROVIDER": "ollama", "EXOPS_LLM_TIMEOUT": "soon"}, agents.Config{}, "EXOPS_LLM_TIMEOUT"},
		{"bad budget", map[string]string{"EXOPS_LLM_PROVIDER": "ollama", "EXOPS_LLM_CASE_BUDGET": "0"}, agents.Config{}, "EXOPS_LLM_CASE_BUDGET"},
		{"credentials in the URL", map[string]string{"EXOPS_LLM_PROVIDER": "ollama", "OLLAMA_HOST": "http://u:secret@h:1"}, agents.Config{}, "OLLAMA_HOST"},
		{"not a URL", map[string]string{"EXOPS_LLM_PROVIDER": "openai", "OPENAI_BASE_URL": "ftp://x"}, agents.Config{}, "OPENAI_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agents.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error repeats a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if tt.want.APIKey != "" && strings.Contains(got.String(), tt.want.APIKey) {
				t.Errorf("String() shows the key: %s", got)
			}
		})
	}
}
