package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/exops/exops/cases"
)

// testKey is a fixed key, so failures are reproducible; seeds differ by n.
func testKey(n byte) *Signer {
	return NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize)))
}

// signedChain is a chain of n records with an in-chain checkpoint record
// after every every-th record (as the Checkpointer writes it), signed by s.
func signedChain(n, every int, s *Signer) []Record {
	var recs []Record
	prev := GenesisHash
	add := func(e cases.AuditEntry) {
		r := NewRecord(uint64(len(recs)+1), prev, e)
		recs = append(recs, r)
		prev = r.Hash
	}
	for i := 0; len(recs) < n; i++ {
		add(cases.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Case: "EX-000001", Kind: cases.AuditEventJoined,
			Actor: "/erp", Detail: "event " + string(rune('a'+i%26))})
		if every > 0 && len(recs)%every == 0 && len(recs) < n {
			last := recs[len(recs)-1]
			add(cases.AuditEntry{Time: t0, Kind: KindCheckpoint, Actor: cases.ActorExops, Detail: s.Sign(last.Seq, last.Hash, t0).Line()})
		}
	}
	return recs
}

// rewrite changes record seq's detail and recomputes that record's hash and
// every hash after it, as someone with write access to the database and
// this package's source would: the result is a consistent chain.
func rewrite(recs []Record, seq uint64, detail string) []Record {
	out := make([]Record, len(recs))
	prev := GenesisHash
	for i, r := range recs {
		e := r.Entry()
		if r.Seq == seq {
			e.Detail = detail
		}
		out[i] = NewRecord(r.Seq, prev, e)
		prev = out[i].Hash
	}
	return out
}

func head(recs []Record) Record { return recs[len(recs)-1] }

func TestCheckpointSignature(t *testing.T) {
	s := testKey(1)
	c := s.Sign(42, strings.Repeat("ab", 32), t0)
	keys := []ed25519.PublicKey{s.Public()}
	if err := c.Check(keys); err != nil {
		t.Fatalf("a fresh checkpoint does not verify: %v", err)
	}
	back, err := ParseCheckpoint(c.Line())
	if err != nil || back.Check(keys) != nil || back.Seq != 42 {
		t.Fatalf("the line does not read back into a good checkpoint: %+v, %v", back, err)
	}
	// Every signed field is covered.
	for name, mutate := range map[string]func(*Checkpoint){
		"seq":  func(c *Checkpoint) { c.Seq++ },
		"hash": func(c *Checkpoint) { c.Hash = strings.Repeat("cd", 32) },
		"time": func(c *Checkpoint) { c.Time = c.Time.Add(time.Nanosecond) },
		"sig":  func(c *Checkpoint) { b := []byte(c.Sig); b[3] ^= 1; c.Sig = string(b) },
	} {
		m := c
		mutate(&m)
		if err := m.Check(keys); err == nil {
			t.Errorf("changing %s leaves the signature valid", name)
		}
	}
	// Another key's signature with the right key id claimed is refused.
	forged := testKey(2).Sign(42, c.Hash, t0)
	forged.Key = c.Key
	if err := forged.Check(keys); err == nil || !strings.Contains(err.Error(), "forged") {
		t.Errorf("forged signature: %v", err)
	}
	// A key not given is named, with the hint about rotation.
	if err := c.Check([]ed25519.PublicKey{testKey(3).Public()}); err == nil || !strings.Contains(err.Error(), "rotation") {
		t.Errorf("unknown key: %v", err)
	}
	// Rotation: several keys, each checkpoint checked with its own.
	both := []ed25519.PublicKey{testKey(3).Public(), s.Public()}
	if err := c.Check(both); err != nil {
		t.Errorf("with the old and the new key: %v", err)
	}
}

func TestKeyFormats(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatalf("PEM private key: %v", err)
	}
	pubs, err := ParsePublicKeys(pubPEM)
	if err != nil || len(pubs) != 1 || !pubs[0].Equal(priv.Public()) {
		t.Fatalf("PEM public key: %v, %v", pubs, err)
	}
	seed := base64.StdEncoding.EncodeToString(priv.Seed())
	fromSeed, err := ParsePrivateKey([]byte(seed + "\n"))
	if err != nil || !fromSeed.Equal(priv) {
		t.Fatalf("base64 seed: %v", err)
	}
	raw := base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	other := base64.StdEncoding.EncodeToString(testKey(9).Public())
	if keys, err := ParsePublicKeys([]byte("# old\n" + other + "\n" + raw + "\n")); err != nil || len(keys) != 2 {
		t.Errorf("base64 public key lines: %d keys, %v", len(keys), err)
	}
	if keys, err := ParsePublicKeys(append(append([]byte{}, pubPEM...), pubPEM...)); err != nil || len(keys) != 2 {
		t.Errorf("two PEM blocks: %d keys, %v", len(keys), err)
	}

	bad := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"short seed", base64.StdEncoding.EncodeToString([]byte("too short"))},
		{"public key as private", string(pubPEM)},
		{"not base64", "s3cr3t-value-that-must-not-leak!"},
	}
	for _, tt := range bad {
		_, err := ParsePrivateKey([]byte(tt.in))
		if err == nil {
			t.Errorf("%s: accepted as a private key", tt.name)
		} else if tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("%s: the error quotes the secret: %v", tt.name, err)
		}
	}
	if _, err := ParsePublicKeys(privPEM); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("private key given as public: %v", err)
	}
	if _, err := ParsePublicKeys([]byte("\n# nothing\n")); err == nil {
		t.Error("a file without keys was accepted")
	}
}

func TestParseCheckpoints(t *testing.T) {
	s := testKey(1)
	a, b := s.Sign(10, strings.Repeat("0a", 32), t0), s.Sign(20, strings.Repeat("0b", 32), t0.Add(time.Hour))
	// A file pasted from the Slack channel, with the people's sentence and
	// the backquoted line of each message.
	file := "# from #audit-checkpoints\n" + CheckpointMessage(a) + "\n\n" + CheckpointMessage(b) + "\n"
	got, err := ParseCheckpoints(strings.NewReader(file), "slack.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Checkpoint != a || got[1].Checkpoint != b || got[1].From != "slack.txt line 6" {
		t.Fatalf("got %+v", got)
	}
	for name, in := range map[string]string{
		"empty":         "# nothing here\n",
		"broken json":   "{\"v\":1,\"seq\":\n",
		"unknown field": strings.Replace(a.Line(), `"v":1`, `"v":1,"sequence":3`, 1) + "\n",
		"no signature":  strings.Replace(a.Line(), `"sig":"`+a.Sig+`"`, `"sig":""`, 1) + "\n",
		"bad hash":      strings.Replace(a.Line(), a.Hash, "XYZ", 1) + "\n",
		"trailing text": a.Line() + " {}\n",
		"huge line":     "{" + strings.Repeat("x", 5000) + "\n",
	} {
		if _, err := ParseCheckpoints(strings.NewReader(in), "f"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseCheckpoints(strings.NewReader("ok\n"+a.Line()+"\n{\"v\":2}\n"), "f"); err == nil || !strings.Contains(err.Error(), "f line 3") {
		t.Errorf("a bad line is not named: %v", err)
	}
}

func TestVerifySigned(t *testing.T) {
	ctx := context.Background()
	s := testKey(1)
	keys := []ed25519.PublicKey{s.Public()}
	intact := signedChain(40, 10, s) // checkpoint records at 11, 21, 31 sign 10, 20, 30
	ext := func(recs []Record, seqs ...uint64) []Sourced {
		var out []Sourced
		for _, q := range seqs {
			r := recs[q-1]
			out = append(out, Sourced{Checkpoint: s.Sign(r.Seq, r.Hash, t0), From: "file line 1"})
		}
		return out
	}
	// External checkpoints, signed from the untouched chain.
	outside := ext(intact, 15, 30, 40)

	t.Run("intact", func(t *testing.T) {
		res, err := VerifySigned(ctx, &memLog{recs: intact}, keys, outside)
		if err != nil {
			t.Fatal(err)
		}
		if res.Checkpoints != 6 || res.LastGood.Seq != 40 || res.Unsigned != 0 || res.Checked != 40 {
			t.Errorf("result %+v", res)
		}
		res, err = VerifySigned(ctx, &memLog{recs: intact}, keys, nil)
		if err != nil || res.Checkpoints != 3 || res.LastGood.Seq != 30 || res.Unsigned != 10 || res.LastGood.From != "record 31" {
			t.Errorf("in-chain only: %+v, %v", res, err)
		}
	})

	tests := []struct {
		name      string
		recs      []Record
		external  []Sourced
		plainOK   bool   // plain Verify passes
		lastGood  uint64 // want a RewriteError with this last good checkpoint
		forged    bool   // want a ForgedError
		noneFound bool   // want ErrNoCheckpoint
	}{
		// Record 25 changed, every later hash recomputed: the in-chain
		// checkpoint at 31 (signing 30) no longer matches; 20 still does.
		{name: "full rewrite, in-chain checkpoints", recs: rewrite(intact, 25, "nothing happened"), plainOK: true, lastGood: 20},
		{name: "full rewrite, external checkpoints", recs: rewrite(intact, 25, "nothing happened"), external: outside, plainOK: true, lastGood: 20},
		{name: "rewrite of the first record", recs: rewrite(intact, 1, "x"), external: outside, plainOK: true, lastGood: 0},
		// The rewriter also dropped the checkpoint records and renumbered:
		// only the checkpoints outside the database catch it.
		{name: "rewrite without the checkpoint records", recs: stripCheckpoints(rewrite(intact, 25, "x")), plainOK: true, noneFound: true},
		{name: "rewrite without the checkpoint records, external", recs: stripCheckpoints(rewrite(intact, 25, "x")), external: outside, plainOK: true, lastGood: 0},
		// Records cut from the end (and the head with them) below an
		// external checkpoint.
		{name: "tail removed", recs: intact[:35], external: outside, plainOK: true, lastGood: 30},
		{name: "forged external checkpoint", recs: intact, external: []Sourced{{Checkpoint: testKey(2).Sign(40, head(intact).Hash, t0), From: "file line 1"}}, plainOK: true, forged: true},
		{name: "forged in-chain checkpoint", recs: withForgedCheckpoint(intact, testKey(2)), plainOK: true, forged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(ctx, &memLog{recs: tt.recs}); (err == nil) != tt.plainOK {
				t.Fatalf("plain verify: %v", err)
			}
			_, err := VerifySigned(ctx, &memLog{recs: tt.recs}, keys, tt.external)
			var rw *RewriteError
			var fe *ForgedError
			switch {
			case tt.forged:
				if !errors.As(err, &fe) {
					t.Fatalf("want a forged checkpoint refused, got %v", err)
				}
			case tt.noneFound:
				if !errors.Is(err, ErrNoCheckpoint) {
					t.Fatalf("want ErrNoCheckpoint, got %v", err)
				}
			default:
				if !errors.As(err, &rw) {
					t.Fatalf("want a rewrite found, got %v", err)
				}
				if rw.LastGood != tt.lastGood || rw.FirstUntrusted != tt.lastGood+1 {
					t.Errorf("last good %d, first untrusted %d; want %d and %d (%v)", rw.LastGood, rw.FirstUntrusted, tt.lastGood, tt.lastGood+1, rw)
				}
			}
		})
	}

	t.Run("plain break reports the last good checkpoint", func(t *testing.T) {
		recs := append([]Record(nil), intact...)
		recs[27].Detail = "edited in place" // seq 28, hashes not recomputed
		res, err := VerifySigned(ctx, &memLog{recs: recs}, keys, outside)
		var be *BrokenError
		if !errors.As(err, &be) || be.Seq != 28 || res.LastGood.Seq != 20 {
			t.Errorf("got %v, last good %d; want broken at 28 and last good 20", err, res.LastGood.Seq)
		}
	})
	t.Run("no key", func(t *testing.T) {
		if _, err := VerifySigned(ctx, &memLog{recs: intact}, nil, nil); err == nil {
			t.Error("verified without a key")
		}
	})
}

func stripCheckpoints(recs []Record) []Record {
	var out []Record
	prev := GenesisHash
	for _, r := range recs {
		if r.Kind == KindCheckpoint {
			continue
		}
		n := NewRecord(uint64(len(out)+1), prev, r.Entry())
		out = append(out, n)
		prev = n.Hash
	}
	return out
}

// withForgedCheckpoint appends a checkpoint record signed by another key
// claiming the real key's id, chained properly.
func withForgedCheckpoint(recs []Record, other *Signer) []Record {
	h := head(recs)
	c := other.Sign(h.Seq, h.Hash, t0)
	c.Key = testKey(1).KeyID()
	out := append([]Record(nil), recs...)
	return append(out, NewRecord(h.Seq+1, h.Hash, cases.AuditEntry{Time: t0, Kind: KindCheckpoint, Actor: cases.ActorExops, Detail: c.Line()}))
}

// TestOpenSSLKeys: keys made by `openssl genpkey -algorithm ed25519` and
// `openssl pkey -pubout` (a throwaway pair kept in testdata) are read.
func TestOpenSSLKeys(t *testing.T) {
	privPEM, err := os.ReadFile("testdata/openssl-ed25519.key")
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile("testdata/openssl-ed25519.key.pub")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := ParsePublicKeys(pubPEM)
	if err != nil || len(pubs) != 1 || !pubs[0].Equal(priv.Public()) {
		t.Fatalf("public key %v, %v: not the private key's", pubs, err)
	}
	c := NewSigner(priv).Sign(1, GenesisHash, t0)
	if err := c.Check(pubs); err != nil {
		t.Error(err)
	}
}

// BenchmarkVerifySigned compares verify with the key (every checkpoint
// checked: one Ed25519 verification per 1000 records) to plain verify, over
// the same 20,000-record log.
func BenchmarkVerifySigned(b *testing.B) {
	s := testKey(1)
	recs := signedChain(20000, 1000, s)
	keys := []ed25519.PublicKey{s.Public()}
	ctx := context.Background()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(ctx, &memLog{recs: recs}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signed", func(b *testing.B) {
		for b.Loop() {
			if _, err := VerifySigned(ctx, &memLog{recs: recs}, keys, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
