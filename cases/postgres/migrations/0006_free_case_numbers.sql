-- exops schema version 6: case numbers a replica can take without holding
-- the counter until it commits. The counter is only advanced, a block at a
-- time in a statement of its own, and the block's numbers wait here until
-- a transaction takes one (locking its row, SKIP LOCKED for the others)
-- and deletes it when it commits. A rolled-back transaction leaves its
-- numbers here, so numbers still run 1, 2, 3, … with no gap.

CREATE TABLE case_numbers_free (
	n bigint PRIMARY KEY
);
