package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors"
	"github.com/exops/exops/policies"
)

// exopsEnv runs the command line with these environment variables (and
// the test clock offset).
func exopsEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string {
		if k == "EXOPS_CLOCK_OFFSET" {
			return testOffset
		}
		return env[k]
	})
	return code, out.String(), errb.String()
}

// auditKey makes a key pair with `exops audit keygen` and returns the
// environment that signs with it and the public key file.
func auditKey(t *testing.T) (map[string]string, string) {
	t.Helper()
	key := filepath.Join(t.TempDir(), "audit.key")
	code, out, errOut := exops(t, "audit", "keygen", "--out", key)
	if code != 0 || !strings.Contains(out, key+".pub") {
		t.Fatalf("keygen: exit %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if code, _, errOut := exops(t, "audit", "keygen", "--out", key); code == 0 || !strings.Contains(errOut, "never overwritten") {
		t.Errorf("keygen over an existing key: exit %d, %s", code, errOut)
	}
	return map[string]string{envAuditKeyFile: key}, key + ".pub"
}

// rewriteLog writes the audit log of src into dst with record seq's detail
// changed and every later hash recomputed: what someone with write access
// to the database does to hide an edit. Plain verify cannot tell.
func rewriteLog(t *testing.T, src, dst Storage, seq uint64, detail string) {
	t.Helper()
	ctx := context.Background()
	var entries []cases.AuditEntry
	if err := src.ForEachRecord(ctx, 1, func(r audit.Record) error {
		e := r.Entry()
		if r.Seq == seq {
			e.Detail = detail
		}
		entries = append(entries, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := dst.Update(ctx, func(tx cases.Tx) error {
		for _, e := range entries {
			if _, err := tx.Audit(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyCatchesFullRewrite: a rewrite with every hash recomputed
// passes plain verify, and is found with the public key, from the
// checkpoints in the chain and from those kept outside; forged checkpoints
// are refused. On bbolt and on PostgreSQL, whose audit logs are read by
// different code.
func TestAuditVerifyCatchesFullRewrite(t *testing.T) {
	t.Run("bbolt", func(t *testing.T) {
		dir := t.TempDir()
		testFullRewrite(t, filepath.Join(dir, "a.db"), filepath.Join(dir, "rewritten.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testFullRewrite(t, postgresURL(t), postgresURL(t))
	})
}

func testFullRewrite(t *testing.T, storeURL, rewrittenURL string) {
	env, pub := auditKey(t)
	env[envCheckpointEvery] = "4"
	// A log of 30 records written through the engine's store, sealed every
	// 4 records.
	s, err := openStore(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := auditCheckpointer(func(k string) string { return env[k] }, testClock, slog.Default())
	if err != nil || cp == nil {
		t.Fatalf("checkpointer: %v", err)
	}
	w := cp.Wrap(s)
	for i := 0; i < 24; i++ {
		if err := w.Update(context.Background(), func(tx cases.Tx) error {
			_, err := tx.Audit(cases.AuditEntry{Time: testClock(), Case: "EX-000001", Kind: cases.AuditEventJoined, Actor: "/erp", Detail: "event"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// One more checkpoint, shipped to a file outside the database.
	outside := filepath.Join(t.TempDir(), "checkpoints.ndjson")
	code, line, errOut := exopsEnv(t, env, "audit", "checkpoint", "--store", storeURL, "--out", outside)
	if code != 0 {
		t.Fatalf("audit checkpoint: exit %d %s", code, errOut)
	}
	signed, err := audit.ParseCheckpoint(strings.TrimSpace(line))
	if err != nil || signed.Seq != 31 {
		t.Fatalf("audit checkpoint printed %q (%v); want the head, seq 31", line, err)
	}
	code, out, _ := exops(t, "audit", "verify", "--store", storeURL, "--pubkey", pub, "--checkpoint", outside)
	if code != 0 || !strings.Contains(out, "intact and signed: 32 records") || !strings.Contains(out, "signs record 31") {
		t.Fatalf("verify of the untouched log: exit %d\n%s", code, out)
	}
	// An export signs the head too, and keeps the checkpoint beside it.
	exp := filepath.Join(t.TempDir(), "audit.ndjson")
	if code, _, errOut := exopsEnv(t, env, "audit", "export", "--store", storeURL, "--format", "ndjson", "--out", exp); code != 0 ||
		!strings.Contains(errOut, "signed checkpoint of record 32 in "+exp+".checkpoint") {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(exp); bytes.Count(b, []byte("\n")) != 33 || !bytes.Contains(b, []byte(audit.KindCheckpoint)) {
		t.Errorf("the export does not hold the 33 records with their checkpoints:\n%s", b)
	}
	code, out, _ = exops(t, "audit", "verify", "--store", storeURL, "--pubkey", pub, "--checkpoint", outside, "--checkpoint", exp+".checkpoint")
	if code != 0 || !strings.Contains(out, "signs record 32") {
		t.Fatalf("verify with the export's checkpoint: exit %d\n%s", code, out)
	}

	src, err := openStore(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := openStore(rewrittenURL)
	if err != nil {
		t.Fatal(err)
	}
	rewriteLog(t, src, dst, 14, "nothing to see")
	src.Close()
	dst.Close()

	code, out, _ = exops(t, "audit", "verify", "--store", rewrittenURL)
	if code != 0 {
		t.Fatalf("plain verify should not see a full rewrite (that is the point of checkpoints): exit %d %s", code, out)
	}
	// Checkpoints sign seqs 4, 8, 12, … (each checkpoint record is one of
	// the 4); record 14 changed, so the one signing 12 is the last good.
	for _, args := range [][]string{
		{"--pubkey", pub},
		{"--pubkey", pub, "--checkpoint", outside},
	} {
		code, out, _ = exops(t, append([]string{"audit", "verify", "--store", rewrittenURL}, args...)...)
		if code != 1 || !strings.Contains(out, "REWRITTEN") || !strings.Contains(out, "last good checkpoint: record 12") ||
			!strings.Contains(out, "where the rewrite may start: 13") {
			t.Errorf("verify %v of the rewritten log: exit %d\n%s", args, code, out)
		}
	}

	// A checkpoint signed with another key, claiming this one, is refused.
	otherEnv, _ := auditKey(t)
	other, err := auditSigner(func(k string) string { return otherEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := auditSigner(func(k string) string { return env[k] })
	forged := other.Sign(signed.Seq, signed.Hash, testClock())
	forged.Key = mine.KeyID()
	forgedFile := filepath.Join(t.TempDir(), "forged.ndjson")
	os.WriteFile(forgedFile, []byte(forged.Line()+"\n"), 0o644)
	code, out, _ = exops(t, "audit", "verify", "--store", storeURL, "--pubkey", pub, "--checkpoint", forgedFile)
	if code != 1 || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, "forged") {
		t.Errorf("verify with a forged checkpoint: exit %d\n%s", code, out)
	}
	// A checkpoint by a key not given: named as such.
	_, otherPub := auditKey(t)
	code, out, _ = exops(t, "audit", "verify", "--store", storeURL, "--pubkey", otherPub)
	if code != 1 || !strings.Contains(out, "not among the public keys") {
		t.Errorf("verify with the wrong public key: exit %d\n%s", code, out)
	}
}

func TestAuditVerifySignedUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	s, err := openStore(db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	env, pub := auditKey(t)
	notKey := filepath.Join(t.TempDir(), "x")
	os.WriteFile(notKey, []byte("hello\n"), 0o600)
	tests := []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{nil, []string{"audit", "verify", "--db", db, "--checkpoint", "x"}, 2, "--checkpoint needs --pubkey"},
		{nil, []string{"audit", "verify", "--db", db, "--pubkey", notKey}, 1, "want PEM or the base64"},
		{nil, []string{"audit", "verify", "--db", db, "--pubkey", pub, "--checkpoint", notKey}, 1, "holds no checkpoint"},
		{nil, []string{"audit", "verify", "--db", db, "--pubkey", env[envAuditKeyFile]}, 1, "is this the private key?"},
		{nil, []string{"audit", "checkpoint", "--db", db}, 1, "no audit key"},
		{env, []string{"audit", "checkpoint", "--db", db}, 1, "empty"},
		{map[string]string{envAuditKey: "bm90IGEga2V5"}, []string{"audit", "checkpoint", "--db", db}, 1, "EXOPS_AUDIT_KEY: audit key: want PEM"},
		{map[string]string{envAuditKey: "x", envAuditKeyFile: "y"}, []string{"audit", "checkpoint", "--db", db}, 1, "not both"},
		{map[string]string{envAuditKeyFile: env[envAuditKeyFile], envCheckpointEvery: "1"}, []string{"audit", "checkpoint", "--db", db}, 1, "at least 2"},
		{nil, []string{"audit", "keygen"}, 2, "needs --out"},
		{nil, []string{"audit", "frob"}, 2, `unknown audit command "frob"`},
	}
	for _, tt := range tests {
		code, out, errOut := exopsEnv(t, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tt.args, code, tt.code, tt.want, out, errOut)
		}
		if k := tt.env[envAuditKey]; len(k) > 4 && strings.Contains(out+errOut, k) {
			t.Errorf("%v: the output quotes the key", tt.args)
		}
	}
	// On an empty log, verify --pubkey has nothing to prove and says so.
	if code, out, _ := exops(t, "audit", "verify", "--db", db, "--pubkey", pub); code != 0 || !strings.Contains(out, "0 records checked") {
		t.Errorf("verify --pubkey of an empty log: exit %d %s", code, out)
	}
}

// TestServeSignsAndPostsCheckpoints runs the whole program with a key and a
// checkpoint channel: events through HTTP, checkpoints in the chain every N
// records, each posted to the channel through local Slack; the posted
// messages, copied into a file, verify the log. A Slack export also seals.
func TestServeSignsAndPostsCheckpoints(t *testing.T) {
	env, pub := auditKey(t)
	env[envCheckpointEvery] = "10"
	env[envCheckpointChan] = "#audit-checkpoints"
	shipped := filepath.Join(t.TempDir(), "shipped.ndjson")
	env[envCheckpointFile] = shipped
	ls := localslack.New(testClock)
	t.Cleanup(ls.Close)
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "x.db")
	const source, secret = "/erp/sim", "cp-secret"
	m, err := NewMain(Config{DBPath: db, Policy: pol, Addr: "127.0.0.1:0", SlackBotToken: "xoxb-cp", SlackSigningSecret: "s",
		SlackAPIURL: ls.APIURL(), SourceSecrets: map[string]string{source: secret}, Now: testClock,
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-m.Ready()
	for _, ev := range connectors.GenerateEvents(30, 3, source, testClock().Truncate(time.Second), "cp-") {
		body, _ := json.Marshal(ev)
		req, _ := http.NewRequest(http.MethodPost, "http://"+m.Addr()+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set(connectors.HeaderSource, source)
		req.Header.Set(connectors.HeaderSignature, connectors.Sign(secret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	m.bot.Wait()
	if err := m.engine.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	head, _, err := m.store.AuditHead(wctx)
	if err != nil {
		t.Fatal(err)
	}
	// A compliance member exports the audit trail from Slack: the head is
	// signed first. Wait for the post of that checkpoint.
	if err := ls.Command(wctx, "http://"+m.Addr()+"/slack/commands", "s", "U0AUDITOR", "C0CREDIT", "export audit"); err != nil {
		t.Fatal(err)
	}
	var posts []string
	for {
		posts = posts[:0]
		for _, p := range ls.Transcript() {
			if p.Method == "chat.postMessage" && p.Channel == "#audit-checkpoints" {
				posts = append(posts, p.Text)
			}
		}
		if len(posts) > 0 && strings.Contains(posts[len(posts)-1], `"seq":`+uintText(head)+`,`) {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("the export's checkpoint (seq %d) was not posted; posts: %q", head, posts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for len(ls.Files()) == 0 && wctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // the export's upload follows its checkpoint
	}
	if len(ls.Files()) != 1 {
		t.Errorf("%d files uploaded, want the one export", len(ls.Files()))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Close()
	if head < 30 {
		t.Fatalf("only %d audit records; the test needs several checkpoints", head)
	}
	file := filepath.Join(t.TempDir(), "from-slack.txt")
	os.WriteFile(file, []byte(strings.Join(posts, "\n")+"\n"), 0o644)
	cps, err := audit.ParseCheckpoints(strings.NewReader(strings.Join(posts, "\n")), "slack")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		if c.Seq%10 != 0 && c.Seq != head {
			t.Errorf("a checkpoint of seq %d: neither every 10 records nor the export's", c.Seq)
		}
	}
	code, out, _ := exops(t, "audit", "verify", "--db", db, "--pubkey", pub, "--checkpoint", file)
	if code != 0 || !strings.Contains(out, "intact and signed") || !strings.Contains(out, "signs record "+uintText(head)) {
		t.Fatalf("verify with the posted checkpoints: exit %d\n%s", code, out)
	}
	// The file holds every checkpoint the chain holds, in order.
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	inFile, err := audit.ParseCheckpoints(bytes.NewReader(b), shipped)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = exops(t, "audit", "verify", "--db", db, "--pubkey", pub, "--checkpoint", shipped)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d checkpoints match", 2*len(inFile))) {
		t.Errorf("verify with the checkpoint file (%d lines): exit %d\n%s", len(inFile), code, out)
	}
	// Nothing secret went to Slack or the log.
	key, _ := os.ReadFile(env[envAuditKeyFile])
	lines := strings.Split(string(key), "\n")
	for _, p := range ls.Transcript() {
		if strings.Contains(p.Text, lines[1]) {
			t.Error("the private key reached Slack")
		}
	}
	t.Logf("%d audit records, %d checkpoints posted", head, len(cps))
}

func uintText(n uint64) string { return strconv.FormatUint(n, 10) }

// TestServeRefusesChannelWithoutKey: a checkpoint channel without a key
// would look like protection and be none.
func TestServeRefusesChannelWithoutKey(t *testing.T) {
	pol, err := policies.Parse(policies.Example)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envCheckpointChan: "#audit"}
	_, err = NewMain(Config{DBPath: filepath.Join(t.TempDir(), "x.db"), Policy: pol, SlackBotToken: "xoxb-x", Now: testClock,
		Getenv: func(k string) string { return env[k] }})
	if err == nil || !strings.Contains(err.Error(), "no audit key") {
		t.Fatalf("NewMain with a channel and no key: %v", err)
	}
}
