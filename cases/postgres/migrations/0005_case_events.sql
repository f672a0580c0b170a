-- exops schema version 5: a case's events are rows of their own beside its
-- document, one per event (a reference to the stored event, or a whole
-- event), in order; the document keeps how many and a hash chained over
-- them. Joining an event then inserts one short row and rewrites a
-- document whose size does not depend on how many events the case holds.
-- Documents that still hold their events (every case until its next
-- write) are read as they are.
CREATE TABLE case_events (
    case_id text NOT NULL,
    idx integer NOT NULL,
    doc bytea NOT NULL,
    PRIMARY KEY (case_id, idx)
);
