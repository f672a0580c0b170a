package documents

import (
	"regexp"
	"sort"
	"strings"
)

// typeTitles are the titles that name a document type, in the order they are
// tried: a credit note often says "credit note for invoice …", and an order
// confirmation "confirmation of purchase order …", so the specific ones come
// first.
var typeTitles = []struct {
	typ string
	re  *regexp.Regexp
}{
	{TypeCreditNote, regexp.MustCompile(`(?i)\b(credit\s*(note|memo)|gutschrift|rechnungskorrektur|avoir|note\s+de\s+cr[ée]dit|creditnota|creditfactuur|nota\s+di\s+credito|nota\s+de\s+cr[ée]dito|factura\s+rectificativa|faktura\s+korygująca|korekta)\b`)},
	{TypeBillOfLading, regexp.MustCompile(`(?i)(\bbill\s+of\s+lading\b|\bB/L\b|\bfrachtbrief\b|\bkonnossement\b|\bconnaissement\b|\blettre\s+de\s+voiture\b)`)},
	{TypeShipNotice, regexp.MustCompile(`(?i)\b(packing\s+(list|slip)|advance\s+ship(ping)?\s+notice|ship(ping)?\s+notice|delivery\s+note|despatch\s+note|lieferschein|packliste|lieferavis|versandanzeige|bordereau\s+de\s+livraison|bon\s+de\s+livraison|liste\s+de\s+colisage|avis\s+d'exp[ée]dition)\b|\bASN\b`)},
	{TypeConfirmation, regexp.MustCompile(`(?i)\b(order\s+(confirmation|acknowledge?ment)|confirmation\s+of\s+(purchase\s+)?order|po\s+confirmation|auftragsbest[äa]tigung|bestellbest[äa]tigung|confirmation\s+de\s+commande|accus[ée]\s+de\s+r[ée]ception\s+de\s+commande)\b`)},
	{TypeInvoice, regexp.MustCompile(`(?i)\b(invoice|(?:waren|handels|schluss|abschlags|teil|sammel|dienstleistungs|honorar)?rechnung|facture|factuur|factura|fattura|faktura|fatura|faktúra|lasku|faktuur)\b`)},
}

// Classify decides the document type from its title: the largest text near
// the top of the first page, then the first lines, then the whole text.
// It returns the type and how sure the rule is.
func Classify(pages []PageText) (string, float64) {
	if len(pages) == 0 {
		return TypeOther, 0
	}
	first := pages[0].Lines
	// Cells of the first page's top third, largest font first.
	var top []Cell
	if len(first) > 0 {
		y0 := first[0].Y
		for _, l := range first {
			if y0-l.Y > 260 { // about a third of an A4/Letter page
				break
			}
			top = append(top, l.Cells...)
		}
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].Size > top[j].Size })
	if len(top) > 0 {
		biggest := top[0].Size
		for _, c := range top {
			if c.Size < biggest-0.5 {
				break
			}
			if t := matchType(c.Text); t != "" {
				return t, 0.9
			}
		}
		for _, c := range top {
			if t := matchType(c.Text); t != "" {
				return t, 0.75
			}
		}
	}
	var all strings.Builder
	for _, p := range pages {
		for _, l := range p.Lines {
			all.WriteString(l.Text())
			all.WriteByte('\n')
		}
	}
	if t := matchType(all.String()); t != "" {
		return t, 0.5
	}
	return TypeOther, 0.3
}

// reLetterSpaced is a word set with a space after each letter, as titles
// are drawn for emphasis: "W A R E N R E C H N U N G".
var reLetterSpaced = regexp.MustCompile(`\b(?:\pL ){3,}\pL\b`)

func matchType(s string) string {
	s = reLetterSpaced.ReplaceAllStringFunc(s, func(w string) string { return strings.ReplaceAll(w, " ", "") })
	for _, t := range typeTitles {
		if t.re.MatchString(s) {
			return t.typ
		}
	}
	return ""
}
