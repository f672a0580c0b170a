package connectors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// Pulls are for systems that cannot push events: exops asks on a schedule
// (cmd/exops runs Poll from robfig/cron). Both pullers advance a durable
// checkpoint only after the Ingester has committed what was read, so a
// crash re-reads at most the last batch, never skips one; the intake's
// (source, id) idempotency then answers the re-read events as duplicates, so
// no case sees an event twice.

// PullResult says what one Poll did.
type PullResult struct {
	Events     int      // accepted by the ingester (new or duplicate)
	Duplicates int      // of which were already known
	Files      int      // drop-folder files finished
	Rejected   []string // events refused, with where and why; they are not retried
}

// Checkpoint is a small durable value kept in a file, replaced atomically
// (write to a temporary file, fsync, rename, fsync the directory), so a
// crash leaves either the old or the new value, never a torn one.
type Checkpoint struct{ Path string }

// Load returns the saved value, or "" when none was saved yet.
func (c Checkpoint) Load() (string, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read checkpoint %s: %w", c.Path, err)
	}
	return string(b), nil
}

// Save replaces the value.
func (c Checkpoint) Save(v string) error {
	dir := filepath.Dir(c.Path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(c.Path)+".*")
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", c.Path, err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(v)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint %s: %w", c.Path, err)
	}
	if err := os.Rename(tmp, c.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace checkpoint %s: %w", c.Path, err)
	}
	if d, err := os.Open(dir); err == nil {
		// The rename is durable only once the directory is synced.
		serr := d.Sync()
		d.Close()
		if serr != nil {
			return fmt.Errorf("sync checkpoint directory %s: %w", dir, serr)
		}
	}
	return nil
}

func ingest(ctx context.Context, in Ingester, evs []cases.Event, res *PullResult) error {
	if len(evs) == 0 {
		return nil
	}
	out, err := in.Ingest(ctx, evs)
	if err != nil {
		return err
	}
	res.Events += len(out)
	for _, r := range out {
		if r.Duplicate {
			res.Duplicates++
		}
	}
	return nil
}

// HTTPPoller reads GET {base}/v1/events?after=CURSOR&limit=N from one
// system, page by page, and keeps the cursor in a checkpoint.
type HTTPPoller struct {
	Client     *Client
	Ingester   Ingester
	Checkpoint Checkpoint
	// Source, when set, is the only CloudEvents source the feed may carry:
	// a facade cannot speak for another system.
	Source   string
	Limit    int // events per page, default 100
	MaxPages int // pages per Poll, default 50: one run is bounded
}

// Poll reads what is new since the checkpoint.
func (p *HTTPPoller) Poll(ctx context.Context) (PullResult, error) {
	var res PullResult
	limit, pages := p.Limit, p.MaxPages
	if limit <= 0 {
		limit = 100
	}
	if pages <= 0 {
		pages = 50
	}
	cursor, err := p.Checkpoint.Load()
	if err != nil {
		return res, err
	}
	for range pages {
		var page EventPage
		path := "/v1/events?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			path += "&after=" + url.QueryEscape(cursor)
		}
		if err := p.Client.Get(ctx, path, "event feed", &page); err != nil {
			return res, fmt.Errorf("poll %s events: %w", p.Client.Name(), err)
		}
		var evs []cases.Event
		for i, raw := range page.Events {
			ev, err := cases.ParseEvent(raw)
			if err == nil && p.Source != "" && ev.Source != p.Source {
				err = fmt.Errorf("source %q is not %q", ev.Source, p.Source)
			}
			if err != nil {
				res.Rejected = append(res.Rejected, fmt.Sprintf("%s feed after %q, event %d: %v", p.Client.Name(), cursor, i, err))
				continue
			}
			evs = append(evs, ev)
		}
		if err := ingest(ctx, p.Ingester, evs, &res); err != nil {
			return res, fmt.Errorf("ingest %s events: %w", p.Client.Name(), err)
		}
		if page.Next == "" || page.Next == cursor {
			return res, nil
		}
		if err := p.Checkpoint.Save(page.Next); err != nil {
			return res, err
		}
		cursor = page.Next
		if len(page.Events) == 0 {
			return res, nil
		}
	}
	return res, nil
}

// DropFolder reads CSV files of events that a system drops into Dir.
//
// A file is one header row and one event per row: columns id and type are
// required, time (RFC 3339 or YYYY-MM-DD) and subject optional, every other
// column a data field of the event type (numbers as numbers, lists separated
// by ";", allocations as "DAL:700;ATL:500"); an empty cell is absent.
// Only *.csv files are read, in name order; writers must create a file
// under another name and rename it into place when complete. A finished
// file is moved to Dir/processed.
//
// *.edi and *.x12 files are X12 or EDIFACT interchanges: with an EDI reader
// set, each is read whole (its events carry the EDI source and ids from its
// control numbers, so a file read twice raises duplicates) and moved to
// processed; without one they are left in place and named.
type DropFolder struct {
	Dir        string
	Source     string // the CloudEvents source of the rows, e.g. /erp/csv-drop
	Ingester   Ingester
	Checkpoint Checkpoint
	Batch      int   // rows per ingest and checkpoint, default 100
	MaxBytes   int64 // per file, default 32 MiB: a bigger file is refused, not read
	EDI        EDIReader
}

// dropMark is where the drop folder stands: rows done in one file, known by
// name and content, so a new file that reuses a name starts at row 0.
type dropMark struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
}

// Poll ingests every complete file in the folder.
func (d *DropFolder) Poll(ctx context.Context) (PullResult, error) {
	var res PullResult
	if d.Source == "" {
		return res, errors.New("drop folder: no source")
	}
	batch, maxBytes := d.Batch, d.MaxBytes
	if batch <= 0 {
		batch = 100
	}
	if maxBytes <= 0 {
		maxBytes = 32 << 20
	}
	var names []string
	for _, pat := range []string{"*.csv", "*.edi", "*.x12"} {
		found, err := filepath.Glob(filepath.Join(d.Dir, pat))
		if err != nil {
			return res, fmt.Errorf("list %s: %w", d.Dir, err)
		}
		names = append(names, found...)
	}
	sort.Strings(names)
	raw, err := d.Checkpoint.Load()
	if err != nil {
		return res, err
	}
	var mark dropMark
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &mark); err != nil {
			return res, fmt.Errorf("checkpoint %s is damaged: %w", d.Checkpoint.Path, err)
		}
	}
	for _, path := range names {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		name := filepath.Base(path)
		info, err := os.Stat(path)
		if err != nil {
			return res, fmt.Errorf("drop folder: %w", err)
		}
		if info.Size() > maxBytes {
			res.Rejected = append(res.Rejected, fmt.Sprintf("%s: %d bytes is over the %d byte limit; left in place", name, info.Size(), maxBytes))
			continue
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return res, fmt.Errorf("drop folder: %w", err)
		}
		if ext := strings.ToLower(filepath.Ext(name)); ext == ".edi" || ext == ".x12" {
			if err := d.pollEDI(ctx, path, content, &res); err != nil {
				return res, err
			}
			continue
		}
		sum := sha256.Sum256(content)
		digest := hex.EncodeToString(sum[:])
		start := 0
		if mark.File == name && mark.SHA256 == digest {
			start = mark.Rows
		}
		rows, rerr := readCSV(content)
		if rerr != nil {
			res.Rejected = append(res.Rejected, fmt.Sprintf("%s: %v; moved to processed unread", name, rerr))
			rows = nil
		}
		for i := start; i < len(rows); i += batch {
			end := min(i+batch, len(rows))
			var evs []cases.Event
			for j := i; j < end; j++ {
				ev, err := d.rowEvent(rows[j])
				if err != nil {
					// Row j+2: the header is line 1.
					res.Rejected = append(res.Rejected, fmt.Sprintf("%s line %d: %v", name, j+2, err))
					continue
				}
				evs = append(evs, ev)
			}
			if err := ingest(ctx, d.Ingester, evs, &res); err != nil {
				return res, fmt.Errorf("ingest %s rows %d-%d: %w", name, i+2, end+1, err)
			}
			mark = dropMark{File: name, SHA256: digest, Rows: end}
			if err := d.saveMark(mark); err != nil {
				return res, err
			}
		}
		if err := d.finish(path); err != nil {
			return res, err
		}
		res.Files++
	}
	return res, nil
}

// pollEDI reads one interchange file. A file that cannot be read is moved
// to processed with its errors; one whose events could not be stored stays
// for the next poll.
func (d *DropFolder) pollEDI(ctx context.Context, path string, content []byte, res *PullResult) error {
	name := filepath.Base(path)
	if d.EDI == nil {
		res.Rejected = append(res.Rejected, fmt.Sprintf("%s: an EDI interchange, and no EDI reader is configured; left in place", name))
		return nil
	}
	r, err := d.EDI.Read(ctx, content)
	if err != nil && len(r.Sets) > 0 {
		return fmt.Errorf("ingest %s: %w", name, err)
	}
	for _, e := range r.Errors {
		res.Rejected = append(res.Rejected, name+": "+e)
	}
	res.Events += len(r.Raised)
	for _, ir := range r.Raised {
		if ir.Duplicate {
			res.Duplicates++
		}
	}
	if err := d.finish(path); err != nil {
		return err
	}
	res.Files++
	return nil
}

func (d *DropFolder) saveMark(m dropMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return d.Checkpoint.Save(string(b))
}

// finish moves a read file to processed/, keeping an earlier file of the
// same name.
func (d *DropFolder) finish(path string) error {
	done := filepath.Join(d.Dir, "processed")
	if err := os.MkdirAll(done, 0o755); err != nil {
		return fmt.Errorf("drop folder: %w", err)
	}
	dst := filepath.Join(done, filepath.Base(path))
	for n := 1; ; n++ {
		if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(done, fmt.Sprintf("%s.%d", filepath.Base(path), n))
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("drop folder: move %s to processed: %w", filepath.Base(path), err)
	}
	return nil
}

type csvRow map[string]string

func readCSV(content []byte) ([]csvRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = 0 // every row as wide as the header
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if !containsAll(header, "id", "type") {
		return nil, errors.New("header needs the columns id and type")
	}
	var rows []csvRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		row := csvRow{}
		for i, v := range rec {
			if v = strings.TrimSpace(v); v != "" {
				row[header[i]] = v
			}
		}
		rows = append(rows, row)
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// rowEvent makes the CloudEvent of one row and validates it exactly as the
// webhook does.
func (d *DropFolder) rowEvent(row csvRow) (cases.Event, error) {
	et, ok := cases.LookupEventType(row["type"])
	if !ok {
		return cases.Event{}, cases.Errorf(cases.KindUnknownType, "unknown event type %q", row["type"])
	}
	ts := row["time"]
	if t, err := time.Parse("2006-01-02", ts); err == nil {
		ts = t.UTC().Format(time.RFC3339)
	}
	kinds := map[string]cases.FieldKind{}
	for _, f := range et.Fields {
		kinds[f.Name] = f.Kind
	}
	data := map[string]any{}
	for k, v := range row {
		switch k {
		case "id", "type", "time", "subject":
			continue
		}
		val, err := csvValue(kinds[k], v)
		if err != nil {
			return cases.Event{}, fmt.Errorf("%s: %w", k, err)
		}
		data[k] = val
	}
	env := map[string]any{"specversion": "1.0", "id": row["id"], "source": d.Source, "type": row["type"], "time": ts, "data": data}
	if row["subject"] != "" {
		env["subject"] = row["subject"]
	}
	b, err := json.Marshal(env)
	if err != nil {
		return cases.Event{}, err
	}
	return cases.ParseEvent(b)
}

func csvValue(kind cases.FieldKind, v string) (any, error) {
	switch kind {
	case cases.FieldNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("want a number, got %q", v)
		}
		return f, nil
	case cases.FieldStrings:
		var out []any
		for _, s := range strings.Split(v, ";") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case cases.FieldAllocations:
		var out []any
		for _, part := range strings.Split(v, ";") {
			wh, q, ok := strings.Cut(strings.TrimSpace(part), ":")
			f, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("want WAREHOUSE:QUANTITY;…, got %q", v)
			}
			out = append(out, map[string]any{"warehouse": strings.TrimSpace(wh), "quantity": f})
		}
		return out, nil
	}
	return v, nil
}
