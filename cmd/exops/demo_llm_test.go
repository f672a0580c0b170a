package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// modelServer is a local language model that speaks OpenAI's
// /chat/completions and Ollama's /api/chat, as langchaingo's clients send
// them. It writes what a careful model would: a summary from the case id in
// the facts it was given, no extra proposals, and for a question it calls
// find_cases, then answers from the case id the tool returned.
type modelServer struct {
	*httptest.Server
	mu    sync.Mutex
	kinds map[string]int // requests by kind: summary, recommend, tools, tool_result
}

var caseIDPattern = regexp.MustCompile(`EX-\d{6}`)

func newModelServer(t *testing.T) *modelServer {
	t.Helper()
	m := &modelServer{kinds: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
			Tools []any `json:"tools"`
		}
		if err := json.Unmarshal(raw, &req); err != nil || len(req.Messages) == 0 {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		body := string(raw)
		var kind, content string
		var toolCall string
		switch {
		case len(req.Tools) > 0 || strings.Contains(body, `"role":"tool"`):
			last := req.Messages[len(req.Messages)-1]
			if last.Role != "tool" {
				kind, toolCall = "tools", `{"order":"SO-1042"}`
				break
			}
			kind = "tool_result"
			id := caseIDPattern.FindString(fmt.Sprint(last.Content))
			content = "Order SO-1042 is in " + id + ", which is open."
		case strings.Contains(body, "proposals"):
			kind, content = "recommend", `{"proposals":[]}`
		default:
			kind = "summary"
			id := caseIDPattern.FindString(body)
			content = fmt.Sprintf(`{"summary":"%s is open. It needs a decision by its team."}`, id)
		}
		m.mu.Lock()
		m.kinds[kind]++
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/chat" { // Ollama
			json.NewEncoder(w).Encode(map[string]any{"model": "test-model", "created_at": "2026-11-26T12:00:00Z",
				"message": map[string]any{"role": "assistant", "content": content}, "done": true, "done_reason": "stop"})
			return
		}
		msg := map[string]any{"role": "assistant", "content": content}
		finish := "stop"
		if toolCall != "" {
			msg["content"], finish = nil, "tool_calls"
			msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
				"function": map[string]any{"name": "find_cases", "arguments": toolCall}}}
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *modelServer) count(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kinds[kind]
}

// TestDemoModel plays the demo with EXOPS_LLM_PROVIDER set: the transcript
// names the model, the composite case's summary is the model's, and the
// question in Slack is answered through tool calls (OpenAI) or by the
// rules (Ollama, whose langchaingo client sends no tools). Without the
// variable the transcript says the rules write everything.
func TestDemoModel(t *testing.T) {
	srv := newModelServer(t)
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		lacks   []string
		kinds   map[string]int // at least this many requests of each kind
		noTools bool
	}{
		{"no provider: the rules", nil,
			[]string{"language model: none (EXOPS_LLM_PROVIDER is not set): summaries, recommendations and answers by the rules", "summary by rules\n",
				"I found 1 case for order SO-1042."}, []string{"test-model"}, nil, true},
		{"openai: summaries and tool-called answers", map[string]string{"EXOPS_LLM_PROVIDER": "openai", "EXOPS_LLM_MODEL": "test-model", "OPENAI_BASE_URL": srv.URL + "/v1"},
			[]string{"language model: openai model test-model at " + srv.URL + "/v1 (no key", "EXOPS_LLM_PROVIDER=openai", "answers through tool calls",
				"summary by openai:test-model\n", "Order SO-1042 is in EX-000001, which is open."},
			[]string{"I found 1 case for order SO-1042."}, map[string]int{"summary": 1, "recommend": 1, "tools": 1, "tool_result": 1}, false},
		{"ollama: summaries by the model, answers by the rules", map[string]string{"EXOPS_LLM_PROVIDER": "ollama", "EXOPS_LLM_MODEL": "test-model", "OLLAMA_HOST": srv.URL},
			[]string{"language model: ollama model test-model at " + srv.URL, "answers by the rules (langchaingo's ollama client sends no tools)",
				"summary by ollama:test-model\n", "I found 1 case for order SO-1042."}, nil, map[string]int{"summary": 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]int{}
			for _, k := range []string{"summary", "recommend", "tools", "tool_result"} {
				before[k] = srv.count(k)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"demo", "--db", filepath.Join(t.TempDir(), "exops.db")}, &out, &errb, func(k string) string {
				if k == "EXOPS_CLOCK_OFFSET" {
					return testOffset
				}
				return tt.env[k]
			})
			if code != 0 || !strings.Contains(out.String(), "Demo passed: 8 of 8 steps.") {
				t.Fatalf("demo exited %d\n%s\n%s", code, out.String(), errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("transcript lacks %q", w)
				}
			}
			for _, w := range tt.lacks {
				if strings.Contains(out.String(), w) {
					t.Errorf("transcript has %q", w)
				}
			}
			for k, n := range tt.kinds {
				if got := srv.count(k) - before[k]; got < n {
					t.Errorf("%d %s requests, want at least %d", got, k, n)
				}
			}
			if tt.noTools && srv.count("tools") != before["tools"] {
				t.Errorf("questions went to the model")
			}
			if t.Failed() {
				t.Logf("transcript:\n%s", out.String())
			}
		})
	}
}
