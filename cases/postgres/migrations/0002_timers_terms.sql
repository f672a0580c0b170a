-- exops schema version 2: case timers (the next escalation step) and the
-- question-answering index. The index rows of existing cases are written by
-- the Go step of this migration (the terms are computed from the case).

CREATE TABLE timers (
	case_id text PRIMARY KEY,
	at_s    bigint NOT NULL,
	at_n    int NOT NULL
);
CREATE INDEX timers_due ON timers (at_s, at_n, case_id);

CREATE TABLE case_terms (
	kind    text NOT NULL,
	value   text NOT NULL,
	case_id text NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
	PRIMARY KEY (kind, value, case_id)
);
CREATE INDEX case_terms_case ON case_terms (case_id);
CREATE INDEX cases_opened ON cases (opened_s DESC, opened_n DESC, id DESC);

-- What "exops store copy" has done, so that an interrupted copy resumes.
CREATE TABLE store_copy (
	id          int PRIMARY KEY CHECK (id = 1),
	source      text NOT NULL,
	source_head text NOT NULL,
	done        boolean NOT NULL DEFAULT false
);
