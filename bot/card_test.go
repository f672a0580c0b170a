package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/exops/exops/cases"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestCaseCardGolden(t *testing.T) {
	tests := []struct {
		name string
		c    *cases.Case
	}{
		{"composite_pending", compositeCase()},
		{"resolved_by_bot", resolvedCase()},
		{"merged", mergedCase()},
		{"huge", hugeCase()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No HTML escaping, so the golden files read like what Slack gets.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(map[string]any{"text": CardText(tt.c), "blocks": CaseCard(tt.c)}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			checkLimits(t, got)
			path := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot -run Golden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("card differs from %s (go test ./bot -run Golden -update, then review the diff):\n%s", path, got)
			}
		})
	}
}

// checkLimits walks the card JSON and checks every Block Kit limit Slack
// would refuse the message for.
func checkLimits(t *testing.T, raw []byte) {
	t.Helper()
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string                  `json:"type"`
			BlockID  string                  `json:"block_id"`
			Text     *struct{ Text string }  `json:"text"`
			Fields   []struct{ Text string } `json:"fields"`
			Elements []struct {
				Type     string `json:"type"`
				Text     any    `json:"text"`
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
				Label    string `json:"accessibility_label"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCountInString
	if len(msg.Blocks) > 50 {
		t.Errorf("%d blocks, limit 50", len(msg.Blocks))
	}
	blockIDs := map[string]bool{}
	for i, b := range msg.Blocks {
		if n(b.BlockID) > 255 {
			t.Errorf("block %d: block_id of %d chars", i, n(b.BlockID))
		}
		if b.BlockID != "" {
			if blockIDs[b.BlockID] {
				t.Errorf("block %d: duplicate block_id %q", i, b.BlockID)
			}
			blockIDs[b.BlockID] = true
		}
		switch b.Type {
		case "header":
			if n(b.Text.Text) > 150 {
				t.Errorf("header of %d chars, limit 150", n(b.Text.Text))
			}
		case "section":
			if b.Text != nil && n(b.Text.Text) > 3000 {
				t.Errorf("block %d: section text of %d chars, limit 3000", i, n(b.Text.Text))
			}
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("block %d: empty section", i)
			}
			if len(b.Fields) > 10 {
				t.Errorf("block %d: %d fields, limit 10", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if n(f.Text) > 2000 {
					t.Errorf("block %d: field of %d chars, limit 2000", i, n(f.Text))
				}
			}
		case "actions":
			if len(b.Elements) > 25 {
				t.Errorf("block %d: %d elements, limit 25", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				txt, _ := e.Text.(map[string]any)["text"].(string)
				if n(txt) > 75 || n(e.Label) > 75 {
					t.Errorf("block %d: button text %q / label %q over 75", i, txt, e.Label)
				}
				if n(e.Value) > 2000 || n(e.ActionID) > 255 {
					t.Errorf("block %d: button value or action_id over the limit", i)
				}
			}
		}
	}
	if n(msg.Text) > 40000 {
		t.Errorf("fallback text of %d chars", n(msg.Text))
	}
}

func TestCaseCardContent(t *testing.T) {
	cardJSON := func(c *cases.Case) string {
		b, err := json.Marshal(CaseCard(c))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name     string
		c        *cases.Case
		want     []string
		dontWant []string
	}{
		{"composite", compositeCase(), []string{
			`"text":"EX-000001 · HIGH · credit hold, allocation conflict, supplier delay"`,
			`needs 2 approvals from \u003c@U0ALICE\u003e, \u003c@U0BOB\u003e: 1 of 2 so far`,
			"recommended: a person decides", "not allowed by policy", "91% confidence",
			`"action_id":"exops_approve"`, `"action_id":"exops_reject"`, `"block_id":"rec:EX-000001:r1"`,
			`"value":"EX-000001|r1"`, `"style":"primary"`, `"style":"danger"`, "48,250.00 USD", "Acme Foods (C-1001)",
			"PO-5531", "ASN-9001", "✓ balance + order under limit", "✗ payment history 12 months",
		}, []string{`rec:EX-000001:r3"`}},
		{"resolved", resolvedCase(), []string{"✅ Resolved by exops", "✅ Resolved by exops: variance booked to 5410", "1200.00 EUR"},
			[]string{"exops_approve"}},
		{"merged", mergedCase(), []string{"merged into EX-000001", "❌ Rejected by \\u003c@U0DAVE\\u003e: not needed", "➖ Superseded: handled in EX-000001"},
			[]string{"exops_approve"}},
		{"huge", hugeCase(), []string{"more recommendations: `/exops status EX-000004`", `\u0026lt;!channel\u0026gt;`},
			[]string{"<!channel>", `\u003c!channel\u003e`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cardJSON(tt.c)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("card lacks %s", w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(got, w) {
					t.Errorf("card has %s", w)
				}
			}
		})
	}
}

func TestCaseCardHugeKeepsWholeRecommendations(t *testing.T) {
	blocks := CaseCard(hugeCase())
	if len(blocks) != 50 {
		t.Fatalf("%d blocks, want exactly 50 (filled up to the limit)", len(blocks))
	}
	var raw []map[string]any
	b, _ := json.Marshal(blocks)
	_ = json.Unmarshal(b, &raw)
	// Every actions block follows its recommendation's section: no
	// recommendation is cut in half by the block budget.
	// The last block is the case's own buttons (Assign, Snooze, …); the one
	// before it points to the recommendations that did not fit.
	for i, blk := range raw[:len(raw)-1] {
		if blk["type"] == "actions" && raw[i-1]["type"] != "section" {
			t.Errorf("actions block %d not preceded by its section", i)
		}
	}
	if last := raw[len(raw)-1]; last["type"] != "actions" || !strings.HasPrefix(fmt.Sprint(last["block_id"]), "case:") {
		t.Errorf("last block is %v %v, want the case's buttons", last["type"], last["block_id"])
	}
	if more := raw[len(raw)-2]; more["type"] != "context" {
		t.Errorf("second-to-last block is %v, want the 'more recommendations' context", more["type"])
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 5, "abcd…"},
		{"ééééé", 4, "ééé…"},
		{"ab &amp; cd", 5, "ab …"},         // never half an entity
		{"hi <@U0ALICE> there", 8, "hi …"}, // never half a mention
		{"a &amp; b and more", 10, "a &amp; b…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.limit); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if got := truncate(tt.in, tt.limit); utf8.RuneCountInString(got) > tt.limit {
			t.Errorf("truncate(%q, %d) is %d chars", tt.in, tt.limit, utf8.RuneCountInString(got))
		}
	}
}

func TestBlockIDTooLongIsHashedNotCut(t *testing.T) {
	long := strings.Repeat("x", 300)
	a, b := blockID("EX-000001", long+"a"), blockID("EX-000001", long+"b")
	if len(a) > 255 || a == b {
		t.Errorf("long ids must stay unique and short: %q %q", a, b)
	}
}

// Text from events cannot spoof the card: control characters and
// bidirectional overrides reach Slack as visible escapes.
func TestCardShowsNoControlCharacters(t *testing.T) {
	c := compositeCase()
	c.Summary = "Pay now\x1b[2J\a \u202egpj.exe"
	c.Recommendations[0].Title = "Release\x00 hold"
	raw, err := json.Marshal(CaseCard(c))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(blocks) + cases.DisplayText(CardText(c), true) // as PostCard sends it
	for _, bad := range []string{"\x1b", "\a", "\x00", "\u202e"} {
		if strings.Contains(text, bad) {
			t.Errorf("the card carries %q", bad)
		}
	}
	if !strings.Contains(text, `\u001b[2J`) || !strings.Contains(text, `\u202egpj.exe`) {
		t.Errorf("the escapes are not visible:\n%s", text)
	}
}
