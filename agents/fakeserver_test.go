package agents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/agents"
)

// The fake servers speak the wire protocols langchaingo's real clients use:
// OpenAI's /chat/completions, Ollama's /api/chat and Anthropic's
// /v1/messages. A test scripts the replies; the server records requests.

// reply is one scripted answer: a status and a body, or a delay that makes
// the client time out, or tool calls.
type reply struct {
	status    int
	content   string         // the assistant's text
	toolCalls []fakeToolCall // OpenAI / Anthropic tool calls
	raw       string         // a body sent as it is (malformed JSON)
	delay     time.Duration  // sleep before answering
	header    http.Header    // extra response headers
}

type fakeToolCall struct{ name, args string }

type fakeServer struct {
	*httptest.Server
	provider agents.Provider
	mu       sync.Mutex
	refused  []string // why requests were answered 400 by wireError
	replies  []reply  // consumed in order; the last one repeats
	requests []map[string]any
	paths    []string
	auth     []string
}

func (f *fakeServer) next(r *http.Request) reply {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	f.paths = append(f.paths, r.URL.Path)
	f.auth = append(f.auth, r.Header.Get("Authorization")+r.Header.Get("X-Api-Key"))
	if msg := wireError(f.provider, req); msg != "" {
		// What the real API answers to a malformed conversation.
		f.refused = append(f.refused, msg)
		return reply{status: http.StatusBadRequest, raw: `{"error":{"type":"invalid_request_error","message":` + strconvQuote(msg) + `}}`}
	}
	rep := f.replies[0]
	if len(f.replies) > 1 {
		f.replies = f.replies[1:]
	}
	return rep
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// wireError checks a request the way the provider's API does where a
// client could get it wrong: tool definitions in the provider's shape, and
// every tool result answering a tool call of the assistant message just
// before it. It returns what the API would say, or "".
func wireError(p agents.Provider, req map[string]any) string {
	if req == nil {
		return "body is not JSON"
	}
	tools, _ := req["tools"].([]any)
	for _, t := range tools {
		tm, _ := t.(map[string]any)
		switch p {
		case agents.ProviderOpenAI:
			fn, _ := tm["function"].(map[string]any)
			if tm["type"] != "function" || fn["name"] == nil || fn["parameters"] == nil {
				return fmt.Sprintf("tools: %v is not {type: function, function: {name, parameters}}", tm)
			}
		case agents.ProviderAnthropic:
			if tm["name"] == nil || tm["input_schema"] == nil {
				return fmt.Sprintf("tools: %v has no name or input_schema", tm)
			}
		}
	}
	msgs, _ := req["messages"].([]any)
	switch p {
	case agents.ProviderOpenAI:
		open := map[string]bool{} // tool calls of the last assistant message not yet answered
		for i, m := range msgs {
			mm, _ := m.(map[string]any)
			switch mm["role"] {
			case "assistant":
				if len(open) > 0 {
					return fmt.Sprintf("messages[%d]: tool calls %v were not answered", i, open)
				}
				tcs, _ := mm["tool_calls"].([]any)
				for _, tc := range tcs {
					tcm, _ := tc.(map[string]any)
					open[fmt.Sprint(tcm["id"])] = true
				}
			case "tool":
				id := fmt.Sprint(mm["tool_call_id"])
				if !open[id] {
					return fmt.Sprintf("messages[%d]: tool message answers %q, which the assistant message before did not call", i, id)
				}
				delete(open, id)
			default:
				if len(open) > 0 {
					return fmt.Sprintf("messages[%d]: tool calls %v were not answered", i, open)
				}
			}
		}
	case agents.ProviderAnthropic:
		for i, m := range msgs {
			mm, _ := m.(map[string]any)
			blocks, _ := mm["content"].([]any)
			for _, b := range blocks {
				bm, _ := b.(map[string]any)
				if bm["type"] != "tool_result" {
					continue
				}
				if mm["role"] != "user" || i == 0 {
					return fmt.Sprintf("messages[%d]: tool_result outside a user message after the assistant", i)
				}
				prev, _ := msgs[i-1].(map[string]any)
				pb, _ := prev["content"].([]any)
				found := false
				for _, x := range pb {
					xm, _ := x.(map[string]any)
					if xm["type"] == "tool_use" && xm["id"] == bm["tool_use_id"] {
						found = true
					}
				}
				if prev["role"] != "assistant" || !found {
					return fmt.Sprintf("messages[%d]: unexpected `tool_use_id` found in `tool_result` blocks: %v. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, bm["tool_use_id"])
				}
			}
		}
	}
	return ""
}

func (f *fakeServer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeServer) request(i int) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[i]
}

func newFake(t *testing.T, provider agents.Provider, replies ...reply) *fakeServer {
	t.Helper()
	f := &fakeServer{replies: replies, provider: provider}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := f.next(r)
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		status := rep.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if rep.raw != "" || status != http.StatusOK {
			io.WriteString(w, rep.raw)
			return
		}
		var body any
		switch provider {
		case agents.ProviderOpenAI:
			msg := map[string]any{"role": "assistant", "content": rep.content}
			finish := "stop"
			if len(rep.toolCalls) > 0 {
				var tcs []any
				for i, tc := range rep.toolCalls {
					tcs = append(tcs, map[string]any{"id": fmt.Sprintf("call_%d", i+1), "type": "function",
						"function": map[string]any{"name": tc.name, "arguments": tc.args}})
				}
				msg["tool_calls"], msg["content"], finish = tcs, nil, "tool_calls"
			}
			body = map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
				"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
				"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
		case agents.ProviderOllama:
			msg := map[string]any{"role": "assistant", "content": rep.content}
			for _, tc := range rep.toolCalls {
				// Ollama's /api/chat gives arguments as an object, not a string.
				var args any
				_ = json.Unmarshal([]byte(tc.args), &args)
				calls, _ := msg["tool_calls"].([]any)
				msg["tool_calls"] = append(calls, map[string]any{"function": map[string]any{"name": tc.name, "arguments": args}})
			}
			body = map[string]any{"model": "test-model", "created_at": "2026-11-26T12:00:00Z",
				"message": msg, "done": true, "done_reason": "stop"}
		case agents.ProviderAnthropic:
			var content []any
			if rep.content != "" {
				content = append(content, map[string]any{"type": "text", "text": rep.content})
			}
			stop := "end_turn"
			for i, tc := range rep.toolCalls {
				var input any
				_ = json.Unmarshal([]byte(tc.args), &input)
				content = append(content, map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%d", i+1), "name": tc.name, "input": input})
				stop = "tool_use"
			}
			body = map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": "test-model",
				"content": content, "stop_reason": stop, "usage": map[string]any{"input_tokens": 1, "output_tokens": 1}}
		}
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(f.Close)
	return f
}

// secretKey must never appear in a log.
const secretKey = "sk-test-SECRET-0123456789"

// newModelAgent builds the real agent with the provider's real langchaingo
// client pointed at f. The log goes to buf.
func newModelAgent(t *testing.T, provider agents.Provider, f *fakeServer, buf *bytes.Buffer) *agents.Agent {
	t.Helper()
	return newModelAgentAt(t, provider, f, buf, now)
}

// newModelAgentAt is newModelAgent with the business clock at the time at.
func newModelAgentAt(t *testing.T, provider agents.Provider, f *fakeServer, buf *bytes.Buffer, at time.Time) *agents.Agent {
	t.Helper()
	env := map[string]string{"EXOPS_LLM_PROVIDER": string(provider), "EXOPS_LLM_MODEL": "test-model",
		"EXOPS_LLM_TIMEOUT": "300ms", "EXOPS_LLM_RETRIES": "2", "EXOPS_LLM_CASE_BUDGET": "20"}
	switch provider {
	case agents.ProviderOpenAI:
		env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"] = f.URL+"/v1", secretKey
	case agents.ProviderOllama:
		env["OLLAMA_HOST"] = f.URL
	case agents.ProviderAnthropic:
		env["ANTHROPIC_BASE_URL"], env["ANTHROPIC_API_KEY"] = f.URL, secretKey
	}
	cfg, err := agents.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if buf == nil {
		buf = &bytes.Buffer{}
	}
	a, err := agents.New(cfg, slog.New(slog.NewTextHandler(buf, nil)), func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	agents.NoSleep(a)
	t.Cleanup(func() {
		if strings.Contains(buf.String(), secretKey) {
			t.Errorf("the API key is in the log:\n%s", buf)
		}
	})
	return a
}

// summaryJSON is a model's JSON-mode answer with a summary.
func summaryJSON(s string) string {
	b, _ := json.Marshal(map[string]string{"summary": s})
	return string(b)
}
