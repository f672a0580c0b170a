package bot

import (
	"fmt"
	"math"
	"strings"

	"github.com/exops/exops/cases"
)

// documentLines say, for each supplier document an event of the case was
// raised from, which fields it used were read with low confidence and where
// each came from, so that a person knows what to check before approving
// (the policy never lets such a variance resolve on its own). The event data
// is what agents/documents writes: "document", "document_fields" (value,
// source, confidence per field) and "uncertain_fields".
func documentLines(c *cases.Case) []string {
	var out []string
	seen := map[string]bool{}
	for _, ce := range c.Events {
		ev := ce.Event()
		uncertain := ev.Strs("uncertain_fields")
		if len(uncertain) == 0 {
			continue
		}
		name := ev.Str("document")
		if name == "" {
			name = "a document"
		}
		fields, _ := ev.Data["document_fields"].(map[string]any)
		var parts []string
		for _, f := range uncertain {
			entry, _ := fields[f].(map[string]any)
			var how []string
			if src, _ := entry["source"].(string); src != "" {
				how = append(how, sourceWords(src))
			}
			if conf, ok := entry["confidence"].(float64); ok {
				how = append(how, fmt.Sprintf("%d%%", int(math.Round(conf*100))))
			}
			p := strings.ReplaceAll(f, "_", " ")
			if len(how) > 0 {
				p += " (" + strings.Join(how, ", ") + ")"
			}
			parts = append(parts, p)
		}
		line := fmt.Sprintf(":warning: Uncertain in %s: %s", escape(name), escape(strings.Join(parts, ", ")))
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}

// sourceWords names where a document field was read.
func sourceWords(src string) string {
	switch src {
	case "xml":
		return "e-invoice XML"
	case "text":
		return "PDF text"
	case "model":
		return "language model"
	}
	return src
}
