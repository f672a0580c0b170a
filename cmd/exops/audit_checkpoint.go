package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/exops/exops/audit"
	"github.com/exops/exops/cases"
)

// The audit key settings (docs/audit.md).
const (
	envAuditKey        = "EXOPS_AUDIT_KEY"                // PEM PKCS #8 or base64 seed of an Ed25519 key
	envAuditKeyFile    = "EXOPS_AUDIT_KEY_FILE"           // a file holding the same
	envCheckpointEvery = "EXOPS_AUDIT_CHECKPOINT_EVERY"   // records between checkpoints (default 1000)
	envCheckpointChan  = "EXOPS_AUDIT_CHECKPOINT_CHANNEL" // Slack channel the checkpoints are posted to
	envCheckpointFile  = "EXOPS_AUDIT_CHECKPOINT_FILE"    // a file each checkpoint is appended to
	maxKeyFile         = 16 << 10                         // a key file is a few hundred bytes
	maxCheckpointFile  = 64 << 20                         // years of checkpoints
)

// auditSigner reads the signing key from EXOPS_AUDIT_KEY or
// EXOPS_AUDIT_KEY_FILE; nil when neither is set. Errors never quote the key.
func auditSigner(getenv func(string) string) (*audit.Signer, error) {
	inline, file := getenv(envAuditKey), getenv(envAuditKeyFile)
	var raw []byte
	switch {
	case inline != "" && file != "":
		return nil, fmt.Errorf("set %s or %s, not both", envAuditKey, envAuditKeyFile)
	case inline != "":
		raw = []byte(inline)
	case file != "":
		b, err := readBounded(file, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envAuditKeyFile, err)
		}
		raw = b
	default:
		return nil, nil
	}
	key, err := audit.ParsePrivateKey(raw)
	if err != nil {
		src := envAuditKey
		if file != "" {
			src = envAuditKeyFile + " " + file
		}
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return audit.NewSigner(key), nil
}

// auditCheckpointer is the checkpoint configuration from the environment;
// nil without a key. With EXOPS_AUDIT_CHECKPOINT_FILE every checkpoint is
// appended to that file (for a log shipper to carry elsewhere); a failed
// write is logged, and the checkpoint stays in the chain.
func auditCheckpointer(getenv func(string) string, now cases.Clock, log *slog.Logger) (*audit.Checkpointer, error) {
	s, err := auditSigner(getenv)
	if err != nil || s == nil {
		return nil, err
	}
	every := uint64(audit.DefaultCheckpointEvery)
	if v := strings.TrimSpace(getenv(envCheckpointEvery)); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 2 {
			return nil, fmt.Errorf("%s %q: want a whole number of records, at least 2", envCheckpointEvery, v)
		}
		every = n
	}
	cp := &audit.Checkpointer{Signer: s, Every: every, Now: now}
	if file := getenv(envCheckpointFile); file != "" {
		var mu sync.Mutex
		cp.Published = func(c audit.Checkpoint) {
			mu.Lock()
			defer mu.Unlock()
			if err := appendLine(file, c.Line()); err != nil {
				log.Error("audit checkpoint not written to its file (it is in the chain)", "file", file, "seq", c.Seq, "err", err)
			}
		}
	}
	return cp, cp.Check()
}

// setupCheckpoints wires signed checkpoints into Main from the environment:
// the store the engine writes through seals the chain every N records, and
// with EXOPS_AUDIT_CHECKPOINT_CHANNEL each checkpoint is posted there. It
// returns the store for the engine (store itself without a key).
func (m *Main) setupCheckpoints(store Storage, poster audit.Poster) (cases.Store, error) {
	cp, err := auditCheckpointer(m.cfg.Getenv, m.cfg.Now, m.log)
	if err != nil || cp == nil {
		if ch := m.cfg.Getenv(envCheckpointChan); err == nil && ch != "" {
			return nil, fmt.Errorf("%s is set but no audit key is: set %s or %s (exops audit keygen makes one)", envCheckpointChan, envAuditKey, envAuditKeyFile)
		}
		return store, err
	}
	if ch := m.cfg.Getenv(envCheckpointChan); ch != "" {
		m.checkpointPosts = &audit.Publisher{Poster: poster, Channel: ch, Logger: m.log}
		toFile := cp.Published
		cp.Published = func(c audit.Checkpoint) {
			if toFile != nil {
				toFile(c)
			}
			m.checkpointPosts.Publish(c)
		}
	}
	m.checkpoints = cp
	m.log.Info("signed audit checkpoints", "every", cp.Every, "key", cp.Signer.KeyID(),
		"channel", m.cfg.Getenv(envCheckpointChan), "file", m.cfg.Getenv(envCheckpointFile))
	return cp.Wrap(store), nil
}

// sealForExport signs the head before an export, so every export has a
// checkpoint that covers it.
func (m *Main) sealForExport(ctx context.Context) error {
	if m.checkpoints == nil {
		return nil
	}
	if _, _, err := m.checkpoints.Seal(ctx, m.store); err != nil {
		return fmt.Errorf("sign the audit head before the export: %w", err)
	}
	return nil
}

// runCheckpointPosts posts checkpoints until ctx ends (no-op without a channel).
func (m *Main) runCheckpointPosts(ctx context.Context) {
	if m.checkpointPosts != nil {
		m.checkpointPosts.Run(ctx)
	}
}

// audit dispatches the audit commands.
func (c *cli) audit(args []string) int {
	if len(args) == 0 {
		return c.usageError("audit needs verify, export, checkpoint or keygen")
	}
	switch args[0] {
	case "verify":
		return c.auditVerify(args[1:])
	case "export":
		return c.auditExport(args[1:])
	case "checkpoint":
		return c.auditCheckpoint(args[1:])
	case "keygen":
		return c.auditKeygen(args[1:])
	}
	return c.usageError(fmt.Sprintf("unknown audit command %q: want verify, export, checkpoint or keygen", args[0]))
}

// auditKeygen writes a new Ed25519 key pair: FILE (private, mode 0600) and
// FILE.pub. It refuses to overwrite either, so a key in use is not lost.
func (c *cli) auditKeygen(args []string) int {
	fs := c.flags("audit keygen", "audit keygen --out FILE")
	out := fs.String("out", "", "write the private key to `FILE` (mode 0600) and the public key to FILE.pub")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *out == "" {
		return c.usageError("audit keygen needs --out FILE")
	}
	priv, pub, err := audit.GenerateKey(rand.Reader)
	if err != nil {
		return c.fail(err)
	}
	keys, _ := audit.ParsePublicKeys(pub)
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{*out, priv, 0o600}, {*out + ".pub", pub, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return c.fail(fmt.Errorf("audit keygen: %w (an existing key is never overwritten)", err))
		}
		_, werr := fh.Write(f.data)
		if err := errors.Join(werr, fh.Close()); err != nil {
			return c.fail(fmt.Errorf("audit keygen: %w", err))
		}
	}
	fmt.Fprintf(c.stdout, "audit key %s: private key in %s, public key in %s.pub\n", audit.KeyID(keys[0]), *out, *out)
	fmt.Fprintf(c.stdout, "Sign with EXOPS_AUDIT_KEY_FILE=%s; verify with exops audit verify --pubkey %s.pub\n", *out, *out)
	return exitOK
}

// auditCheckpoint signs the current head, stores the checkpoint in the chain
// and prints it (and appends it to --out), for a cron job that ships it
// somewhere the database's administrators cannot write.
func (c *cli) auditCheckpoint(args []string) int {
	fs := c.flags("audit checkpoint", "audit checkpoint [--db PATH] [--out FILE]")
	db := c.dbFlag(fs)
	out := fs.String("out", "", "also append the checkpoint line to `FILE`")
	if code, stop := parse(fs, args); stop {
		return code
	}
	cp, err := auditCheckpointer(c.getenv, c.clock, c.logger())
	if err != nil {
		return c.fail(err)
	}
	if cp == nil {
		return c.fail(fmt.Errorf("no audit key: set %s or %s (exops audit keygen makes one)", envAuditKey, envAuditKeyFile))
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	signed, ok, err := cp.Seal(c.ctx, s)
	if err != nil {
		return c.fail(err)
	}
	if !ok {
		return c.fail(errors.New("the audit log is empty: nothing to sign"))
	}
	if *out != "" {
		if err := appendLine(*out, signed.Line()); err != nil {
			return c.fail(err)
		}
	}
	fmt.Fprintln(c.stdout, signed.Line())
	return exitOK
}

// sealExport signs the head for an export from the command line (nothing
// without a key) and keeps the checkpoint beside the export: in FILE.checkpoint
// with --out FILE, else on standard error.
func (c *cli) sealExport(s Storage, out string) error {
	cp, err := auditCheckpointer(c.getenv, c.clock, c.logger())
	if err != nil || cp == nil {
		return err
	}
	signed, ok, err := cp.Seal(c.ctx, s)
	if err != nil || !ok {
		return err
	}
	if out == "" {
		fmt.Fprintf(c.stderr, "signed checkpoint: %s\n", signed.Line())
		return nil
	}
	if err := appendLine(out+".checkpoint", signed.Line()); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "signed checkpoint of record %d in %s.checkpoint\n", signed.Seq, out)
	return nil
}

// logger is a command's logger: text on standard error.
func (c *cli) logger() *slog.Logger { return slog.New(slog.NewTextHandler(c.stderr, nil)) }

// checkpointFlags are verify's --pubkey and --checkpoint (repeatable).
type checkpointFlags struct {
	pubkey string
	files  []string
}

func (f *checkpointFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.pubkey, "pubkey", "", "check the signed checkpoints with the Ed25519 public key(s) in `FILE` (PEM)")
	fs.Func("checkpoint", "signed checkpoints kept outside the database, one JSON line each (`FILE`; repeatable)", func(v string) error {
		f.files = append(f.files, v)
		return nil
	})
}

// verifySigned is `audit verify --pubkey`: the chain and every checkpoint.
func (c *cli) verifySigned(s Storage, f checkpointFlags) int {
	pubRaw, err := readBounded(f.pubkey, maxKeyFile)
	if err != nil {
		return c.fail(fmt.Errorf("--pubkey: %w", err))
	}
	keys, err := audit.ParsePublicKeys(pubRaw)
	if err != nil {
		return c.fail(fmt.Errorf("--pubkey %s: %w", f.pubkey, err))
	}
	var external []audit.Sourced
	for _, name := range f.files {
		b, err := readBounded(name, maxCheckpointFile)
		if err != nil {
			return c.fail(fmt.Errorf("--checkpoint: %w", err))
		}
		cps, err := audit.ParseCheckpoints(strings.NewReader(string(b)), name)
		if err != nil {
			return c.fail(fmt.Errorf("--checkpoint: %w", err))
		}
		external = append(external, cps...)
	}
	res, err := audit.VerifySigned(c.ctx, s, keys, external)
	var (
		forged  *audit.ForgedError
		rewrite *audit.RewriteError
		broken  *audit.BrokenError
	)
	switch {
	case errors.As(err, &forged):
		fmt.Fprintf(c.stdout, "audit log NOT VERIFIED: %v\n", forged)
		return exitFail
	case errors.As(err, &rewrite):
		fmt.Fprintf(c.stdout, "audit log REWRITTEN: %s\nlast good checkpoint: %s\nfirst record after it, where the rewrite may start: %d\n",
			rewrite.Reason, checkpointWords(rewrite.LastGood), rewrite.FirstUntrusted)
		return exitFail
	case errors.As(err, &broken):
		fmt.Fprintf(c.stdout, "audit log BROKEN at record %d: %s\nlast good checkpoint: %s\n", broken.Seq, broken.Reason, checkpointWords(res.LastGood.Seq))
		return exitFail
	case errors.Is(err, audit.ErrNoCheckpoint):
		fmt.Fprintf(c.stdout, "audit log NOT VERIFIED: %v (%d records consistent; sign the head with exops audit checkpoint)\n", err, res.Checked)
		return exitFail
	case err != nil:
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "audit log intact and signed: %d records checked, head %s\n", res.Checked, or(res.Head, "(empty)"))
	if res.LastGood.Seq != 0 {
		fmt.Fprintf(c.stdout, "%d checkpoints match; the newest signs record %d (%s); %d records after it are not signed yet\n",
			res.Checkpoints, res.LastGood.Seq, res.LastGood.From, res.Unsigned)
	}
	return exitOK
}

func checkpointWords(seq uint64) string {
	if seq == 0 {
		return "none (no checkpoint before the problem matches)"
	}
	return fmt.Sprintf("record %d", seq)
}

// readBounded reads a whole file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// appendLine appends one line to a file (created 0644: checkpoints are not
// secret).
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	_, werr := io.WriteString(f, line+"\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	return nil
}
