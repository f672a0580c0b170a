-- exops schema version 1: events, cases, correlation keys, the audit chain
-- and the work queues. Documents are the same JSON the bbolt store keeps,
-- stored as bytea so they come back byte for byte (jsonb would reorder keys
-- and refuse \u0000 in strings).

CREATE TABLE counters (
	name  text PRIMARY KEY,
	value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('case_number', 0);

CREATE TABLE events (
	source text NOT NULL,
	id     text NOT NULL,
	doc    bytea NOT NULL,
	PRIMARY KEY (source, id)
);

CREATE TABLE cases (
	id        text PRIMARY KEY,
	status    text NOT NULL,
	opened_s  bigint NOT NULL, -- OpenedAt as Unix seconds and nanoseconds:
	opened_n  int NOT NULL,    -- exact for any year, unlike one int64 of ns
	doc       bytea NOT NULL
);

CREATE TABLE correlation_keys (
	key text PRIMARY KEY,
	doc bytea NOT NULL
);

-- The one row every append locks: it serialises the chain across replicas.
CREATE TABLE audit_head (
	id   int PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit (
	seq    bigint PRIMARY KEY,
	time_s bigint NOT NULL,
	time_n int NOT NULL,
	doc     bytea NOT NULL
);
CREATE INDEX audit_time ON audit (time_s, time_n);

CREATE SEQUENCE job_ids;
CREATE TABLE jobs (
	queue  text NOT NULL,
	id     bigint NOT NULL,
	dedupe text NOT NULL DEFAULT '',
	doc    bytea NOT NULL,
	PRIMARY KEY (queue, id)
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (queue, dedupe) WHERE dedupe <> '';
