package agents

import (
	"testing"
	"time"
)

// TestPlainText: Slack's markup becomes the words the asker saw.
func TestPlainText(t *testing.T) {
	tests := []struct {
		in, want string
		unnamed  bool
	}{
		{"open cases in <#C0CREDIT|credit-desk>", "open cases in #credit-desk", false},
		{"anything open in <#C0ZZ99>?", "anything open in  ?", true},
		{"<https://erp.example.com/so/1042|SO-1042> blocked?", "SO-1042 blocked?", false},
		{"check <https://erp.example.com/po/PO-3310|this PO>", "check this PO PO-3310", false},
		{"INV-1? <mailto:ap@acme.example|ap@acme.example> asks", "INV-1?   asks", false},
		{"what's <@U0KIM|kim> on?", "what's <@U0KIM> on?", false},
		{"&gt; SO-2077 late\nwhy?", "SO-2077 late\nwhy?", false},
		{"*open* `SO-1` _now_ ~x~", "open SO-1 now x", false},
		{":wave: sev1s? :fire:", "  sev1s?  ", false},
		{"price variances > 2 days old", "price variances > 2 days old", false},
		{"severity: critical", "severity: critical", false},
		{"credit_hold cases", "credit_hold cases", false},
	}
	for _, tt := range tests {
		got, unnamed := plainText(tt.in)
		if got != tt.want || unnamed != tt.unnamed {
			t.Errorf("plainText(%q) = %q, %v; want %q, %v", tt.in, got, unnamed, tt.want, tt.unnamed)
		}
	}
}

// TestDeclined: exclusions, the future and requests to do something are
// not searches; questions that merely share a word are.
func TestDeclined(t *testing.T) {
	for q, want := range map[string]bool{
		"anything besides credit holds?":          true,
		"open cases other than AP":                true,
		"what's going to breach next week":        true,
		"predict tomorrow's backlog":              true,
		"draft a reply to Contoso about INV-1":    true,
		"please send Northwind a reminder":        true,
		"next steps for SO-1042":                  false,
		"credit holds raised this week":           false,
		"which cases did exops send for approval": false,
		"what came in over the last 2 days":       false,
	} {
		if got := declined(q); got != want {
			t.Errorf("declined(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestStoryTimeWords: in a message of several sentences the time words of
// the story around a question about one case do not bound it; a sentence
// that only narrows keeps the time of the one before.
func TestStoryTimeWords(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for q, want := range map[string]time.Time{
		"I talked to the customer this morning. What is going on with SO-2077?": {},
		"Northwind called yesterday. Any open price issues for Northwind?":      {},
		"Credit holds since Monday. Which are unassigned?":                      monday,
		"Credit holds this week. How many?":                                     monday,
	} {
		if got := ParseQuestionAs(q, "", now, Vocabulary{}).Query.OpenedAfter; !got.Equal(want) {
			t.Errorf("ParseQuestionAs(%q) opened after %v, want %v", q, got, want)
		}
	}
	// "tomorrow" of the story does not make the question one about the future.
	if in := ParseQuestionAs("They need it by tomorrow. What's blocking SO-2077?", "", now, Vocabulary{}); in.Query.Order != "SO-2077" {
		t.Errorf("a story's future declined the question: %+v", in)
	}
}
