package documents

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/exops/exops/cases"
)

// E-invoices: UN/CEFACT CII (Factur-X, ZUGFeRD 1 and 2, XRechnung CII) and
// OASIS UBL 2.1 (Peppol BIS Billing 3.0, XRechnung UBL), invoices and credit
// notes. They carry every field exactly, so when one is given (standalone or
// embedded in a PDF) it wins over anything read from the visible text.
//
// The XML is read with encoding/xml into a small tree of local names (the
// prefixes vary between producers; the local names do not), bounded in size,
// depth and element count so that hostile input costs little. encoding/xml
// does not expand external entities, and comments are not data.

// Limits for e-invoice XML. The largest real files embed a base64 PDF of a
// few MB as an attachment.
const (
	MaxXMLBytes    = 16 << 20
	maxXMLDepth    = 64
	maxXMLElements = 200000
)

// Document sources, in Document.Source and Document.Sources.
const (
	SourceXML   = "xml"   // the e-invoice XML (standalone or embedded)
	SourceText  = "text"  // the PDF's visible text
	SourceModel = "model" // the language-model field filler
)

type xnode struct {
	name  string // local name
	attrs map[string]string
	text  string
	kids  []*xnode
}

// child returns the first direct child with one of the local names.
func (n *xnode) child(names ...string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		for _, nm := range names {
			if k.name == nm {
				return k
			}
		}
	}
	return nil
}

// path follows direct children.
func (n *xnode) path(names ...string) *xnode {
	for _, nm := range names {
		n = n.child(nm)
	}
	return n
}

func (n *xnode) val() string {
	if n == nil {
		return ""
	}
	return strings.Join(strings.Fields(n.text), " ")
}

// find returns the first descendant (depth first) with the local name,
// without entering subtrees named in skip.
func (n *xnode) find(name string, skip ...string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
		skipped := false
		for _, s := range skip {
			if k.name == s {
				skipped = true
			}
		}
		if skipped {
			continue
		}
		if f := k.find(name, skip...); f != nil {
			return f
		}
	}
	return nil
}

func (n *xnode) all(name string) []*xnode {
	var out []*xnode
	if n == nil {
		return out
	}
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

var errNotEInvoice = errors.New("not a CII or UBL invoice")

// parseXMLTree reads XML into a tree with bounds.
func parseXMLTree(data []byte) (*xnode, error) {
	if len(data) > MaxXMLBytes {
		return nil, fmt.Errorf("XML too large: %s, the limit is %s", bytesHuman(int64(len(data))), bytesHuman(MaxXMLBytes))
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		// Real e-invoices are UTF-8; accept the common aliases of it and
		// refuse other charsets plainly.
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %q", label)
	}
	var root *xnode
	var stack []*xnode
	count := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > maxXMLElements {
				return nil, fmt.Errorf("XML has more than %d elements", maxXMLElements)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("XML nested deeper than %d levels", maxXMLDepth)
			}
			n := &xnode{name: t.Name.Local}
			for _, a := range t.Attr {
				if n.attrs == nil {
					n.attrs = map[string]string{}
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("malformed XML: more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				// Text of a container (indentation) is dropped; a leaf keeps
				// it. A base64 attachment can be MBs: that is bounded by
				// MaxXMLBytes already.
				top.text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("malformed XML: no root element")
	}
	return root, nil
}

// LooksLikeXML reports whether data starts like an XML document (after a BOM
// and white space), so that callers can send it to ParseEInvoice instead of
// the PDF reader.
func LooksLikeXML(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return bytes.HasPrefix(data, []byte("<"))
}

// ParseEInvoice reads a CII or UBL invoice or credit note. Errors are
// cases.Error of KindInvalid with a message for the person who shared it.
func ParseEInvoice(data []byte) (Document, error) {
	root, err := parseXMLTree(data)
	if err != nil {
		return Document{}, &cases.Error{Kind: cases.KindInvalid, Msg: "unreadable e-invoice: " + truncate(err.Error(), 200)}
	}
	var d Document
	switch root.name {
	case "CrossIndustryInvoice", "CrossIndustryDocument":
		d = fromCII(root)
	case "Invoice", "CreditNote":
		d = fromUBL(root)
	default:
		return Document{}, &cases.Error{Kind: cases.KindInvalid, Msg: fmt.Sprintf("not a PDF file or an e-invoice: the XML's root element <%s> is not a CII or UBL invoice or credit note", truncate(root.name, 60))}
	}
	if d.Number == "" && d.Total == "" {
		return Document{}, &cases.Error{Kind: cases.KindInvalid, Msg: "unreadable e-invoice: it has neither an invoice number nor a total"}
	}
	finishXML(&d)
	return d, nil
}

// typeFromCode maps UNTDID 1001 codes: 381 (credit note), 396 (factored
// credit note), 261 (self-billed credit note) are credit notes; the rest
// (380, 383 debit note, 384 correction, 389 self-billed, 386 prepayment, 875…)
// are invoices to be paid.
func typeFromCode(code, root string) string {
	switch code {
	case "381", "396", "261", "262", "532":
		return TypeCreditNote
	case "":
		if root == "CreditNote" {
			return TypeCreditNote
		}
	}
	return TypeInvoice
}

// ciiDate reads a CII date (format 102 = YYYYMMDD; also tolerates ISO dates).
func ciiDate(n *xnode) string {
	if n == nil {
		return ""
	}
	if s := n.child("DateTimeString"); s != nil {
		n = s
	}
	return isoDate(n.val())
}

func isoDate(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case len(v) == 8 && allDigits(v):
		return v[:4] + "-" + v[4:6] + "-" + v[6:]
	case len(v) >= 10 && v[4] == '-' && v[7] == '-' && allDigits(v[:4]+v[5:7]+v[8:10]):
		return v[:10]
	}
	return ""
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// xmlAmount normalises an XML decimal ("64." → "64", "+5.0" → "5.0").
// Anything that is not a plain decimal is dropped rather than guessed.
func xmlAmount(n *xnode) string {
	v := strings.TrimPrefix(n.val(), "+")
	v = strings.TrimSuffix(v, ".")
	if _, ok := rat(v); !ok {
		return ""
	}
	return v
}

// amountIn picks, among elements of one name, the one in the currency (a
// second TaxTotal in the tax currency is ignored), else the first.
func amountIn(nodes []*xnode, currency string) string {
	for _, n := range nodes {
		if c := n.attrs["currencyID"]; c != "" && c == currency {
			return xmlAmount(n)
		}
	}
	for _, n := range nodes {
		if n.attrs["currencyID"] == "" {
			return xmlAmount(n)
		}
	}
	if len(nodes) > 0 {
		return xmlAmount(nodes[0])
	}
	return ""
}

func fromCII(root *xnode) Document {
	const lineItem = "IncludedSupplyChainTradeLineItem"
	d := Document{Source: SourceXML}
	hdr := root.child("ExchangedDocument", "HeaderExchangedDocument")
	d.Number = hdr.child("ID").val()
	d.TypeCode = hdr.child("TypeCode").val()
	d.Type = typeFromCode(d.TypeCode, "")
	d.IssueDate = ciiDate(hdr.child("IssueDateTime"))
	tx := root.child("SupplyChainTradeTransaction", "SpecifiedSupplyChainTradeTransaction")
	d.Currency = tx.find("InvoiceCurrencyCode", lineItem).val()
	if terms := tx.find("SpecifiedTradePaymentTerms", lineItem); terms != nil {
		d.DueDate = ciiDate(terms.child("DueDateDateTime"))
		d.PaymentTerms = terms.child("Description").val()
	}
	sum := tx.find("SpecifiedTradeSettlementHeaderMonetarySummation", lineItem)
	if sum == nil {
		sum = tx.find("SpecifiedTradeSettlementMonetarySummation", lineItem) // ZUGFeRD 1
	}
	if sum != nil {
		d.Subtotal = amountIn(sum.all("TaxBasisTotalAmount"), d.Currency)
		if d.Subtotal == "" {
			d.Subtotal = amountIn(sum.all("LineTotalAmount"), d.Currency)
		}
		d.Tax = amountIn(sum.all("TaxTotalAmount"), d.Currency)
		d.Total = amountIn(sum.all("GrandTotalAmount"), d.Currency)
		d.AmountDue = amountIn(sum.all("DuePayableAmount"), d.Currency)
	}
	if s := tx.find("SellerTradeParty", lineItem); s != nil {
		d.Supplier = s.child("Name").val()
		d.SupplierVAT = ciiVAT(s)
	}
	if b := tx.find("BuyerTradeParty", lineItem); b != nil {
		d.Buyer = b.child("Name").val()
	}
	if po := tx.find("BuyerOrderReferencedDocument", lineItem); po != nil {
		d.PONumber = po.child("IssuerAssignedID").val()
		if d.PONumber == "" {
			d.PONumber = po.child("ID").val()
		}
	}
	for _, li := range tx.all(lineItem) {
		var l Line
		if p := li.child("SpecifiedTradeProduct"); p != nil {
			l.Description = p.child("Name").val()
			l.SKU = p.child("SellerAssignedID").val()
		}
		if q := li.find("BilledQuantity"); q != nil {
			l.Quantity = xmlAmount(q)
			l.Unit = q.attrs["unitCode"]
		}
		price := li.find("NetPriceProductTradePrice")
		if price == nil {
			price = li.find("GrossPriceProductTradePrice")
		}
		if price != nil {
			l.UnitPrice = xmlAmount(price.child("ChargeAmount"))
		}
		if s := li.find("SpecifiedTradeSettlementLineMonetarySummation"); s != nil {
			l.Total = xmlAmount(s.child("LineTotalAmount"))
		} else if s := li.find("SpecifiedTradeSettlementMonetarySummation"); s != nil {
			l.Total = xmlAmount(s.child("LineTotalAmount"))
		}
		if l.Description == "" && l.Quantity == "" && l.Total == "" {
			continue // a line that only carries a note
		}
		d.Lines = append(d.Lines, l)
	}
	return d
}

func ciiVAT(party *xnode) string {
	for _, r := range party.all("SpecifiedTaxRegistration") {
		if id := r.child("ID"); id != nil && id.attrs["schemeID"] == "VA" {
			return id.val()
		}
	}
	return ""
}

func fromUBL(root *xnode) Document {
	d := Document{Source: SourceXML}
	d.Number = root.child("ID").val()
	d.TypeCode = root.child("InvoiceTypeCode", "CreditNoteTypeCode").val()
	d.Type = typeFromCode(d.TypeCode, root.name)
	d.IssueDate = isoDate(root.child("IssueDate").val())
	d.DueDate = isoDate(root.child("DueDate").val())
	if d.DueDate == "" {
		d.DueDate = isoDate(root.path("PaymentMeans", "PaymentDueDate").val())
	}
	d.Currency = root.child("DocumentCurrencyCode").val()
	d.PaymentTerms = root.path("PaymentTerms", "Note").val()
	if m := root.child("LegalMonetaryTotal"); m != nil {
		d.Subtotal = xmlAmount(m.child("TaxExclusiveAmount"))
		d.Total = xmlAmount(m.child("TaxInclusiveAmount"))
		d.AmountDue = xmlAmount(m.child("PayableAmount"))
	}
	var taxes []*xnode
	for _, t := range root.all("TaxTotal") {
		if a := t.child("TaxAmount"); a != nil {
			taxes = append(taxes, a)
		}
	}
	d.Tax = amountIn(taxes, d.Currency)
	party := func(p *xnode) (name, vat string) {
		name = p.path("PartyLegalEntity", "RegistrationName").val()
		if name == "" {
			name = p.path("PartyName", "Name").val()
		}
		for _, s := range p.all("PartyTaxScheme") {
			if s.path("TaxScheme", "ID").val() == "VAT" {
				vat = s.child("CompanyID").val()
			}
		}
		return name, vat
	}
	d.Supplier, d.SupplierVAT = party(root.path("AccountingSupplierParty", "Party"))
	d.Buyer, _ = party(root.path("AccountingCustomerParty", "Party"))
	d.PONumber = root.path("OrderReference", "ID").val()
	for _, li := range root.kids {
		if li.name != "InvoiceLine" && li.name != "CreditNoteLine" {
			continue
		}
		var l Line
		l.Description = li.path("Item", "Name").val()
		l.SKU = li.path("Item", "SellersItemIdentification", "ID").val()
		if q := li.child("InvoicedQuantity", "CreditedQuantity"); q != nil {
			l.Quantity = xmlAmount(q)
			l.Unit = q.attrs["unitCode"]
		}
		l.UnitPrice = xmlAmount(li.path("Price", "PriceAmount"))
		l.Total = xmlAmount(li.child("LineExtensionAmount"))
		d.Lines = append(d.Lines, l)
	}
	return d
}

// finishXML sets confidence, sources and the arithmetic problems of a
// document read from XML.
func finishXML(d *Document) {
	creditNoteSign(d)
	d.Confidence = map[string]float64{}
	d.Sources = map[string]string{}
	for _, f := range append(append([]string{}, HeaderFields...), "lines", "buyer", "amount_due") {
		if f == "lines" && len(d.Lines) == 0 || f != "lines" && d.fieldAny(f) == "" {
			continue
		}
		d.Confidence[f] = 1
		d.Sources[f] = SourceXML
	}
	sub, ok1 := rat(d.Subtotal)
	tax, ok2 := rat(d.Tax)
	tot, ok3 := rat(d.Total)
	if ok1 && ok2 && ok3 {
		if s := new(big.Rat).Add(sub, tax); !near(s, tot, 2) {
			d.Problems = append(d.Problems, fmt.Sprintf("the e-invoice does not add up: subtotal %s + tax %s is not the total %s", d.Subtotal, d.Tax, d.Total))
		}
	}
}

func (d *Document) fieldAny(name string) string {
	switch name {
	case "buyer":
		return d.Buyer
	case "amount_due":
		return d.AmountDue
	}
	return d.Field(name)
}
