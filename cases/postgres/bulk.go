package postgres

// The intake writes, per event, an event row, its keys, an audit record
// and a job, and per case its document, its new event rows, its index
// terms and its timer. Sent one statement each, a batch of 100 events is
// hundreds of statements for the server to parse, plan and run (six per
// case alone). The tx gathers these rows instead and sends them as one
// multi-row statement per table with its next round trip (the audit
// records go at commit, see chain.go). Where one function writes a row
// twice, the last write wins, as it would in statement order.

type bulk struct {
	evSrc, evID []string
	evDoc       [][]byte
	evAt        map[[2]string]int

	key    []string
	keyDoc [][]byte
	keyAt  map[string]int

	jobQ, jobDedupe, jobCase []string
	jobDoc                   [][]byte
	jobNotBefore             []int64

	caseID, caseStatus []string
	caseOpenedS        []int64
	caseOpenedN        []int32
	caseDoc            [][]byte
	caseAt             map[string]int

	// Event rows of cases: dropFrom[c] deletes the case's rows from that
	// index on (0: all of them), before the rows gathered are written.
	dropFrom  map[string]int
	dropOrder []string
	rowCase   []string
	rowIdx    []int32
	rowDoc    [][]byte // nil: dropped by a later write of the same case
	rowAt     map[caseRow]int
	rowsOf    map[string][]int // rows gathered, by case

	// Index terms: a case's rows become its last terms. termsBase holds
	// the rows the table has for the case when this transaction knows
	// them (it read the case under its lock, or wrote its terms before):
	// then only the difference is written, as a join seldom changes more
	// than a term or two of a case's eighteen or so.
	termsOf    map[string]caseTerms
	termsBase  map[string]caseTerms
	termsOrder []string

	// Timers: set (at) or cleared, the last call per case.
	timerCase []string
	timerSet  []bool
	timerS    []int64
	timerN    []int32
	timerAt   map[string]int
}

type caseRow struct {
	id  string
	idx int32
}

func (t *tx) rowsOf() *bulk {
	if t.bulk == nil {
		t.bulk = &bulk{evAt: map[[2]string]int{}, keyAt: map[string]int{}}
	}
	return t.bulk
}

func (b *bulk) putEvent(source, id string, doc []byte) {
	k := [2]string{source, id}
	if i, ok := b.evAt[k]; ok {
		b.evDoc[i] = doc // one statement may not upsert a row twice
		return
	}
	b.evAt[k] = len(b.evSrc)
	b.evSrc, b.evID, b.evDoc = append(b.evSrc, source), append(b.evID, id), append(b.evDoc, doc)
}

func (b *bulk) putCase(id, status string, openedS int64, openedN int32, doc []byte) {
	if b.caseAt == nil {
		b.caseAt = map[string]int{}
	}
	if i, ok := b.caseAt[id]; ok {
		b.caseStatus[i], b.caseOpenedS[i], b.caseOpenedN[i], b.caseDoc[i] = status, openedS, openedN, doc
		return
	}
	b.caseAt[id] = len(b.caseID)
	b.caseID, b.caseStatus = append(b.caseID, id), append(b.caseStatus, status)
	b.caseOpenedS, b.caseOpenedN, b.caseDoc = append(b.caseOpenedS, openedS), append(b.caseOpenedN, openedN), append(b.caseDoc, doc)
}

// dropRows deletes the event rows of case id from index from on: the rows
// already in the table and the ones gathered here.
func (b *bulk) dropRows(id string, from int) {
	if b.dropFrom == nil {
		b.dropFrom = map[string]int{}
	}
	if old, ok := b.dropFrom[id]; !ok {
		b.dropFrom[id] = from
		b.dropOrder = append(b.dropOrder, id)
	} else if from < old {
		b.dropFrom[id] = from
	}
	if b.rowsOf == nil {
		return
	}
	kept := b.rowsOf[id][:0]
	for _, i := range b.rowsOf[id] {
		if int(b.rowIdx[i]) >= from {
			b.rowDoc[i] = nil
			delete(b.rowAt, caseRow{id, b.rowIdx[i]})
			continue
		}
		kept = append(kept, i)
	}
	b.rowsOf[id] = kept
}

func (b *bulk) putRow(id string, idx int32, doc []byte) {
	if b.rowAt == nil {
		b.rowAt, b.rowsOf = map[caseRow]int{}, map[string][]int{}
	}
	k := caseRow{id, idx}
	if i, ok := b.rowAt[k]; ok {
		b.rowDoc[i] = doc
		return
	}
	b.rowAt[k] = len(b.rowCase)
	b.rowsOf[id] = append(b.rowsOf[id], len(b.rowCase))
	b.rowCase, b.rowIdx, b.rowDoc = append(b.rowCase, id), append(b.rowIdx, idx), append(b.rowDoc, doc)
}

// putTerms gathers ct as the terms of case id; base, when known, is what
// the table holds for it before this transaction's writes.
func (b *bulk) putTerms(id string, ct caseTerms, base caseTerms, known bool) {
	if b.termsOf == nil {
		b.termsOf, b.termsBase = map[string]caseTerms{}, map[string]caseTerms{}
	}
	if _, ok := b.termsOf[id]; !ok {
		b.termsOrder = append(b.termsOrder, id)
		if known {
			b.termsBase[id] = base
		}
	}
	b.termsOf[id] = ct
}

// termRows lists terms as rows of case id.
type termRows struct{ kinds, values, ids []string }

func (r *termRows) add(id, kind, value string) {
	r.kinds, r.values, r.ids = append(r.kinds, kind), append(r.values, value), append(r.ids, id)
}

// termDiff adds to gone the terms of base that ct lacks, and to added those
// of ct that base lacks.
func termDiff(id string, base, ct caseTerms, gone, added *termRows) {
	type term struct{ kind, value string }
	had := make(map[term]bool, len(base.kinds))
	for i := range base.kinds {
		had[term{base.kinds[i], base.values[i]}] = true
	}
	for i := range ct.kinds {
		t := term{ct.kinds[i], ct.values[i]}
		if had[t] {
			delete(had, t)
			continue
		}
		added.add(id, t.kind, t.value)
	}
	for i := range base.kinds {
		if t := (term{base.kinds[i], base.values[i]}); had[t] {
			gone.add(id, t.kind, t.value)
		}
	}
}

func (b *bulk) putTimer(id string, set bool, s int64, n int32) {
	if b.timerAt == nil {
		b.timerAt = map[string]int{}
	}
	if i, ok := b.timerAt[id]; ok {
		b.timerSet[i], b.timerS[i], b.timerN[i] = set, s, n
		return
	}
	b.timerAt[id] = len(b.timerCase)
	b.timerCase, b.timerSet = append(b.timerCase, id), append(b.timerSet, set)
	b.timerS, b.timerN = append(b.timerS, s), append(b.timerN, n)
}

func (b *bulk) putKey(key string, doc []byte) {
	if i, ok := b.keyAt[key]; ok {
		b.keyDoc[i] = doc
		return
	}
	b.keyAt[key] = len(b.key)
	b.key, b.keyDoc = append(b.key, key), append(b.keyDoc, doc)
}

// materialize moves the gathered rows into the pending batch.
func (t *tx) materialize() {
	b := t.bulk
	if b == nil {
		return
	}
	t.bulk = nil
	if len(b.evSrc) > 0 {
		t.queue(`INSERT INTO events (source, id, doc) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])
			ON CONFLICT (source, id) DO UPDATE SET doc = excluded.doc`, b.evSrc, b.evID, b.evDoc)
	}
	if len(b.key) > 0 {
		t.queue(`INSERT INTO correlation_keys (key, doc) SELECT * FROM unnest($1::text[], $2::bytea[])
			ON CONFLICT (key) DO UPDATE SET doc = excluded.doc`, b.key, b.keyDoc)
	}
	if len(b.caseID) > 0 {
		t.queue(`INSERT INTO cases (id, status, opened_s, opened_n, doc)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bytea[])
			ON CONFLICT (id) DO UPDATE SET status = excluded.status, opened_s = excluded.opened_s, opened_n = excluded.opened_n, doc = excluded.doc`,
			b.caseID, b.caseStatus, b.caseOpenedS, b.caseOpenedN, b.caseDoc)
	}
	if len(b.dropOrder) > 0 {
		from := make([]int32, len(b.dropOrder))
		for i, id := range b.dropOrder {
			from[i] = int32(b.dropFrom[id])
		}
		t.queue(`DELETE FROM case_events ce USING unnest($1::text[], $2::int[]) AS d(c, i)
			WHERE ce.case_id = d.c AND ce.idx >= d.i`, b.dropOrder, from)
	}
	if len(b.rowAt) > 0 {
		ids, idx, docs := make([]string, 0, len(b.rowAt)), make([]int32, 0, len(b.rowAt)), make([][]byte, 0, len(b.rowAt))
		for i, d := range b.rowDoc {
			if d != nil {
				ids, idx, docs = append(ids, b.rowCase[i]), append(idx, b.rowIdx[i]), append(docs, d)
			}
		}
		t.queue(sqlPutCaseEvents, ids, idx, docs)
	}
	if len(b.termsOrder) > 0 {
		var rewrite []string
		var gone, added termRows
		for _, id := range b.termsOrder {
			ct := b.termsOf[id]
			if base, ok := b.termsBase[id]; ok {
				termDiff(id, base, ct, &gone, &added)
				continue
			}
			rewrite = append(rewrite, id)
			for i := range ct.kinds {
				added.add(id, ct.kinds[i], ct.values[i])
			}
		}
		if len(rewrite) > 0 {
			t.queue("DELETE FROM case_terms WHERE case_id = ANY($1::text[])", rewrite)
		}
		if len(gone.ids) > 0 {
			t.queue(`DELETE FROM case_terms t USING unnest($1::text[], $2::text[], $3::text[]) AS d(k, v, c)
				WHERE t.kind = d.k AND t.value = d.v AND t.case_id = d.c`, gone.kinds, gone.values, gone.ids)
		}
		if len(added.ids) > 0 {
			t.queue(sqlInsertTermRows, added.kinds, added.values, added.ids)
		}
	}
	if len(b.timerCase) > 0 {
		var clear, set []string
		var at []int64
		var atN []int32
		for i, id := range b.timerCase {
			if b.timerSet[i] {
				set, at, atN = append(set, id), append(at, b.timerS[i]), append(atN, b.timerN[i])
			} else {
				clear = append(clear, id)
			}
		}
		if len(clear) > 0 {
			t.queue("DELETE FROM timers WHERE case_id = ANY($1::text[])", clear)
		}
		if len(set) > 0 {
			t.queue(`INSERT INTO timers (case_id, at_s, at_n) SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[])
				ON CONFLICT (case_id) DO UPDATE SET at_s = excluded.at_s, at_n = excluded.at_n`, set, at, atN)
		}
	}
	if len(b.jobQ) > 0 {
		// nextval runs row by row in the array's order: the jobs keep it.
		t.queue(`INSERT INTO jobs (queue, id, dedupe, doc, case_id, not_before)
			SELECT q, nextval('job_ids'), d, doc, c, nb FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[]) AS u(q, d, doc, c, nb)
			ON CONFLICT (queue, dedupe) WHERE dedupe <> '' DO NOTHING`, b.jobQ, b.jobDedupe, b.jobDoc, b.jobCase, b.jobNotBefore)
	}
}
