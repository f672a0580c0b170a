package documents

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// FieldModel is a language model that fills a JSON schema from a document's
// text. agents/ implements it with langchaingo providers; documents only
// declares it, so the PDF code never depends on a model library.
type FieldModel interface {
	ExtractJSON(ctx context.Context, text string, schema []byte) ([]byte, error)
}

// Schema is the JSON schema the model is asked to fill.
var Schema = []byte(`{
  "type": "object",
  "properties": {
    "type": {"type": "string", "enum": ["invoice", "credit_note", "order_confirmation", "ship_notice", "bill_of_lading", "other"]},
    "supplier": {"type": "string"},
    "number": {"type": "string"},
    "issue_date": {"type": "string", "description": "YYYY-MM-DD"},
    "due_date": {"type": "string", "description": "YYYY-MM-DD"},
    "ship_date": {"type": "string", "description": "YYYY-MM-DD"},
    "po_number": {"type": "string"},
    "currency": {"type": "string", "description": "ISO 4217"},
    "subtotal": {"type": "string", "description": "decimal, dot separator"},
    "tax": {"type": "string"},
    "total": {"type": "string"},
    "payment_terms": {"type": "string"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {
      "sku": {"type": "string"}, "description": {"type": "string"}, "quantity": {"type": "string"},
      "unit": {"type": "string"}, "unit_price": {"type": "string"}, "total": {"type": "string"}}}}
  }
}`)

// maxModelText bounds the text sent to a model (about 12k tokens).
const maxModelText = 48 << 10

// applyModel asks the model and merges what survives the checks: every value
// must be well-formed (dates, amounts, ISO currency) and must appear in the
// document's own text, so an invented number is dropped rather than shown
// as evidence. The model fills fields the rules missed; where both found a
// value and they differ, the rules' value stays and the disagreement is a
// problem. The arithmetic then runs again over the merged document, and it
// alone sets confidence: what the model says about itself is never used.
func applyModel(ctx context.Context, m FieldModel, pages []PageText, d *Document) error {
	text := documentText(readingPages(pages))
	if len(text) > maxModelText {
		text = truncate(text, maxModelText)
	}
	raw, err := m.ExtractJSON(ctx, text, Schema)
	if err != nil {
		return fmt.Errorf("asking the model: %w", err)
	}
	var ans Document
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("model answer is not the schema's JSON: %w", err)
	}
	x := newExtraction(pages)
	amounts := amountsIn(text, x.decimal)
	lower := strings.ToLower(normSpace(text))
	grounded := func(field, v string) (string, bool) {
		v = strings.TrimSpace(v)
		if v == "" {
			return "", false
		}
		switch field {
		case "issue_date", "due_date", "ship_date":
			iso, err := ParseDate(v, x.dayFirst)
			return iso, err == nil && x.datesIn(text)[iso]
		case "subtotal", "tax", "total", "quantity", "unit_price", "line_total":
			a, _, err := ParseAmount(v, DecimalPoint)
			return a, err == nil && amounts[trimZeros(a)]
		case "currency":
			c, ok := ParseCurrency(v)
			return c, ok && (strings.Contains(text, c) || currencySymbolIn(text, c))
		case "type":
			return v, v == TypeInvoice || v == TypeCreditNote || v == TypeConfirmation || v == TypeShipNotice ||
				v == TypeBillOfLading || v == TypeOther
		}
		return normSpace(v), strings.Contains(lower, strings.ToLower(normSpace(v)))
	}
	added := false
	for _, f := range HeaderFields {
		mv, ok := grounded(f, ans.Field(f))
		if !ok {
			if ans.Field(f) != "" {
				d.Problems = append(d.Problems, fmt.Sprintf("model's %s %q is not in the document; ignored", fieldWords[f], truncate(ans.Field(f), 40)))
			}
			continue
		}
		switch rv := d.Field(f); {
		case rv == "":
			d.SetField(f, mv)
			d.Confidence[f] = 0.6
			added = true
		case !sameValue(f, rv, mv):
			d.Problems = append(d.Problems, fmt.Sprintf("rules read %s %q, the model %q", fieldWords[f], rv, mv))
			d.Confidence[f] = max(0, d.Confidence[f]-0.2)
		}
	}
	if len(d.Lines) == 0 && len(ans.Lines) > 0 {
		var lines []Line
		for _, l := range ans.Lines {
			var g Line
			var ok bool
			if g.Quantity, ok = grounded("quantity", l.Quantity); !ok && l.Quantity != "" {
				lines = nil
				break
			}
			if g.UnitPrice, ok = grounded("unit_price", l.UnitPrice); !ok && l.UnitPrice != "" {
				lines = nil
				break
			}
			if g.Total, ok = grounded("line_total", l.Total); !ok && l.Total != "" {
				lines = nil
				break
			}
			g.SKU, _ = grounded("sku", l.SKU)
			g.Description, _ = grounded("description", l.Description)
			g.Unit, _ = grounded("unit", l.Unit)
			lines = append(lines, g)
		}
		if len(lines) > 0 {
			d.Lines = lines
			added = true
		} else {
			d.Problems = append(d.Problems, "model's line items are not in the document; ignored")
		}
	}
	if added {
		// Re-run the arithmetic so model values earn confidence the same way.
		problems := d.Problems
		d.Problems = []string{}
		delete(d.Confidence, "lines")
		check(d)
		d.Problems = append(problems, d.Problems...)
	}
	return nil
}

func documentText(pages []PageText) string {
	var b strings.Builder
	for i, p := range pages {
		if i > 0 {
			b.WriteString("\f\n")
		}
		for _, l := range p.Lines {
			b.WriteString(l.Text())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// amountsIn collects every amount printed in the text, canonical and
// without trailing zeros, so "1.234,50" grounds a model's "1234.5".
func amountsIn(text string, decimal byte) map[string]bool {
	out := map[string]bool{}
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\f' }) {
		if a, _, err := ParseAmount(strings.Trim(tok, "();:"), decimal); err == nil {
			out[trimZeros(a)] = true
		}
	}
	return out
}

func (x *extraction) datesIn(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		for i := range f {
			for n := 1; n <= 3 && i+n <= len(f); n++ {
				if d, err := ParseDate(strings.Trim(strings.Join(f[i:i+n], " "), "():"), x.dayFirst); err == nil {
					out[d] = true
				}
			}
		}
	}
	return out
}

func currencySymbolIn(text, code string) bool {
	for _, c := range currencySymbols {
		if c.code == code && strings.Contains(text, c.sym) {
			return true
		}
	}
	return false
}

func trimZeros(a string) string {
	if strings.Contains(a, ".") {
		a = strings.TrimRight(strings.TrimRight(a, "0"), ".")
	}
	return a
}

// sameValue compares two values of a field: amounts by value, text without
// case and spacing.
func sameValue(field, a, b string) bool {
	if isAmountField(field) {
		ra, ok1 := rat(a)
		rb, ok2 := rat(b)
		return ok1 && ok2 && ra.Cmp(rb) == 0
	}
	return strings.EqualFold(normSpace(a), normSpace(b))
}
