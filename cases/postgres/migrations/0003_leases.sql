-- exops schema version 3: what several replicas need to share work.
-- Jobs get a lease (the replica working on one, and until when) and the
-- columns a claim filters on; a leader lease per schedule; the Slack replay
-- memory. Times are Unix nanoseconds from exops's injected clock, not the
-- database's, so tests can move them.

ALTER TABLE jobs
	ADD COLUMN case_id     text NOT NULL DEFAULT '',
	ADD COLUMN not_before  bigint NOT NULL DEFAULT 0,
	ADD COLUMN lease_owner text,
	ADD COLUMN lease_until bigint;
-- (case_id and not_before of waiting jobs are filled in by this
-- migration's Go step, from the job documents.)
CREATE INDEX jobs_case ON jobs (queue, case_id, id);

CREATE TABLE leaders (
	name  text PRIMARY KEY,
	owner text NOT NULL,
	until bigint NOT NULL
);

CREATE TABLE replay (
	key     text PRIMARY KEY,
	expires bigint NOT NULL
);
CREATE INDEX replay_expires ON replay (expires);
