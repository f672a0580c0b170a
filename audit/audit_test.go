package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// memLog is a Log over a slice, as a test double for a store.
type memLog struct {
	recs    []Record
	head    *[2]string // seq, hash; nil = no HeadReader
	decode  uint64     // report a DecodeError at this seq
	calls   int
	readErr error
}

func (l *memLog) ForEachRecord(ctx context.Context, from uint64, fn func(Record) error) error {
	l.calls++
	if l.readErr != nil {
		return l.readErr
	}
	for _, r := range l.recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Seq == l.decode && l.decode != 0 {
			return &DecodeError{Seq: r.Seq, Err: errors.New("unexpected end of JSON input")}
		}
		if r.Seq < from {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

type headLog struct {
	*memLog
	seq  uint64
	hash string
}

func (l headLog) AuditHead(context.Context) (uint64, string, error) { return l.seq, l.hash, nil }

// t0 is the fixed clock of every test record.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func entries() []cases.AuditEntry {
	return []cases.AuditEntry{
		{Time: t0, Case: "EX-000001", Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: "credit hold on SO-1042"},
		{Time: t0.Add(time.Minute), Case: "EX-000001", Kind: cases.AuditRecommendation, Action: "release_credit_hold", Actor: cases.ActorExops, Verdict: "approve", Confidence: 0.87, PolicyVersion: "2025-03-01", Detail: "customer within limit, 3 checks passed"},
		{Time: t0.Add(2 * time.Minute), Case: "EX-000002", Kind: cases.AuditCaseOpened, Actor: cases.ActorExops, Detail: "=HYPERLINK(\"http://evil\",\"click\")"},
		{Time: t0.Add(3 * time.Minute).In(time.FixedZone("CET", 3600)), Case: "EX-000001", Kind: cases.AuditDecision, Action: "release_credit_hold", Actor: "U024BE7LH", Verdict: "approve", Confidence: 0.87, PolicyVersion: "2025-03-01", Detail: "ok, \"Acme\" pays <on time>,\nsee thread"},
		{Time: t0.Add(4 * time.Minute), Case: "EX-000002", Kind: cases.AuditDecision, Action: "cancel_line", Actor: "@maria", Verdict: "recommend", Confidence: 0.4, PolicyVersion: "2025-03-01", Detail: "-5 units; +2 tolerance"},
		{Time: t0.Add(5 * time.Minute), Case: "EX-000001", Kind: cases.AuditActionExecuted, Action: "release_credit_hold", Actor: cases.ActorExops, Verdict: "auto", Confidence: 1, PolicyVersion: "2025-03-01", Detail: "'quoted' ünïcödé ✓"},
	}
}

func chain(es []cases.AuditEntry) []Record {
	prev := GenesisHash
	out := make([]Record, 0, len(es))
	for i, e := range es {
		r := NewRecord(uint64(i+1), prev, e)
		out = append(out, r)
		prev = r.Hash
	}
	return out
}

func TestNewRecord(t *testing.T) {
	e := entries()[3]
	r := NewRecord(4, GenesisHash, e)
	if r.Time.Location() != time.UTC || !r.Time.Equal(e.Time) {
		t.Errorf("time = %v, want %v in UTC", r.Time, e.Time)
	}
	if r.Hash != r.ComputeHash() || len(r.Hash) != 64 || strings.ToLower(r.Hash) != r.Hash {
		t.Fatalf("hash %q is not the lowercase hex SHA-256 of the record", r.Hash)
	}
	if len(GenesisHash) != 64 || strings.Trim(GenesisHash, "0") != "" {
		t.Fatalf("GenesisHash = %q", GenesisHash)
	}

	// The documented encoding, spelled out independently.
	var b strings.Builder
	b.WriteString("exops-audit-v1\n")
	for _, kv := range [][2]string{{"seq", "4"}, {"time", "2025-03-14T09:29:53.589793Z"}, {"case", e.Case}, {"kind", e.Kind},
		{"action", e.Action}, {"actor", e.Actor}, {"verdict", e.Verdict}, {"confidence", "0.87"},
		{"policy_version", e.PolicyVersion}, {"detail", e.Detail}, {"prev_hash", GenesisHash}} {
		fmt.Fprintf(&b, "%s=%d:%s\n", kv[0], len(kv[1]), kv[1])
	}
	if want := sha256Hex(b.String()); r.Hash != want {
		t.Errorf("hash = %s, want %s (documented encoding)", r.Hash, want)
	}

	// Every field except hash is covered.
	mutations := map[string]func(*Record){
		"seq":            func(r *Record) { r.Seq++ },
		"time":           func(r *Record) { r.Time = r.Time.Add(time.Nanosecond) },
		"case":           func(r *Record) { r.Case += "x" },
		"kind":           func(r *Record) { r.Kind += "x" },
		"action":         func(r *Record) { r.Action += "x" },
		"actor":          func(r *Record) { r.Actor += "x" },
		"verdict":        func(r *Record) { r.Verdict += "x" },
		"confidence":     func(r *Record) { r.Confidence += 1e-12 },
		"policy_version": func(r *Record) { r.PolicyVersion += "x" },
		"detail":         func(r *Record) { r.Detail += "x" },
		"prev_hash":      func(r *Record) { r.PrevHash = strings.Repeat("1", 64) },
		// Length prefixes keep a byte moving between fields from colliding.
		"shift": func(r *Record) { r.Case, r.Kind = r.Case+r.Kind[:1], r.Kind[1:] },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			m := r
			mutate(&m)
			if m.ComputeHash() == r.Hash {
				t.Errorf("changing %s does not change the hash", name)
			}
		})
	}
}

func sha256Hex(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

func TestRecordJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		e    cases.AuditEntry
	}{
		{"plain", entries()[1]},
		{"html and newlines", entries()[3]},
		{"invalid utf-8", cases.AuditEntry{Time: t0, Case: "EX-1", Detail: "bad \xff\xfe bytes \xc3", Actor: "a\x80b"}},
		{"tiny confidence", cases.AuditEntry{Time: t0, Confidence: 1e-9}},
		{"zero time", cases.AuditEntry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecord(7, GenesisHash, tt.e)
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var back Record
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.ComputeHash(); got != r.Hash {
				t.Errorf("hash after JSON round trip = %s, want %s\njson: %s", got, r.Hash, b)
			}
		})
	}
}

func TestRecordJSONFieldOrder(t *testing.T) {
	r := chain(entries())[0]
	r.Choice = "approve" // omitted when empty
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if got, want := strings.Join(keys, ","), strings.Join(Fields(), ","); got != want {
		t.Errorf("JSON fields = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	rehash := func(r *Record) { r.Hash = r.ComputeHash() }
	tests := []struct {
		name    string
		tamper  func([]Record) []Record
		head    func([]Record) (uint64, string) // nil: log has no head
		wantSeq uint64                          // 0: intact
		reason  string
	}{
		{name: "intact", tamper: func(rs []Record) []Record { return rs }},
		{name: "intact with head", tamper: func(rs []Record) []Record { return rs },
			head: func(rs []Record) (uint64, string) { return rs[len(rs)-1].Seq, rs[len(rs)-1].Hash }},
		{name: "empty", tamper: func([]Record) []Record { return nil },
			head: func([]Record) (uint64, string) { return 0, "" }},
		{name: "changed detail", wantSeq: 3, reason: "changed",
			tamper: func(rs []Record) []Record { rs[2].Detail = "nothing to see"; return rs }},
		{name: "changed confidence", wantSeq: 5, reason: "changed",
			tamper: func(rs []Record) []Record { rs[4].Confidence = 0.99; return rs }},
		{name: "changed actor of last", wantSeq: 6, reason: "changed",
			tamper: func(rs []Record) []Record { rs[5].Actor = "someone-else"; return rs }},
		{name: "changed and rehashed", wantSeq: 3, reason: "prev_hash",
			tamper: func(rs []Record) []Record { rs[1].Verdict = "auto"; rehash(&rs[1]); return rs }},
		{name: "deleted record", wantSeq: 3, reason: "missing",
			tamper: func(rs []Record) []Record { return append(rs[:2], rs[3:]...) }},
		{name: "deleted first record", wantSeq: 1, reason: "missing",
			tamper: func(rs []Record) []Record { return rs[1:] }},
		{name: "deleted and renumbered", wantSeq: 3, reason: "",
			tamper: func(rs []Record) []Record {
				rs = append(rs[:2], rs[3:]...)
				for i := range rs {
					rs[i].Seq = uint64(i + 1)
				}
				return rs
			}},
		{name: "two records swapped", wantSeq: 3, reason: "moved",
			tamper: func(rs []Record) []Record { rs[2], rs[3] = rs[3], rs[2]; return rs }},
		{name: "reordered with seqs swapped", wantSeq: 3, reason: "prev_hash",
			tamper: func(rs []Record) []Record {
				rs[2], rs[3] = rs[3], rs[2]
				rs[2].Seq, rs[3].Seq = 3, 4
				return rs
			}},
		{name: "repeated record", wantSeq: 4, reason: "repeated",
			tamper: func(rs []Record) []Record { return append(rs[:3], append([]Record{rs[2]}, rs[3:]...)...) }},
		{name: "changed prev_hash", wantSeq: 4, reason: "prev_hash",
			tamper: func(rs []Record) []Record { rs[3].PrevHash = GenesisHash; return rs }},
		{name: "changed prev_hash and rehashed", wantSeq: 4, reason: "prev_hash",
			tamper: func(rs []Record) []Record { rs[3].PrevHash = strings.Repeat("a", 64); rehash(&rs[3]); return rs }},
		{name: "changed hash only", wantSeq: 2, reason: "changed",
			tamper: func(rs []Record) []Record { rs[1].Hash = strings.Repeat("b", 64); return rs }},
		{name: "truncated tail", wantSeq: 5, reason: "removed from the end",
			tamper: func(rs []Record) []Record { return rs[:4] },
			head:   func(rs []Record) (uint64, string) { return 6, rs[5].Hash }},
		{name: "tail rewritten", wantSeq: 6, reason: "head",
			tamper: func(rs []Record) []Record { rs[5].Detail = "rewritten"; rehash(&rs[5]); return rs },
			head:   func(rs []Record) (uint64, string) { return 6, chain(entries())[5].Hash }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := chain(entries())
			recs := tt.tamper(append([]Record(nil), orig...))
			var log Log = &memLog{recs: recs}
			if tt.head != nil {
				seq, hash := tt.head(orig)
				log = headLog{memLog: &memLog{recs: recs}, seq: seq, hash: hash}
			}
			res, err := Verify(context.Background(), log)
			if tt.wantSeq == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Checked != len(recs) {
					t.Errorf("Checked = %d, want %d", res.Checked, len(recs))
				}
				wantHead := ""
				if len(recs) > 0 {
					wantHead = recs[len(recs)-1].Hash
				}
				if res.Head != wantHead {
					t.Errorf("Head = %q, want %q", res.Head, wantHead)
				}
				return
			}
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("Verify = %v, want *BrokenError", err)
			}
			if be.Seq != tt.wantSeq {
				t.Errorf("broken at seq %d (%s), want seq %d", be.Seq, be.Reason, tt.wantSeq)
			}
			if !strings.Contains(be.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", be.Reason, tt.reason)
			}
			if res.Checked != int(tt.wantSeq)-1 {
				t.Errorf("Checked = %d, want %d", res.Checked, tt.wantSeq-1)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Verify(ctx, &memLog{recs: chain(entries()), decode: 3})
	var be *BrokenError
	if !errors.As(err, &be) || be.Seq != 3 || !strings.Contains(be.Reason, "decode") {
		t.Errorf("undecodable record: err = %v, want BrokenError at 3", err)
	}

	boom := errors.New("disk on fire")
	_, err = Verify(ctx, &memLog{readErr: boom})
	if !errors.Is(err, boom) || errors.As(err, &be) {
		t.Errorf("read error: err = %v, want it wrapped and not a BrokenError", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Verify(cctx, &memLog{recs: chain(entries())}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestFilter(t *testing.T) {
	recs := chain(entries())
	tests := []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"all", Filter{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"case", Filter{Case: "EX-000002"}, []uint64{3, 5}},
		{"actor", Filter{Actor: cases.ActorExops}, []uint64{1, 2, 3, 6}},
		{"since inclusive", Filter{Since: t0.Add(4 * time.Minute)}, []uint64{5, 6}},
		{"until exclusive", Filter{Until: t0.Add(2 * time.Minute)}, []uint64{1, 2}},
		{"window in other zone", Filter{Since: t0.Add(time.Minute).In(time.FixedZone("X", -5*3600)), Until: t0.Add(4 * time.Minute)}, []uint64{2, 3, 4}},
		{"case and actor", Filter{Case: "EX-000001", Actor: "U024BE7LH"}, []uint64{4}},
		{"nothing", Filter{Case: "EX-404"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := ExportNDJSON(context.Background(), &memLog{recs: recs}, tt.f, &buf)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			dec := json.NewDecoder(&buf)
			for dec.More() {
				var r Record
				if err := dec.Decode(&r); err != nil {
					t.Fatal(err)
				}
				if r.ComputeHash() != r.Hash {
					t.Errorf("exported record %d does not hash to its hash", r.Seq)
				}
				got = append(got, r.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || n != len(tt.want) {
				t.Errorf("NDJSON seqs = %v (n=%d), want %v", got, n, tt.want)
			}

			buf.Reset()
			n, err = ExportCSV(context.Background(), &memLog{recs: recs}, tt.f, &buf)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, row := range rows[1:] {
				s, _ := strconv.ParseUint(row[0], 10, 64)
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || n != len(tt.want) {
				t.Errorf("CSV seqs = %v (n=%d), want %v", got, n, tt.want)
			}
		})
	}
}

func TestExportGolden(t *testing.T) {
	tests := []struct {
		file   string
		export func(context.Context, Log, Filter, io.Writer) (int, error)
	}{
		{"export.ndjson", ExportNDJSON},
		{"export.csv", ExportCSV},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := tt.export(context.Background(), &memLog{recs: chain(entries())}, Filter{}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(entries()) {
				t.Errorf("n = %d, want %d", n, len(entries()))
			}
			golden := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the export:\n--- got\n%s\n--- want\n%s", golden, buf.Bytes(), want)
			}
		})
	}
}

// TestCSVReversible shows what ExportCSV documents: dropping one leading
// apostrophe from each cell gives back the hashed values.
func TestCSVReversible(t *testing.T) {
	es := entries()
	for _, d := range []string{"'=already quoted", "''", "'", "+1", "@x", "\tx", "\rx", "-", "a=b"} {
		es = append(es, cases.AuditEntry{Time: t0, Case: d, Detail: d, Actor: d})
	}
	recs := chain(es)
	var buf bytes.Buffer
	if _, err := ExportCSV(context.Background(), &memLog{recs: recs}, Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(Fields(), ",") {
		t.Fatalf("header = %v", rows[0])
	}
	for i, row := range rows[1:] {
		for j, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("row %d cell %d %q starts a formula", i+1, j, c)
			}
			row[j] = strings.TrimPrefix(c, "'")
		}
		seq, _ := strconv.ParseUint(row[0], 10, 64)
		tm, err := time.Parse(time.RFC3339Nano, row[1])
		if err != nil {
			t.Fatal(err)
		}
		conf, _ := strconv.ParseFloat(row[7], 64)
		r := Record{Seq: seq, Time: tm, Case: row[2], Kind: row[3], Action: row[4], Actor: row[5], Verdict: row[6],
			Confidence: conf, PolicyVersion: row[8], Detail: row[9], Choice: row[10], PrevHash: row[11], Hash: row[12]}
		if r.ComputeHash() != r.Hash {
			t.Errorf("row %d: recomputed hash differs; record %+v", i+1, r)
		}
		if r.Detail != recs[i].Detail {
			t.Errorf("row %d: detail %q, want %q", i+1, r.Detail, recs[i].Detail)
		}
	}
}

// failWriter fails after n bytes, like a client that went away.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("connection reset")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestExportWriteError(t *testing.T) {
	many := make([]cases.AuditEntry, 500)
	for i := range many {
		many[i] = cases.AuditEntry{Time: t0, Case: "EX-1", Detail: strings.Repeat("x", 100)}
	}
	recs := chain(many)
	for name, export := range map[string]func(context.Context, Log, Filter, io.Writer) (int, error){"ndjson": ExportNDJSON, "csv": ExportCSV} {
		if _, err := export(context.Background(), &memLog{recs: recs}, Filter{}, &failWriter{n: 10}); err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("%s: err = %v, want the write error", name, err)
		}
	}
}

// A decision's choice is part of its hash; records without one hash as
// they did before the field existed.
func TestChoiceIsHashed(t *testing.T) {
	e := cases.AuditEntry{Time: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Case: "EX-000001", Kind: cases.AuditDecision,
		Action: "release_credit_hold", Actor: "U1", Verdict: "approve", Confidence: 0.9, PolicyVersion: "p1", Detail: "approve: ok"}
	plain := NewRecord(1, GenesisHash, e)
	e.Choice = cases.ChoiceApprove
	chosen := NewRecord(1, GenesisHash, e)
	if plain.Hash == chosen.Hash {
		t.Fatal("the choice is not covered by the hash")
	}
	forged := chosen
	forged.Choice = string(cases.ChoiceReject)
	if forged.ComputeHash() == chosen.Hash {
		t.Error("changing the choice keeps the hash")
	}
	if got := chosen.Entry(); got.Choice != cases.ChoiceApprove || got.Detail != e.Detail {
		t.Errorf("Entry() = %+v", got)
	}
}

// What spreadsheets show cannot be spoofed: control characters and
// bidirectional overrides in a CSV cell are visible escapes; NDJSON keeps
// the exact bytes.
func TestExportDisplayInjection(t *testing.T) {
	d := "ok\x1b[2J\a\u202egpj.exe\x00"
	recs := chain([]cases.AuditEntry{{Time: t0, Case: "EX-1", Kind: "case_opened", Actor: "exops", Detail: d}})
	var csvOut, ndOut bytes.Buffer
	if _, err := ExportCSV(context.Background(), &memLog{recs: recs}, Filter{}, &csvOut); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(csvOut.String(), "\x1b\a\x00\u202e") || !strings.Contains(csvOut.String(), `ok\u001b[2J\u0007\u202egpj.exe\u0000`) {
		t.Errorf("CSV cell %q", csvOut.String())
	}
	if _, err := ExportNDJSON(context.Background(), &memLog{recs: recs}, Filter{}, &ndOut); err != nil {
		t.Fatal(err)
	}
	var r Record
	if err := json.Unmarshal(bytes.TrimSpace(ndOut.Bytes()), &r); err != nil || r.Detail != d || r.ComputeHash() != r.Hash {
		t.Errorf("NDJSON does not keep the exact detail: %q (%v)", r.Detail, err)
	}
}

func TestDecodeRecordRefusesNonCanonicalBytes(t *testing.T) {
	rec := chain(entries())[3] // detail has quotes, <, > and a newline
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeRecord(raw); err != nil || got.Hash != rec.Hash {
		t.Fatalf("canonical bytes refused: %v", err)
	}
	edits := map[string]func(string) string{
		"key case":            func(s string) string { return strings.Replace(s, `"detail"`, `"Detail"`, 1) },
		"escape spelling":     func(s string) string { return strings.Replace(s, `\u003c`, `\u003C`, 1) },
		"escape for a letter": func(s string) string { return strings.Replace(s, `"EX-000001"`, `"\u0045X-000001"`, 1) },
		"unescaped <":         func(s string) string { return strings.Replace(s, `\u003c`, `<`, 1) },
		"extra key":           func(s string) string { return strings.Replace(s, `{`, `{"x":1,`, 1) },
		"whitespace":          func(s string) string { return strings.Replace(s, `,"kind"`, `, "kind"`, 1) },
		"trailing newline":    func(s string) string { return s + "\n" },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			bad := edit(string(raw))
			if bad == string(raw) {
				t.Fatalf("edit changed nothing")
			}
			if _, err := DecodeRecord([]byte(bad)); err == nil {
				t.Errorf("accepted %s", bad)
			}
		})
	}
}
