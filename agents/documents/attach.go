package documents

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/ledongthuc/pdf"
)

// Attachment is an XML file embedded in a PDF (Factur-X, ZUGFeRD, XRechnung
// or UBL hybrid invoices), read by the child process.
type Attachment struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Bounds on what the child collects: hybrid invoices embed one or two XMLs,
// sometimes next to other attachments.
const (
	maxAttachments = 8
	maxNameTree    = 512
)

// attachments walks the catalog's /Names /EmbeddedFiles name tree and the
// catalog's /AF array for embedded files whose name ends in .xml. A panic in
// the library drops the attachments but not the text.
func attachments(r *pdf.Reader) (out []Attachment) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	root := r.Trailer().Key("Root")
	var specs []pdf.Value
	budget := maxNameTree
	var walk func(n pdf.Value, depth int)
	walk = func(n pdf.Value, depth int) {
		if depth > 16 || budget <= 0 || n.Kind() != pdf.Dict {
			return
		}
		budget--
		names := n.Key("Names")
		for i := 1; i < names.Len(); i += 2 {
			specs = append(specs, names.Index(i))
		}
		kids := n.Key("Kids")
		for i := 0; i < kids.Len() && budget > 0; i++ {
			walk(kids.Index(i), depth+1)
		}
	}
	walk(root.Key("Names").Key("EmbeddedFiles"), 0)
	af := root.Key("AF")
	for i := 0; i < af.Len() && i < maxNameTree; i++ {
		specs = append(specs, af.Index(i))
	}
	seen := map[string]bool{}
	for _, fs := range specs {
		if len(out) >= maxAttachments {
			break
		}
		name := fs.Key("UF").Text()
		if name == "" {
			name = fs.Key("F").Text()
		}
		if !strings.HasSuffix(strings.ToLower(name), ".xml") || seen[name] {
			continue
		}
		stream := fs.Key("EF").Key("F")
		if stream.Kind() != pdf.Stream {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(stream.Reader(), MaxXMLBytes+1))
		if err != nil || len(data) > MaxXMLBytes {
			continue
		}
		seen[name] = true
		out = append(out, Attachment{Name: name, Data: data})
	}
	return out
}

// fromAttachments reads the best e-invoice among a PDF's XML attachments:
// CII of ZUGFeRD 2 / Factur-X before ZUGFeRD 1, then UBL.
func fromAttachments(atts []Attachment) (Document, bool) {
	var best Document
	bestRank := 0
	for _, a := range atts {
		d, err := ParseEInvoice(a.Data)
		if err != nil {
			continue
		}
		rank := 1
		if bytes.Contains(a.Data, []byte("CrossIndustryInvoice")) {
			rank = 3
		} else if bytes.Contains(a.Data, []byte("urn:oasis:names:specification:ubl")) {
			rank = 2
		}
		if rank > bestRank {
			best, bestRank = d, rank
		}
	}
	if bestRank == 0 {
		return Document{}, false
	}
	return best, true
}

var reSpaces = regexp.MustCompile(`[\s\x{00a0}\x{202f}]+`)

// checkAgainstText checks that the embedded XML's total is printed on the
// pages (in any usual locale format). A hybrid invoice whose picture and data
// disagree is a problem a person must see; the XML's total then loses its
// full confidence.
func checkAgainstText(d *Document, pages []PageText) {
	if d.Total == "" || len(pages) == 0 {
		return
	}
	text := reSpaces.ReplaceAllString(documentText(pages), "")
	for _, f := range amountForms(d.Total) {
		if strings.Contains(text, f) {
			return
		}
	}
	d.Problems = append(d.Problems, fmt.Sprintf("the embedded XML's total %s is not printed on the PDF's pages", d.Total))
	d.Confidence["total"] = 0.5
}

// amountForms are the ways an amount is printed: 1234.5 → 1234.50, 1,234.50,
// 1.234,50, 1234,50, 1'234.50.
func amountForms(a string) []string {
	r, ok := rat(a)
	if !ok {
		return nil
	}
	r.Abs(r)
	plain := r.FloatString(2)
	intPart, frac, _ := strings.Cut(plain, ".")
	var groups []string
	for len(intPart) > 3 {
		groups = append([]string{intPart[len(intPart)-3:]}, groups...)
		intPart = intPart[:len(intPart)-3]
	}
	groups = append([]string{intPart}, groups...)
	return []string{
		plain,
		strings.Join(groups, ",") + "." + frac,
		strings.Join(groups, ".") + "," + frac,
		strings.Join(groups, "") + "," + frac,
		strings.Join(groups, "'") + "." + frac,
	}
}
