package agents_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/cases"
)

// heldoutFloor is how many held-out questions must parse right: the
// figure measured when it was set, less a small margin, so a change that
// breaks the reading of several questions fails here.
const heldoutFloor = 112 // measured 116 of 116 (87 before the fixes that came with it)

// The clock of the held-out questions is the agents tests' now, Thursday
// 2026-11-26 12:00 UTC; the asker is U0ASKER, the teams askTeams.
const asker = "U0ASKER"

var (
	h      = time.Hour
	day    = 24 * h
	today  = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	monday = today.AddDate(0, 0, -3)
	nov1   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// heldWant is what a user expects a question to be read as.
type heldWant struct {
	kind   agents.IntentKind
	q      cases.CaseQuery
	party  string
	key    string
	actor  string
	action string
	choice cases.Choice
	since  time.Time
	until  time.Time
	count  bool
	alone  bool
	group  string
	mean   bool
	median bool
}

type heldCase struct {
	question string
	want     heldWant
}

func heldFind(q cases.CaseQuery) heldWant { return heldWant{kind: agents.IntentFindCases, q: q} }
func heldCount(q cases.CaseQuery) heldWant {
	return heldWant{kind: agents.IntentFindCases, q: q, count: true}
}
func heldParty(q cases.CaseQuery, p string) heldWant {
	return heldWant{kind: agents.IntentFindCases, q: q, party: p}
}
func heldShow(id string) heldWant {
	return heldWant{kind: agents.IntentShowCase, q: cases.CaseQuery{ID: id}}
}

var heldHelp = heldWant{kind: agents.IntentHelp}

// heldCommand is a command typed as a question ("approve EX-42"): Ask
// changes nothing and says where the change is made.
var heldCommand = heldWant{kind: "command"}

const open, resolved = cases.StatusOpen, cases.StatusResolved

// TestHeldOutQuestions reads questions written the way operators type them
// in Slack, not the phrasings the parser was built from: padding, lower case,
// typos, abbreviations, relative dates, British spellings. Each has the
// intent and slots a user would expect. A question the parser answers must
// be answered right (a wrong confident answer fails on its own); one it
// declines (help) only counts against the score, since "I can't tell" is
// honest. Questions the bot cannot answer must be declined.
func TestHeldOutQuestions(t *testing.T) {
	tests := []heldCase{
		// Business keys, typed every way.
		{"what is blocking order SO-1042?", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"hey bot, can you tell me what's holding up SO-1042 please?", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"any update on so-1042??", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"SO 1042 status", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"whats up with order #77812", heldFind(cases.CaseQuery{Order: "77812"})},
		{"where is PO 3310 at", heldFind(cases.CaseQuery{PO: "PO-3310"})},
		{"po-3310 any problems", heldFind(cases.CaseQuery{PO: "PO-3310"})},
		{"is there an ETA on ASN-7781?", heldFind(cases.CaseQuery{Shipment: "ASN-7781"})},
		{"asn 7781 - where is it", heldFind(cases.CaseQuery{Shipment: "ASN-7781"})},
		{"which consignment is SHP-5521 stuck on", heldFind(cases.CaseQuery{Shipment: "SHP-5521", Status: open})},
		{"invoice INV-90211 mismatch?", heldFind(cases.CaseQuery{Invoice: "INV-90211", Family: cases.FamilyInvoiceMismatch})},
		{"anything open on inv-90211", heldFind(cases.CaseQuery{Invoice: "INV-90211", Status: open})},
		{"stock issues for SKU-88 at DAL", heldFind(cases.CaseQuery{SKU: "SKU-88", Warehouse: "DAL", Family: cases.FamilyInventoryVariance})},
		{"sku 88 problems in warehouse DAL", heldFind(cases.CaseQuery{SKU: "SKU-88", Warehouse: "DAL"})},
		{"show me EX-000042", heldShow("EX-000042")},
		{"ex-42 details pls", heldShow("EX-000042")},
		{"can u pull up case #42", heldShow("EX-000042")},
		{"what's EX-000123 about", heldShow("EX-000123")},
		{"summarise EX-000042 for me", heldShow("EX-000042")},
		{"Summarize ex 42.", heldShow("EX-000042")},

		// Families in the words people use for them.
		{"which credit holds are open for ACME?", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open}, "ACME")},
		{"open credit holds for Acme Retail", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open}, "Acme Retail")},
		{"any orders on credit hold?", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold})},
		{"list all late deliveries from Northwind", heldParty(cases.CaseQuery{Family: cases.FamilySupplierDelay}, "Northwind")},
		{"supplier delays this week", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, OpenedAfter: monday})},
		{"which vendors haven't confirmed their POs?", heldFind(cases.CaseQuery{Family: cases.FamilyMissingConfirmation})},
		{"missing PO confirmations older than 3 days", heldFind(cases.CaseQuery{Family: cases.FamilyMissingConfirmation, Status: open, OpenedBefore: now.Add(-3 * day)})},
		{"price discrepancies from supplier Contoso Packaging", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Supplier: "Contoso Packaging"})},
		{"pricing variance on INV-90211", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Invoice: "INV-90211"})},
		{"invoice mismatches in the last 48h", heldFind(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, OpenedAfter: now.Add(-48 * h)})},
		{"shipments on hold at DAL", heldFind(cases.CaseQuery{Family: cases.FamilyShipmentHold, Warehouse: "DAL"})},
		{"which consignments are on hold?", heldFind(cases.CaseQuery{Family: cases.FamilyShipmentHold})},
		{"any allocation conflicts today?", heldFind(cases.CaseQuery{Family: cases.FamilyAllocationConflict, OpenedAfter: today})},
		{"returns exceptions since monday", heldFind(cases.CaseQuery{Family: cases.FamilyReturnsException, OpenedAfter: monday})},
		{"incomplete order data for customer C-BOLT", heldFind(cases.CaseQuery{Family: cases.FamilyIncompleteOrderData, Customer: "C-BOLT"})},
		{"receipt variances at the DAL warehouse", heldFind(cases.CaseQuery{Family: cases.FamilyReceiptQuantityVaries, Warehouse: "DAL"})},
		{"inventory discrepancies last week", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, OpenedAfter: monday.AddDate(0, 0, -7), OpenedBefore: monday})},
		{"orders on hold for Bolt Hardware", heldParty(cases.CaseQuery{Family: cases.FamilyOrderHold}, "Bolt Hardware")},
		{"Any late POs from Contoso?", heldParty(cases.CaseQuery{Family: cases.FamilySupplierDelay}, "Contoso")},

		// States. A period beside "escalated" bounds when the escalation
		// was taken (EscalatedAfter); the first run, before exops kept that
		// time, read it as when the case was opened.
		{"show cases escalated today", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: today})},
		{"what's been escalated since Monday?", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: monday})},
		{"any unassigned exceptions?", heldFind(cases.CaseQuery{Unassigned: true})},
		{"which cases have no owner", heldFind(cases.CaseQuery{Unassigned: true})},
		{"cases that are past SLA", heldFind(cases.CaseQuery{PastSLA: true})},
		{"what's breached SLA in AP?", heldFind(cases.CaseQuery{PastSLA: true, Team: "accounts-payable"})},
		{"overdue cases for the warehouse team", heldFind(cases.CaseQuery{PastSLA: true, Team: "warehouse"})},
		{"snoozed cases", heldFind(cases.CaseQuery{Snoozed: true})},
		{"what's waiting for approval?", heldFind(cases.CaseQuery{AwaitingApproval: true})},
		{"anything pending my approval", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: asker})},
		{"what's on my plate?", heldFind(cases.CaseQuery{Assignee: asker})},
		{"cases assigned to <@U0KIM>", heldFind(cases.CaseQuery{Assignee: "U0KIM"})},
		{"resolved cases yesterday", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: today.AddDate(0, 0, -1), ResolvedBefore: today})},
		{"what got closed this week", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: monday})},
		{"cases that are not resolved for Dune Foods", heldParty(cases.CaseQuery{Status: open}, "Dune Foods")},
		{"critical cases open right now", heldFind(cases.CaseQuery{Severity: cases.SeverityCritical, Status: open})},
		{"any sev1s?", heldFind(cases.CaseQuery{Severity: cases.SeverityCritical})},
		{"high severity credit holds", heldFind(cases.CaseQuery{Severity: cases.SeverityHigh, Family: cases.FamilyCreditHold})},
		{"P1 cases for customer service", heldFind(cases.CaseQuery{Priority: "P1", Team: "customer-service"})},
		{"merged cases", heldFind(cases.CaseQuery{Status: cases.StatusMerged})},
		{"cases not picked up yet", heldFind(cases.CaseQuery{Unassigned: true})},
		{"what hasnt been touched yet", heldFind(cases.CaseQuery{FirstTouchOverdue: true})},
		{"credit holds that aren't assigned", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Unassigned: true})},
		{"open cases that nobody owns", heldFind(cases.CaseQuery{Status: open, Unassigned: true})},
		{"unresolved invoice mismatches", heldFind(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, Status: open})},
		{"what's stuck in #credit-desk", heldFind(cases.CaseQuery{Status: open, Team: "credit"})},
		{"open cases in #wh-ops", heldFind(cases.CaseQuery{Status: open, Team: "warehouse"})},

		// Counts.
		{"how many open credit holds do we have?", heldCount(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open})},
		{"# of open cases in procurement", heldCount(cases.CaseQuery{Status: open, Team: "procurement"})},
		{"number of supplier delays last 7 days", heldCount(cases.CaseQuery{Family: cases.FamilySupplierDelay, OpenedAfter: now.Add(-7 * day)})},
		{"how many cases did exops resolve on its own this week?", heldCount(cases.CaseQuery{Status: resolved, ByExops: true, ResolvedAfter: monday})},
		{"count of escalations this month", heldCount(cases.CaseQuery{Escalated: true, EscalatedAfter: nov1})},
		{"hey @exops, how many critical cases does AP have open?", heldCount(cases.CaseQuery{Severity: cases.SeverityCritical, Team: "accounts-payable", Status: open})},

		// Decisions.
		{"who approved the credit release for SO-1042?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Order: "SO-1042", Family: cases.FamilyCreditHold},
			action: "release_credit_hold", choice: cases.ChoiceApprove}},
		{"who signed off on the price variance for INV-90211", heldWant{kind: agents.IntentDecisions,
			q: cases.CaseQuery{Invoice: "INV-90211", Family: cases.FamilyPriceDiscrepancy}, choice: cases.ChoiceApprove}},
		{"what did <@U0CREDITMGR> approve yesterday", heldWant{kind: agents.IntentDecisions, actor: "U0CREDITMGR", choice: cases.ChoiceApprove,
			since: today.AddDate(0, 0, -1), until: today}},
		{"who turned down the split shipment on order SO-2001?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Order: "SO-2001", Family: cases.FamilyAllocationConflict},
			action: "split_shipment", choice: cases.ChoiceReject}},
		{"decisions made by exops on its own today", heldWant{kind: agents.IntentDecisions, alone: true, since: today}},
		{"what has exops done automatically in the past 24 hours", heldWant{kind: agents.IntentDecisions, alone: true, since: now.Add(-24 * h)}},
		{"who decided on EX-000042", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{ID: "EX-000042"}}},
		{"list approvals this week", heldWant{kind: agents.IntentDecisions, choice: cases.ChoiceApprove, since: monday}},
		{"who expedited ASN-7781?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Shipment: "ASN-7781", Family: cases.FamilySupplierDelay}, action: "expedite_shipment"}},

		// Aggregates.
		{"avg time to resolve credit holds", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Family: cases.FamilyCreditHold, Status: resolved}, mean: true}},
		{"what's our MTTR this month by team?", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Status: resolved, ResolvedAfter: nov1}, mean: true, group: "team"}},
		{"median resolution time per family last week", heldWant{kind: agents.IntentTimeToResolve,
			q: cases.CaseQuery{Status: resolved, ResolvedAfter: monday.AddDate(0, 0, -7), ResolvedBefore: monday}, median: true, group: "family"}},
		{"how long do supplier delays take to resolve?", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Family: cases.FamilySupplierDelay, Status: resolved},
			mean: true, median: true}},
		{"show the backlog ageing", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open}}},
		{"backlog by age for the credit team", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open, Team: "credit"}}},
		{"what's the oldest open case?", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open}}},
		{"longest waiting credit hold", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open}}},
		{"recurring problems this month", heldWant{kind: agents.IntentPatterns, since: nov1}},
		{"what keeps going wrong with Northwind?", heldWant{kind: agents.IntentPatterns, party: "Northwind"}},
		{"top issues over the last 2 weeks", heldWant{kind: agents.IntentPatterns, since: now.Add(-14 * day)}},
		{"most common exception types", heldWant{kind: agents.IntentPatterns}},

		// Typos.
		{"escalted cases this week", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: monday})},
		{"unasigned cases in procurement", heldFind(cases.CaseQuery{Unassigned: true, Team: "procurement"})},
		{"any recuring issues?", heldWant{kind: agents.IntentPatterns}},
		{"supplier delyas for Northwind", heldParty(cases.CaseQuery{Family: cases.FamilySupplierDelay}, "Northwind")},
		{"opne credit holds", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open})},

		// Time phrases.
		{"credit holds opened in the last 48 hrs", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, OpenedAfter: now.Add(-48 * h)})},
		{"cases opened since tuesday", heldFind(cases.CaseQuery{OpenedAfter: monday.AddDate(0, 0, 1)})},
		{"what came in over the weekend?", heldFind(cases.CaseQuery{OpenedAfter: monday.AddDate(0, 0, -2), OpenedBefore: monday})},
		{"price issues in the past fortnight", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, OpenedAfter: now.Add(-14 * day)})},
		{"cases older than a week", heldFind(cases.CaseQuery{Status: open, OpenedBefore: now.Add(-7 * day)})},
		{"anything open more than 3 days", heldFind(cases.CaseQuery{Status: open, OpenedBefore: now.Add(-3 * day)})},
		{"supplier delays opened before 2026-11-20", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, OpenedBefore: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})},
		{"new cases today", heldFind(cases.CaseQuery{OpenedAfter: today})},
		{"cases from the last 2 days", heldFind(cases.CaseQuery{OpenedAfter: now.Add(-2 * day)})},

		// Mixed.
		{"credit holds for customer C-ACME older than 2 days that are unassigned", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Customer: "C-ACME",
			Unassigned: true, Status: open, OpenedBefore: now.Add(-2 * day)})},

		// Not questions about cases: declined, never answered.
		{"what's the weather in Dallas?", heldHelp},
		{"thanks!", heldHelp},
		{"lol", heldHelp},
		{"what time is it", heldHelp},
		{"tell me a joke", heldHelp},
		{"who is the CEO?", heldHelp},
		{"how do I reset my password", heldHelp},
		{"is the VPN down?", heldHelp},
	}
	runHeldOut(t, tests, heldoutFloor)
}

// runHeldOut parses each question and compares what it reads with what a
// user expects: it logs the score, and fails on a wrong answer or when
// fewer than floor are right.
func runHeldOut(t *testing.T, tests []heldCase, floor int) {
	t.Helper()
	// A state the store judges only of open (or resolved) cases implies
	// that status: "unassigned" and "open, unassigned" are the same query.
	norm := func(q cases.CaseQuery) cases.CaseQuery {
		if q.Status == "" && (q.PastSLA || q.FirstTouchOverdue || q.Snoozed || q.AwaitingApproval || q.Unassigned || q.Assigned) {
			q.Status = cases.StatusOpen
		}
		if q.Status == "" && (q.ByExops || !q.ResolvedAfter.IsZero() || !q.ResolvedBefore.IsZero()) {
			q.Status = cases.StatusResolved
		}
		return q
	}
	// describe says the slots that are set, so a wrong answer reads short.
	describe := func(w heldWant) string {
		var out []string
		add := func(v reflect.Value, typ reflect.Type, prefix string) {
			for i := 0; i < v.NumField(); i++ {
				if f := v.Field(i); !f.IsZero() {
					out = append(out, fmt.Sprintf("%s%s=%v", prefix, typ.Field(i).Name, f.Interface()))
				}
			}
		}
		add(reflect.ValueOf(w.q), reflect.TypeOf(w.q), "q.")
		w.q = cases.CaseQuery{}
		v := reflect.ValueOf(w)
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); !f.IsZero() && v.Type().Field(i).Name != "q" {
				out = append(out, fmt.Sprintf("%s=%v", v.Type().Field(i).Name, fmt.Sprint(f)))
			}
		}
		return strings.Join(out, " ")
	}
	right, declined := 0, 0
	for _, tt := range tests {
		in := agents.ParseQuestionAs(tt.question, asker, now, askTeams)
		got := heldWant{kind: in.Kind, q: norm(in.Query), party: in.Party, key: in.Key, actor: in.Actor, action: in.Action,
			since: in.Since, until: in.Until, count: in.Count, alone: in.ExopsAlone, group: in.GroupBy}
		w := tt.want
		w.q = norm(w.q)
		switch in.Kind {
		case agents.IntentDecisions:
			got.choice = in.Choice // a choice word matters only to decisions
		case agents.IntentTimeToResolve:
			got.mean, got.median = in.Mean, in.Median
		}
		// Ask answers a command with where the change is made before it
		// parses anything, so a command is read as one here too.
		if agents.IsCommand(tt.question) {
			got = heldCommand
		}
		switch {
		case got == w:
			right++
		case got.kind == agents.IntentHelp, got == heldCommand:
			// Pointing a question to where changes are made answers
			// nothing, as a decline does.
			declined++
			t.Logf("declined %q (expected %s)", tt.question, w.kind)
		default:
			t.Errorf("wrong answer to %q\n got %s\nwant %s", tt.question, describe(got), describe(w))
		}
	}
	t.Logf("held-out questions: %d/%d right, %d declined, %d wrong", right, len(tests), declined, len(tests)-right-declined)
	if right < floor {
		t.Errorf("only %d/%d held-out questions parse right; the floor is %d", right, len(tests), floor)
	}
}

// heldoutFloor2 is the floor of the second set: measured 60 of 60; its
// first run, after the first set's fixes and before its own, was 54 of 60
// right and 6 wrong (48 right on the parser before either set).
const heldoutFloor2 = 57

// TestHeldOutQuestions2 is a second set, written after the parser was fixed
// for the first and run once before any change for it: the first set's
// score after its fixes says little of questions not yet seen, this one's
// first score does.
func TestHeldOutQuestions2(t *testing.T) {
	tests := []heldCase{
		{"yo exops what's the deal with SO-3001", heldFind(cases.CaseQuery{Order: "SO-3001"})},
		{"Order no. 55120 - anything?", heldFind(cases.CaseQuery{Order: "55120"})},
		{"pls check asn#8820", heldFind(cases.CaseQuery{Shipment: "ASN-8820"})},
		{"what's happening with invoice no. 7781", heldFind(cases.CaseQuery{Invoice: "7781"})},
		{"show ex-000310", heldShow("EX-000310")},
		{"case 17?", heldShow("EX-000017")},
		{"open allocation issues at ATL", heldFind(cases.CaseQuery{Family: cases.FamilyAllocationConflict, Status: open, Warehouse: "ATL"})},
		{"customer C-DUNE credit holds", heldFind(cases.CaseQuery{Customer: "C-DUNE", Family: cases.FamilyCreditHold})},
		{"credit blocks for Elm Street Market", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold}, "Elm Street Market")},
		{"any price mismatches from Northwind Fasteners this week", heldParty(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, OpenedAfter: monday}, "Northwind Fasteners")},
		{"delayed inbound from supplier Initech", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, Supplier: "Initech"})},
		{"unconfirmed POs older than 5 days", heldFind(cases.CaseQuery{Family: cases.FamilyMissingConfirmation, Status: open, OpenedBefore: now.Add(-5 * day)})},
		{"cycle count problems in warehouse RNO", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, Warehouse: "RNO"})},
		{"short receipts on PO-7030", heldFind(cases.CaseQuery{Family: cases.FamilyReceiptQuantityVaries, PO: "PO-7030"})},
		{"RMA issues this month", heldFind(cases.CaseQuery{Family: cases.FamilyReturnsException, OpenedAfter: nov1})},
		{"customs holds", heldFind(cases.CaseQuery{Family: cases.FamilyShipmentHold})},
		{"what's sitting unassigned in credit?", heldFind(cases.CaseQuery{Unassigned: true, Team: "credit"})},
		{"who's working on EX-000042?", heldShow("EX-000042")},
		{"anything past due for procurement?", heldFind(cases.CaseQuery{PastSLA: true, Team: "procurement"})},
		{"what's overdue in #ap-exceptions", heldFind(cases.CaseQuery{PastSLA: true, Team: "accounts-payable"})},
		{"stuff that needs my sign off", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: asker})},
		{"open items assigned to me", heldFind(cases.CaseQuery{Status: open, Assignee: asker})},
		{"which critical exceptions are still open?", heldFind(cases.CaseQuery{Severity: cases.SeverityCritical, Status: open})},
		{"low sev cases", heldFind(cases.CaseQuery{Severity: cases.SeverityLow})},
		{"P2s for the warehouse", heldFind(cases.CaseQuery{Priority: "P2", Team: "warehouse"})},
		{"escalations in the past week", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: now.Add(-7 * day)})},
		{"closed yesterday?", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: today.AddDate(0, 0, -1), ResolvedBefore: today})},
		{"cases fixed by exops without a human this month", heldFind(cases.CaseQuery{ByExops: true, Status: resolved, ResolvedAfter: nov1})},
		{"How many invoice mismatches are open?", heldCount(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, Status: open})},
		{"total number of cases opened last week", heldCount(cases.CaseQuery{OpenedAfter: monday.AddDate(0, 0, -7), OpenedBefore: monday})},
		{"how many things are waiting on approval", heldCount(cases.CaseQuery{AwaitingApproval: true})},
		{"who rejected the price dispute on INV-5002?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Invoice: "INV-5002", Family: cases.FamilyPriceDiscrepancy},
			action: "dispute_price_variance", choice: cases.ChoiceReject}},
		{"who okayed the expedite for ASN-8020", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Shipment: "ASN-8020", Family: cases.FamilySupplierDelay},
			action: "expedite_shipment", choice: cases.ChoiceApprove}},
		{"what did <@U0WHMGR> decide this week", heldWant{kind: agents.IntentDecisions, actor: "U0WHMGR", since: monday}},
		{"show me rejections from yesterday", heldWant{kind: agents.IntentDecisions, choice: cases.ChoiceReject, since: today.AddDate(0, 0, -1), until: today}},
		{"what has exops approved by itself since monday", heldWant{kind: agents.IntentDecisions, choice: cases.ChoiceApprove, alone: true, since: monday}},
		{"mean time to resolve for inventory variances", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Family: cases.FamilyInventoryVariance, Status: resolved}, mean: true}},
		{"median TTR by team", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Status: resolved}, median: true, group: "team"}},
		{"how quickly do we close credit holds on average?", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Family: cases.FamilyCreditHold, Status: resolved}, mean: true}},
		{"aging report", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open}}},
		{"backlog for procurement", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open, Team: "procurement"}}},
		{"which open case has been waiting longest?", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open}}},
		{"oldest unassigned case", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open, Unassigned: true}}},
		{"what issues keep recurring with Contoso", heldWant{kind: agents.IntentPatterns, party: "Contoso"}},
		{"repeat problems in the last 90 days", heldWant{kind: agents.IntentPatterns, since: now.Add(-90 * day)}},
		{"any escalatd credit holds?", heldFind(cases.CaseQuery{Escalated: true, Family: cases.FamilyCreditHold})},
		{"unresloved price issues", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Status: open})},
		{"shipmnet holds at DAL", heldFind(cases.CaseQuery{Family: cases.FamilyShipmentHold, Warehouse: "DAL"})},
		{"cases since 2026-11-20", heldFind(cases.CaseQuery{OpenedAfter: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})},
		{"anything raised in the last 3 hrs", heldFind(cases.CaseQuery{OpenedAfter: now.Add(-3 * h)})},
		{"supplier delays more than a fortnight old", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, Status: open, OpenedBefore: now.Add(-14 * day)})},
		{"what got resolved on 2026-11-24", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
			ResolvedBefore: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})},
		{"Any returns for Fern Outdoor?", heldParty(cases.CaseQuery{Family: cases.FamilyReturnsException}, "Fern Outdoor")},
		{"shipments held at customs for customer Bolt Hardware", heldFind(cases.CaseQuery{Family: cases.FamilyShipmentHold, Customer: "Bolt Hardware"})},
		{"what's the capital of France?", heldHelp},
		{"good morning!", heldHelp},
		{"can you book a meeting room", heldHelp},
		{"who is on call tonight?", heldHelp},
		{"how many days until Christmas", heldHelp},
		{"what's the status of the ERP upgrade?", heldHelp},
	}
	runHeldOut(t, tests, heldoutFloor2)
}

// heldoutFloor3 is the floor of the third set: measured 45 of 45; its
// first run, after the second set's fixes and before its own, was 41 of 45
// right, 1 declined, 3 wrong (36 right on the parser before any set).
const heldoutFloor3 = 42

// TestHeldOutQuestions3 is a third set, written after the second set's
// fixes and run once before any change for it.
func TestHeldOutQuestions3(t *testing.T) {
	oct1 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	tests := []heldCase{
		{"hi, quick q - any credit holds for C-ACME rn?", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Customer: "C-ACME"})},
		{"status of SO-2040 pls and thx", heldFind(cases.CaseQuery{Order: "SO-2040"})},
		{"Whats blocking SO 2040", heldFind(cases.CaseQuery{Order: "SO-2040"})},
		{"deliveries late from Northwind Fasteners", heldParty(cases.CaseQuery{Family: cases.FamilySupplierDelay}, "Northwind Fasteners")},
		{"Northwind Fasteners late deliveries", heldParty(cases.CaseQuery{Family: cases.FamilySupplierDelay}, "Northwind Fasteners")},
		{"stock count variances in DAL", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, Warehouse: "DAL"})},
		{"inventory mismatches at warehouse ATL older than 1 week", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, Warehouse: "ATL",
			Status: open, OpenedBefore: now.Add(-7 * day)})},
		{"allocation conflicts for order SO-2001", heldFind(cases.CaseQuery{Family: cases.FamilyAllocationConflict, Order: "SO-2001"})},
		{"anything for supplier Contoso Packaging since yesterday", heldFind(cases.CaseQuery{Supplier: "Contoso Packaging", OpenedAfter: today.AddDate(0, 0, -1)})},
		{"price variances > 2 days old", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Status: open, OpenedBefore: now.Add(-2 * day)})},
		{"cases opened in the last 24hrs", heldFind(cases.CaseQuery{OpenedAfter: now.Add(-24 * h)})},
		{"what was resolved last month", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: oct1, ResolvedBefore: nov1})},
		{"anything snoozed for AP", heldFind(cases.CaseQuery{Snoozed: true, Team: "accounts-payable"})},
		{"which exceptions are awaiting my approval?", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: asker})},
		{"anything waiting on <@U0CREDITMGR> to approve", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: "U0CREDITMGR"})},
		{"cases assigned to U0KIM that are past SLA", heldFind(cases.CaseQuery{Assignee: "U0KIM", PastSLA: true})},
		{"unowned credit holds", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Unassigned: true})},
		{"severity: critical", heldFind(cases.CaseQuery{Severity: cases.SeverityCritical})},
		{"sev high open cases for the credit desk", heldFind(cases.CaseQuery{Severity: cases.SeverityHigh, Status: open, Team: "credit"})},
		{"p1 escalations", heldFind(cases.CaseQuery{Priority: "P1", Escalated: true})},
		{"how many cases are escalated right now?", heldCount(cases.CaseQuery{Escalated: true})},
		{"how many resolved this week", heldCount(cases.CaseQuery{Status: resolved, ResolvedAfter: monday})},
		// Added with escalation times, so not held out: the opening still
		// wins when the question names it.
		{"escalated cases opened this week", heldFind(cases.CaseQuery{Escalated: true, OpenedAfter: monday})},
		// Added with the SLA-due bounds, so not held out: about to breach
		// is not yet past; breaching is.
		{"which cases are about to breach SLA?", heldFind(cases.CaseQuery{SLADueAfter: now, SLADueBefore: now.Add(agents.SLASoon)})},
		{"credit holds close to breaching", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, SLADueAfter: now, SLADueBefore: now.Add(agents.SLASoon)})},
		{"anything breaching?", heldFind(cases.CaseQuery{PastSLA: true})},
		{"who approved the recount on SKU-88?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{SKU: "SKU-88", Family: cases.FamilyInventoryVariance},
			action: "recount_inventory", choice: cases.ChoiceApprove}},
		{"who released the credit hold on SO-2003", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Order: "SO-2003", Family: cases.FamilyCreditHold},
			action: "release_credit_hold"}},
		{"decisions by U0APLEAD last week", heldWant{kind: agents.IntentDecisions, actor: "U0APLEAD", since: monday.AddDate(0, 0, -7), until: monday}},
		{"what did exops do on its own yesterday", heldWant{kind: agents.IntentDecisions, alone: true, since: today.AddDate(0, 0, -1), until: today}},
		{"who rejected what today", heldWant{kind: agents.IntentDecisions, choice: cases.ChoiceReject, since: today}},
		{"avg resolution time for price discrepancies this month", heldWant{kind: agents.IntentTimeToResolve,
			q: cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Status: resolved, ResolvedAfter: nov1}, mean: true}},
		{"what's the median time to close by family", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Status: resolved}, median: true, group: "family"}},
		{"backlog ageing for AP", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open, Team: "accounts-payable"}}},
		{"oldest supplier delay", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open, Family: cases.FamilySupplierDelay}}},
		{"what are the most frequent problems at DAL", heldWant{kind: agents.IntentPatterns, q: cases.CaseQuery{Warehouse: "DAL"}}},
		{"root causes this week", heldWant{kind: agents.IntentPatterns, since: monday}},
		{"crdit holds for Acme Retail", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold}, "Acme Retail")},
		{"overdeu cases", heldFind(cases.CaseQuery{PastSLA: true})},
		{"snozed cases", heldFind(cases.CaseQuery{Snoozed: true})},
		{"whats the eta on ASN-8010", heldFind(cases.CaseQuery{Shipment: "ASN-8010"})},
		{"SKU-20 @ DAL", heldFind(cases.CaseQuery{SKU: "SKU-20", Warehouse: "DAL"})},
		{"where are we on the Bolt Hardware credit hold?", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold}, "Bolt Hardware")},
		{"how are you?", heldHelp},
		{"what's for lunch", heldHelp},
		{"ping", heldHelp},
		{"can you order more pallets", heldHelp},
		{"set a reminder for 3pm", heldHelp},
		{"who won the game last night?", heldHelp},
	}
	runHeldOut(t, tests, heldoutFloor3)
}

// TestTyposLeaveWordsAlone: typo correction reads a word that is no known
// word as a near one of the parser's vocabulary, and must not turn ordinary
// words into states ("reach" is no "breach", "ending" no "pending").
func TestTyposLeaveWordsAlone(t *testing.T) {
	for _, q := range []string{
		"we could not reach Contoso about PO-3310",
		"credit holds for the week ending 2026-11-27",
		"Dune Foods credit holds",
		"credit holds for the beach store account C-SURF",
		"who is the receiver on PO-3310",
		"stock allocated to SO-1042",
	} {
		in := agents.ParseQuestionAs(q, asker, now, askTeams)
		if in.Query.PastSLA || in.Query.Status != "" {
			t.Errorf("ParseQuestion(%q) reads a state: %+v", q, in.Query)
		}
	}
}

// heldoutFloor4 is the floor of the fourth set: measured 97 of 97. Its
// first run, after the third set's fixes and before its own, was 61 of 97
// right, 3 declined and 33 wrong (60 as first counted: the harness took a
// command's choice word for part of its reading, fixed before anything
// else).
const heldoutFloor4 = 93

// TestHeldOutQuestions4 is a fourth set, written after the third set's
// fixes and before it was run, in styles the first three lack: text as
// Slack delivers it (channel references, links, code ticks, bold, emoji,
// quoted lines escaped as "&gt;", several lines), very terse and long
// rambling questions, English as a second language, people named by
// mention, negations, comparisons, date ranges and day/month dates (an
// ambiguous one such as 3/11 must be declined), and commands, questions
// about the future and requests that are no question, which must not be
// answered as a search.
func TestHeldOutQuestions4(t *testing.T) {
	oct1 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	ap := "accounts-payable"
	tests := []heldCase{
		// As Slack delivers it.
		{"open cases in <#C0CREDIT|credit-desk>", heldFind(cases.CaseQuery{Status: open, Team: "credit"})},
		{"what's overdue in <#C0AP01|ap-exceptions>?", heldFind(cases.CaseQuery{PastSLA: true, Team: ap})},
		{"<#C0WH01|wh-ops> backlog", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open, Team: "warehouse"}}},
		{"anything open in <#C0ZZ99>?", heldHelp}, // a channel Slack did not name: its team is unknown
		{"<https://erp.example.com/so/1042|SO-1042> - why is this blocked?", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"can you check <https://erp.example.com/po/PO-3310|this PO>", heldFind(cases.CaseQuery{PO: "PO-3310"})},
		{"status of `SO-1042`", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"`ex-42`?", heldShow("EX-000042")},
		{"*open* credit holds for *Acme Retail*", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open}, "Acme Retail")},
		{":wave: any sev1s today? :fire:", heldFind(cases.CaseQuery{Severity: cases.SeverityCritical, OpenedAfter: today})},
		{":eyes: unassigned stuff in procurement", heldFind(cases.CaseQuery{Unassigned: true, Team: "procurement"})},
		{"&gt; customer says SO-2077 still hasn't shipped\nwhat's holding it up?", heldFind(cases.CaseQuery{Order: "SO-2077"})},
		{"Morning!\nQuick one:\nwhich credit holds are unassigned?\nthanks!", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Unassigned: true})},
		{"how many cases are past SLA? thanks!", heldCount(cases.CaseQuery{PastSLA: true})},
		{"price variances &gt; 3 days old", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Status: open, OpenedBefore: now.Add(-3 * day)})},
		{"any open case for INV-90211? <mailto:ap@acme.example|ap@acme.example> keeps asking", heldFind(cases.CaseQuery{Invoice: "INV-90211", Status: open})},
		{"what's <@U0KIM|kim> working on?", heldFind(cases.CaseQuery{Assignee: "U0KIM"})},
		{"cases escalated today :rotating_light:", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: today})},

		// Terse.
		{"SO-1042?", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"holds?", heldHelp}, // credit, order or shipment holds: one family would be a partial answer
		{"AP backlog", heldWant{kind: agents.IntentBacklog, q: cases.CaseQuery{Status: open, Team: ap}}},
		{"unassigned?", heldFind(cases.CaseQuery{Unassigned: true})},
		{"escalations today", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: today})},
		{"MTTR?", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Status: resolved}, mean: true}},
		{"my approvals", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: asker})},
		{"p1s open", heldFind(cases.CaseQuery{Priority: "P1", Status: open})},
		{"po 7777", heldFind(cases.CaseQuery{PO: "PO-7777"})},
		{"inv-2026-001", heldFind(cases.CaseQuery{Invoice: "INV-2026-001"})},
		{"so-1042 pls", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"asn7781", heldFind(cases.CaseQuery{Shipment: "ASN-7781"})},
		{"how many?", heldHelp},

		// English as a second language.
		{"please tell me which order have credit hold for customer Acme Retail", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Customer: "Acme Retail"})},
		{"how much cases is open in procurement?", heldCount(cases.CaseQuery{Status: open, Team: "procurement"})},
		{"what is the status from SO-1042", heldFind(cases.CaseQuery{Order: "SO-1042"})},
		{"there is some problem with PO-3310?", heldFind(cases.CaseQuery{PO: "PO-3310"})},
		{"give me all case escalated since monday", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: monday})},
		{"which cases is waiting approve from me", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: asker})},
		{"I want know the oldest case still open", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open}}},
		{"the supplier Initech, he has delay?", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, Supplier: "Initech"})},
		{"cases of warehouse DAL which nobody take", heldFind(cases.CaseQuery{Warehouse: "DAL", Unassigned: true})},

		// Long, the question at the end.
		{"Hi team, sorry to bother, I was talking with the customer this morning and they are quite upset because their delivery did not arrive. " +
			"Could you check what is going on with SO-2077?", heldFind(cases.CaseQuery{Order: "SO-2077"})},
		{"so I've been going through my inbox and a lot looks stale, quick sanity check: how many invoice mismatches are older than 5 days?",
			heldCount(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, Status: open, OpenedBefore: now.Add(-5 * day)})},
		{"Not urgent, but for the weekly review on Friday I need to know: what's the average time to resolve credit holds this month?",
			heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Family: cases.FamilyCreditHold, Status: resolved, ResolvedAfter: nov1}, mean: true}},
		{"context: Northwind called again, they say we owe them money. question: which price discrepancies for Northwind are not resolved?",
			heldParty(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, Status: open}, "Northwind")},

		// People.
		{"anything waiting on <@U0APLEAD> to sign off?", heldFind(cases.CaseQuery{AwaitingApproval: true, Approver: "U0APLEAD"})},
		{"what did <@U0CREDITMGR> reject this week", heldWant{kind: agents.IntentDecisions, actor: "U0CREDITMGR", choice: cases.ChoiceReject, since: monday}},
		{"<@U0KIM>'s open cases", heldFind(cases.CaseQuery{Assignee: "U0KIM", Status: open})},
		{"what did I approve yesterday?", heldWant{kind: agents.IntentDecisions, actor: asker, choice: cases.ChoiceApprove,
			since: today.AddDate(0, 0, -1), until: today}},
		{"cases assigned to <@W0ABCD12> past SLA", heldFind(cases.CaseQuery{Assignee: "W0ABCD12", PastSLA: true})},

		// Negations.
		{"credit holds without an owner", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Unassigned: true})},
		{"cases for C-BOLT that are not resolved yet", heldFind(cases.CaseQuery{Customer: "C-BOLT", Status: open})},
		{"supplier delays that haven't been picked up", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, Unassigned: true})},
		{"open cases excluding credit holds", heldHelp}, // the store cannot leave a family out
		{"invoice mismatches with nobody assigned in AP", heldFind(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, Unassigned: true, Team: ap})},

		// Comparisons.
		{"open credit holds under 24h old", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Status: open, OpenedAfter: now.Add(-24 * h)})},
		{"cases at least 2 weeks old", heldFind(cases.CaseQuery{Status: open, OpenedBefore: now.Add(-14 * day)})},
		{"which cases opened more than 3 days ago are still open", heldFind(cases.CaseQuery{Status: open, OpenedBefore: now.Add(-3 * day)})},
		{"missing confirmations older than 48 hours", heldFind(cases.CaseQuery{Family: cases.FamilyMissingConfirmation, Status: open, OpenedBefore: now.Add(-48 * h)})},
		{"cases opened less than 2 days ago", heldFind(cases.CaseQuery{OpenedAfter: now.Add(-2 * day)})},
		{"escalated more than 2 days ago and still open", heldFind(cases.CaseQuery{Escalated: true, Status: open, EscalatedBefore: now.Add(-2 * day)})},

		// Ranges and dates.
		{"cases opened between Nov 3 and Nov 10", heldFind(cases.CaseQuery{OpenedAfter: nov(3), OpenedBefore: nov(11)})},
		{"supplier delays from 1/11 to 15/11", heldFind(cases.CaseQuery{Family: cases.FamilySupplierDelay, OpenedAfter: nov(1), OpenedBefore: nov(16)})},
		{"cases since 3/11", heldHelp}, // 3 November or March 11
		{"credit holds since 20/11", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, OpenedAfter: nov(20)})},
		{"what was resolved on 11/24?", heldFind(cases.CaseQuery{Status: resolved, ResolvedAfter: nov(24), ResolvedBefore: nov(25)})},
		{"escalations since the 1st", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: nov1})},
		{"price issues in the last 2 weeks", heldFind(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy, OpenedAfter: now.Add(-14 * day)})},
		{"returns over the past fortnight", heldFind(cases.CaseQuery{Family: cases.FamilyReturnsException, OpenedAfter: now.Add(-14 * day)})},
		{"cases opened since last Friday", heldFind(cases.CaseQuery{OpenedAfter: nov(20)})},
		{"how many cases were resolved between 2026-11-16 and 2026-11-20?", heldCount(cases.CaseQuery{Status: resolved, ResolvedAfter: nov(16), ResolvedBefore: nov(21)})},
		{"what got escalated yesterday", heldFind(cases.CaseQuery{Escalated: true, EscalatedAfter: today.AddDate(0, 0, -1), EscalatedBefore: today})},
		{"credit holds escalated this week", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Escalated: true, EscalatedAfter: monday})},
		{"inventory variances opened on 24 November", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, OpenedAfter: nov(24), OpenedBefore: nov(25)})},
		{"cases opened today that were escalated", heldFind(cases.CaseQuery{Escalated: true, OpenedAfter: today})},

		// Typos and spellings of families; a name in lower case.
		{"price discrepencies for Contoso", heldParty(cases.CaseQuery{Family: cases.FamilyPriceDiscrepancy}, "Contoso")},
		{"invoice missmatches this week", heldFind(cases.CaseQuery{Family: cases.FamilyInvoiceMismatch, OpenedAfter: monday})},
		{"inventroy variances at DAL", heldFind(cases.CaseQuery{Family: cases.FamilyInventoryVariance, Warehouse: "DAL"})},
		{"alocation conflicts", heldFind(cases.CaseQuery{Family: cases.FamilyAllocationConflict})},
		{"Credit-Holds for C-ACME", heldFind(cases.CaseQuery{Family: cases.FamilyCreditHold, Customer: "C-ACME"})},
		{"any credit holds for acme?", heldParty(cases.CaseQuery{Family: cases.FamilyCreditHold}, "acme")},

		// Decisions and aggregates.
		{"who said no to the expedite on ASN-8020?", heldWant{kind: agents.IntentDecisions, q: cases.CaseQuery{Shipment: "ASN-8020", Family: cases.FamilySupplierDelay},
			action: "expedite_shipment", choice: cases.ChoiceReject}},
		{"anything exops auto-approved today?", heldWant{kind: agents.IntentDecisions, alone: true, choice: cases.ChoiceApprove, since: today}},
		{"avg TTR for AP this month", heldWant{kind: agents.IntentTimeToResolve, q: cases.CaseQuery{Team: ap, Status: resolved, ResolvedAfter: nov1}, mean: true}},
		{"oldest open case in <#C0AP01|ap-exceptions>", heldWant{kind: agents.IntentOldest, q: cases.CaseQuery{Status: open, Team: ap}}},
		{"recurring issues with Contoso Packaging last month", heldWant{kind: agents.IntentPatterns, party: "Contoso Packaging", since: oct1, until: nov1}},

		// The future, and requests that are no question about cases.
		{"what will be late tomorrow?", heldHelp},
		{"which cases will breach SLA in the next 4 hours?", heldHelp},
		{"forecast next week's backlog", heldHelp},
		{"write an email to Northwind about the delay", heldHelp},
		{"what's the EUR to USD rate today?", heldHelp},
		{"can you translate this to Spanish", heldHelp},
		{"restart the bot", heldHelp},

		// Commands: Ask changes nothing and says where it is done.
		{"release the hold on SO-1", heldCommand},
		{"pls approve ex-42", heldCommand},
		{"assign SO-1042 to <@U0KIM>", heldCommand},
		{"escalate INV-90211 to finance please", heldCommand},
		{"approve all pending credit holds", heldCommand},
	}
	runHeldOut(t, tests, heldoutFloor4)
}
