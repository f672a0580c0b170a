package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// Case numbers run 1, 2, 3, … with no gap, and a rolled-back transaction
// gives its number back. With a counter row that a transaction advanced
// and held until its commit, every transaction that opened a case waited
// for the one before: across replicas that was most of them (an intake
// batch nearly always opens one). Now the counter is advanced a block at a
// time by a statement of its own (committed at once, so its row lock is
// held for that statement alone), and the block's numbers go to
// case_numbers_free. A transaction locks the smallest free numbers that no
// other has locked (FOR UPDATE SKIP LOCKED) and deletes the ones it used
// when it commits; what it locked and did not use, or used and rolled
// back, is free again for the next one. A crash between the counter's
// statement and the free rows cannot happen (they are one statement);
// numbers are never lost, only taken out of order across replicas.

// caseNumbers is what one PostgreSQL transaction (a group of Updates) has
// locked of the free list.
type caseNumbers struct {
	hand []int64 // locked by the transaction, not used, ascending
	// hint is how many numbers the next take asks for: Prefetch sets it to
	// the number of new events of a batch, each of which may open a case.
	hint  int
	store *Store
}

// refillBlock is the least the counter advances by at once.
const refillBlock = 256

// maxTake bounds what one take locks.
const maxTake = 256

func (t *tx) NextCaseNumber() (uint64, error) {
	if t.nums == nil {
		return 0, invalid("case number: not in an Update")
	}
	if len(t.nums.hand) == 0 {
		if err := t.takeNumbers(); err != nil {
			return 0, err
		}
	}
	n := t.nums.hand[0]
	t.nums.hand = t.nums.hand[1:]
	t.casesUsed = append(t.casesUsed, n)
	t.knownNew(cases.FormatCaseID(uint64(n)))
	return uint64(n), nil
}

// knownNew records that case id has no event rows and no index rows: its
// number was free, and no case is written under a number no transaction
// took. Writing the new case then deletes nothing (two statements per
// group less), as if this transaction had read it under its lock.
func (t *tx) knownNew(id string) {
	if t.heads == nil {
		t.heads = map[string]rowsHead{}
	}
	if t.terms == nil {
		t.terms = map[string]caseTerms{}
	}
	if _, ok := t.heads[id]; !ok {
		t.heads[id] = rowsHead{}
	}
	if _, ok := t.terms[id]; !ok {
		t.terms[id] = caseTerms{}
	}
}

// takeNumbers locks free numbers, as many as the hint asks for (at least
// one), refilling the list from the counter when there are not enough
// that no other transaction holds.
func (t *tx) takeNumbers() error {
	want := min(max(t.nums.hint, 1), maxTake)
	t.nums.hint = 0
	for attempt := 0; attempt < 16; attempt++ {
		if err := t.flush("next case number"); err != nil {
			return err
		}
		// SKIP LOCKED skips the rows of other transactions only: the
		// numbers this function took are still there until finish.
		rows, err := t.ptx.Query(t.ctx, "SELECT n FROM case_numbers_free WHERE n <> ALL($2::bigint[]) ORDER BY n LIMIT $1 FOR UPDATE SKIP LOCKED",
			want-len(t.nums.hand), append(append([]int64{}, t.casesUsed...), t.nums.hand...)) // never NULL: n <> ALL(NULL) matches nothing
		if err != nil {
			return t.fail("next case number", err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return t.fail("next case number", err)
		}
		t.nums.hand = append(t.nums.hand, got...)
		if len(t.nums.hand) >= want || (len(t.nums.hand) > 0 && attempt > 0) {
			slices.Sort(t.nums.hand)
			return nil
		}
		if err := t.nums.store.refillNumbers(t.ctx, max(refillBlock, want)); err != nil {
			return err
		}
	}
	return t.fail("next case number", errors.New("no free case number after 16 refills"))
}

// refillNumbers advances the counter by n and frees the numbers, in one
// statement outside any transaction of the caller's.
func (s *Store) refillNumbers(ctx context.Context, n int) error {
	_, err := s.numbers.Exec(ctx, `WITH c AS (UPDATE counters SET value = value + $1 WHERE name = 'case_number' RETURNING value)
		INSERT INTO case_numbers_free (n) SELECT generate_series(c.value - $1 + 1, c.value) FROM c`, n)
	if err != nil {
		return dbError(fmt.Sprintf("store %s: refill case numbers", s.name), err)
	}
	return nil
}

// mark is what restore puts back when a function of a group fails: the
// numbers the transaction held before it (still locked; the ones locked
// within the function's savepoint were released with it).
func (c *caseNumbers) mark() []int64 { return slices.Clone(c.hand) }

func (c *caseNumbers) restore(m []int64) { c.hand = m }
