package postgres

// The intake writes, per event, an event row, its keys, an audit record
// and a job. Sent one statement each, a batch of 100 events is hundreds of
// statements for the server to parse and run. The tx gathers these rows
// instead and sends them as one multi-row statement per table with its
// next round trip (the audit records go at commit, see chain.go).

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
	if len(b.jobQ) > 0 {
		// nextval runs row by row in the array's order: the jobs keep it.
		t.queue(`INSERT INTO jobs (queue, id, dedupe, doc, case_id, not_before)
			SELECT q, nextval('job_ids'), d, doc, c, nb FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[]) AS u(q, d, doc, c, nb)
			ON CONFLICT (queue, dedupe) WHERE dedupe <> '' DO NOTHING`, b.jobQ, b.jobDedupe, b.jobDoc, b.jobCase, b.jobNotBefore)
	}
}
