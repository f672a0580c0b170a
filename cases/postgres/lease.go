package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exops/exops/cases"
)

// What several replicas need beyond cases.Store, proposed for the Store
// interface: jobs leased to one replica at a time, one leader per schedule,
// and a memory of the Slack deliveries already handled. Every time comes
// from the caller's clock, so takeovers are tested without sleeping.

// maxLeaseName bounds owner, leader and replay key names.
const maxLeaseName = 512

func checkName(what, s string) error {
	if s == "" {
		return invalid("empty %s", what)
	}
	if len(s) > maxLeaseName {
		return invalid("%s is %d bytes, over %d", what, len(s), maxLeaseName)
	}
	return sqlText(what, s)
}

// ClaimJob leases the next job of q to owner until now+lease and returns it;
// found is false when no job is ready. A job is ready when its NotBefore has
// come, no lease on it is running, and no older job of the same case waits
// in q, so each case's jobs are done in order whichever replica takes them.
// Replicas that claim at once skip each other's rows (FOR UPDATE SKIP
// LOCKED) instead of waiting. The lease ends with the job (DeleteJob), is
// dropped by UpdateJob (another attempt later), or expires, after which
// another replica may claim the job: a replica that dies holds its jobs for
// at most lease.
func (s *Store) ClaimJob(ctx context.Context, q cases.Queue, owner string, lease time.Duration, now time.Time) (job cases.Job, found bool, err error) {
	if err := checkQueue(q); err != nil {
		return cases.Job{}, false, err
	}
	if err := checkName("lease owner", owner); err != nil {
		return cases.Job{}, false, err
	}
	if lease <= 0 {
		return cases.Job{}, false, invalid("lease %s is not positive", lease)
	}
	n := nanos(now)
	var id int64
	var doc []byte
	err = s.pool.QueryRow(ctx, `UPDATE jobs SET lease_owner = $2, lease_until = $4
		WHERE queue = $1 AND id = (
			SELECT j.id FROM jobs j
			WHERE j.queue = $1 AND j.not_before <= $3 AND (j.lease_until IS NULL OR j.lease_until <= $3)
			  AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.queue = j.queue AND o.case_id = j.case_id AND j.case_id <> '' AND o.id < j.id)
			ORDER BY j.id LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, doc`, string(q), owner, n, n+int64(lease)).Scan(&id, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return cases.Job{}, false, nil
	}
	if err != nil {
		return cases.Job{}, false, dbError(fmt.Sprintf("store %s: claim a job of %s", s.name, q), err)
	}
	job, err = decodeJob(q, id, doc)
	return job, err == nil, err
}

// ReleaseJob ends owner's lease on a job early (a replica shutting down);
// nothing happens when owner does not hold it.
func (s *Store) ReleaseJob(ctx context.Context, q cases.Queue, id uint64, owner string) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE queue = $1 AND id = $2 AND lease_owner = $3",
		string(q), int64(id), owner); err != nil {
		return dbError("store "+s.name+": release job", err)
	}
	return nil
}

// ReleaseLeases ends every job lease owner holds (cases.LeaseReleaser): a
// replica that has stopped working gives back what a cut-off claim left.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	if _, err := s.pool.Exec(ctx, "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", owner); err != nil {
		return dbError("store "+s.name+": release leases", err)
	}
	return nil
}

// TryLead takes or renews the leader lease called name for owner until
// now+ttl. It returns true while owner leads: when nobody held the lease,
// when owner held it, or when the holder let it run out. A leader renews
// well within ttl; if it dies, another replica leads at most ttl after the
// last renewal.
func (s *Store) TryLead(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error) {
	if err := checkName("leader lease name", name); err != nil {
		return false, err
	}
	if err := checkName("lease owner", owner); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, invalid("lease ttl %s is not positive", ttl)
	}
	n := nanos(now)
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leaders (name, owner, until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leaders.owner = excluded.owner OR leaders.until <= $4
		RETURNING owner`, name, owner, n+int64(ttl), n).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbError("store "+s.name+": leader lease "+name, err)
	}
	return got == owner, nil
}

// Resign gives the leader lease up at once, if owner holds it.
func (s *Store) Resign(ctx context.Context, name, owner string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM leaders WHERE name = $1 AND owner = $2", name, owner); err != nil {
		return dbError("store "+s.name+": resign "+name, err)
	}
	return nil
}

// SeenOnce remembers key until expires and reports whether this is its
// first sighting (or the first since an earlier memory of it expired by
// now). Slack retries an event with the same event_id and a click may reach
// any replica: the one that sees it first handles it.
func (s *Store) SeenOnce(ctx context.Context, key string, now, expires time.Time) (first bool, err error) {
	if err := checkName("replay key", key); err != nil {
		return false, err
	}
	if !expires.After(now) {
		return false, invalid("replay memory of %q expires at %s, not after now (%s)", key, expires, now)
	}
	var got string
	err = s.pool.QueryRow(ctx, `INSERT INTO replay (key, expires) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE replay.expires <= $3
		RETURNING key`, key, nanos(expires), nanos(now)).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbError("store "+s.name+": replay memory", err)
	}
	return true, nil
}

// ForgetExpired drops the replay memories expired by now and returns how
// many; the leader calls it from time to time so the table stays small.
func (s *Store) ForgetExpired(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM replay WHERE expires <= $1", nanos(now))
	if err != nil {
		return 0, dbError("store "+s.name+": forget replay memory", err)
	}
	return int(tag.RowsAffected()), nil
}
