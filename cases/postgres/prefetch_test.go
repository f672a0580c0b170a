package postgres

import (
	"context"
	"testing"

	"github.com/exops/exops/cases"
)

// TestEnqueueLater: a job queued without its id is written with the
// transaction, and its dedupe key holds as it does for Enqueue.
func TestEnqueueLater(t *testing.T) {
	s, _, _ := openTest(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(ctx cases.Tx) error {
		return ctx.Enqueue(cases.QueueWork, &cases.Job{Kind: cases.JobProcess, Case: "EX-000001", Dedupe: "process:EX-000001"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx cases.Tx) error {
		lq := tx.(cases.LaterQueuer)
		for _, j := range []cases.Job{
			{Kind: cases.JobProcess, Case: "EX-000001", Dedupe: "process:EX-000001"}, // waiting already
			{Kind: cases.JobProcess, Case: "EX-000002", Dedupe: "process:EX-000002"},
			{Kind: cases.JobProcess, Case: "EX-000002", Dedupe: "process:EX-000002"}, // twice in this one
			{Kind: cases.JobReply, Case: "EX-000002", Text: "no key"},
		} {
			if err := lq.EnqueueLater(cases.QueueWork, j); err != nil {
				return err
			}
		}
		// And one with an id after them sees them.
		j := &cases.Job{Kind: cases.JobProcess, Case: "EX-000002", Dedupe: "process:EX-000002"}
		if err := tx.Enqueue(cases.QueueWork, j); err != nil || j.ID != 0 {
			t.Errorf("Enqueue after EnqueueLater of the same key: id %d, %v; want it dropped", j.ID, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.View(ctx, func(tx cases.ReadTx) error {
		return tx.Jobs(cases.QueueWork, func(j cases.Job) error { got = append(got, j.Case+"/"+string(j.Kind)); return nil })
	})
	want := []string{"EX-000001/process", "EX-000002/process", "EX-000002/reply"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("jobs = %v, want %v", got, want)
	}
}
