package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/bolt"
)

// TestMetricsQueueDepthAndAgeByKind: /metrics tells how many jobs of each
// kind wait in each queue and how old the oldest of each is.
func TestMetricsQueueDepthAndAgeByKind(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "m.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs := []struct {
		q   cases.Queue
		j   cases.Job
		age time.Duration
	}{
		{cases.QueueOutbox, cases.Job{Kind: cases.JobCard, Case: "EX-000001"}, 90 * time.Second},
		{cases.QueueOutbox, cases.Job{Kind: cases.JobReply, Case: "EX-000001", Text: "a"}, 30 * time.Second},
		{cases.QueueOutbox, cases.Job{Kind: cases.JobReply, Case: "EX-000002", Text: "b"}, 10 * time.Second},
		{cases.QueueWork, cases.Job{Kind: cases.JobProcess, Case: "EX-000002"}, 5 * time.Second},
	}
	err = st.Update(context.Background(), func(tx cases.Tx) error {
		for _, x := range jobs {
			j := x.j
			j.Created = tNow.Add(-x.age)
			if err := tx.Enqueue(x.q, &j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(st, func() time.Time { return tNow }, "r1")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`exops_queue_jobs{queue="outbox",replica="r1"} 3`,
		`exops_queue_oldest_job_seconds{queue="outbox",replica="r1"} 90`,
		`exops_queue_jobs_by_kind{kind="card",queue="outbox",replica="r1"} 1`,
		`exops_queue_jobs_by_kind{kind="reply",queue="outbox",replica="r1"} 2`,
		`exops_queue_jobs_by_kind{kind="post",queue="outbox",replica="r1"} 0`,
		`exops_queue_jobs_by_kind{kind="process",queue="work",replica="r1"} 1`,
		`exops_queue_jobs_by_kind{kind="execute",queue="actions",replica="r1"} 0`,
		`exops_queue_oldest_job_by_kind_seconds{kind="card",queue="outbox",replica="r1"} 90`,
		`exops_queue_oldest_job_by_kind_seconds{kind="reply",queue="outbox",replica="r1"} 30`,
		`exops_queue_oldest_job_by_kind_seconds{kind="post",queue="outbox",replica="r1"} 0`,
		`exops_queue_oldest_job_by_kind_seconds{kind="process",queue="work",replica="r1"} 5`,
	} {
		if !bytes.Contains(body, []byte(want+"\n")) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
