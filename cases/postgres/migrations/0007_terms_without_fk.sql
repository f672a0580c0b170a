-- exops schema version 7: the question-answering index drops its foreign
-- key to cases. Every index row inserted ran a trigger that locked its
-- case's row (FOR KEY SHARE) to check it exists: about 11 rows per event,
-- the largest single cost PostgreSQL had per event. The rows are written in
-- the transaction that writes their case, under the case's own lock, and no
-- case is ever deleted, so the check guarded nothing the store does not
-- already guarantee.
ALTER TABLE case_terms DROP CONSTRAINT IF EXISTS case_terms_case_id_fkey;
