package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// KindCheckpoint is the kind of the audit record that stores a signed
// checkpoint in the chain itself; its Detail is the checkpoint's JSON line.
const KindCheckpoint = "audit_checkpoint"

// checkpointDomain starts every signed message, so that a signature made for
// a checkpoint cannot be passed off as a signature of anything else.
const checkpointDomain = "exops-audit-checkpoint-v1\n"

// Checkpoint is a signed statement "the audit log's record Seq has hash
// Hash". Because every hash covers the one before it, it vouches for every
// record up to Seq: a rewrite of any of them, even with every later hash
// recomputed, no longer matches it, and without the private key nobody can
// sign a checkpoint for the rewritten chain.
type Checkpoint struct {
	V    int       `json:"v"`    // format version, 1
	Seq  uint64    `json:"seq"`  // the record signed for
	Hash string    `json:"hash"` // its hash
	Time time.Time `json:"time"` // when it was signed (business clock, UTC)
	Key  string    `json:"key"`  // KeyID of the signing key
	Sig  string    `json:"sig"`  // base64 Ed25519 signature of message()
}

// message is what is signed:
//
//	"exops-audit-checkpoint-v1\n" "seq=" <decimal> "\n" "hash=" <hex> "\n" "time=" <RFC 3339 nano UTC> "\n"
func (c Checkpoint) message() []byte {
	var b bytes.Buffer
	b.WriteString(checkpointDomain)
	b.WriteString("seq=" + strconv.FormatUint(c.Seq, 10) + "\n")
	b.WriteString("hash=" + c.Hash + "\n")
	b.WriteString("time=" + formatTime(c.Time) + "\n")
	return b.Bytes()
}

// Line is the checkpoint as one line of JSON, the form it is stored, posted
// and read back in (ParseCheckpoints).
func (c Checkpoint) Line() string {
	c.Time = c.Time.UTC()
	b, _ := json.Marshal(c) // cannot fail: plain fields
	return string(b)
}

// Check verifies the checkpoint's signature with the key of its key id
// among keys. The error says whether the key is unknown or the signature
// wrong; either way the checkpoint vouches for nothing.
func (c Checkpoint) Check(keys []ed25519.PublicKey) error {
	if c.V != 1 {
		return fmt.Errorf("checkpoint format version %d is not 1", c.V)
	}
	if !isHash(c.Hash) {
		return errors.New("checkpoint hash is not 64 hex digits")
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("checkpoint signature is not a base64 Ed25519 signature")
	}
	for _, k := range keys {
		if KeyID(k) != c.Key {
			continue
		}
		if ed25519.Verify(k, c.message(), sig) {
			return nil
		}
		return fmt.Errorf("signature does not verify with key %s: the checkpoint was forged or altered", c.Key)
	}
	return fmt.Errorf("signed with key %s, which is not among the public keys given (after a key rotation, pass the old public key too)", c.Key)
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Signer signs checkpoints with one Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner makes a signer of key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID names the signer's key (see KeyID).
func (s *Signer) KeyID() string { return s.id }

// Public is the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign makes the checkpoint for record seq with hash at time at.
func (s *Signer) Sign(seq uint64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{V: 1, Seq: seq, Hash: hash, Time: at.UTC(), Key: s.id}
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, c.message()))
	return c
}

// KeyID is the first 16 hex digits of the SHA-256 of the raw public key: it
// tells which key signed a checkpoint, so that verify can hold the keys of
// several rotations at once. It is not secret.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey makes a key pair from random (crypto/rand.Reader in
// production) and returns both halves PEM encoded: the private key as
// PKCS #8 ("PRIVATE KEY"), the public key as PKIX ("PUBLIC KEY"), the forms
// openssl reads and writes.
func GenerateKey(random io.Reader) (privPEM, pubPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, nil, fmt.Errorf("generate audit key: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode audit key: %w", err)
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode audit public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}), nil
}

// ParsePrivateKey reads an Ed25519 private key given as PEM PKCS #8
// ("-----BEGIN PRIVATE KEY-----", what GenerateKey and
// `openssl genpkey -algorithm ed25519` write) or as the standard base64 of
// its 32-byte seed. Errors never quote the input: it is a secret.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	s := bytes.TrimSpace(b)
	if len(s) == 0 {
		return nil, errors.New("audit key is empty")
	}
	if bytes.HasPrefix(s, []byte("-----BEGIN")) {
		block, _ := pem.Decode(s)
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, errors.New("audit key: want a PEM \"PRIVATE KEY\" block (PKCS #8)")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("audit key: the PEM block is not a PKCS #8 private key")
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("audit key: a %T, not an Ed25519 key", k)
		}
		return ek, nil
	}
	seed, err := base64.StdEncoding.DecodeString(string(s))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("audit key: want PEM PKCS #8 or the base64 of a 32-byte Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKeys reads one or more Ed25519 public keys: PEM "PUBLIC KEY"
// blocks (PKIX), or lines holding the standard base64 of a raw 32-byte key.
// Several keys let verify check checkpoints made before and after a key
// rotation.
func ParsePublicKeys(b []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	rest := bytes.TrimSpace(b)
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "PUBLIC KEY" {
				return nil, fmt.Errorf("public key %d: a PEM %q block, want \"PUBLIC KEY\" (is this the private key?)", len(keys)+1, block.Type)
			}
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("public key %d: %w", len(keys)+1, err)
			}
			ek, ok := k.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("public key %d: a %T, not an Ed25519 key", len(keys)+1, k)
			}
			keys = append(keys, ek)
		}
	} else {
		for i, line := range strings.Split(string(rest), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(line)
			if err != nil || len(raw) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("public keys line %d: want PEM or the base64 of a 32-byte Ed25519 public key", i+1)
			}
			keys = append(keys, ed25519.PublicKey(raw))
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no public key found: want PEM \"PUBLIC KEY\" blocks (exops audit keygen writes one)")
	}
	return keys, nil
}

// Sourced is a checkpoint with where it was read, for messages.
type Sourced struct {
	Checkpoint
	From string // "checkpoints.ndjson line 3", "record 1001"
}

// maxCheckpointLine bounds one line of a checkpoint file.
const maxCheckpointLine = 4096

// ParseCheckpoints reads checkpoints, one JSON object per line, as
// Checkpoint.Line writes them. So that a file can be pasted together from
// Slack messages, export side files and notes, a line is first trimmed of
// spaces and backquotes, and lines that then do not start with "{" are
// ignored as commentary; a line that does must be a whole checkpoint.
// name labels the lines in errors and in Sourced.From.
func ParseCheckpoints(r io.Reader, name string) ([]Sourced, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxCheckpointLine)
	var out []Sourced
	for n := 1; sc.Scan(); n++ {
		line := strings.Trim(sc.Text(), " \t\r`")
		if !strings.HasPrefix(line, "{") {
			continue
		}
		c, err := ParseCheckpoint(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		out = append(out, Sourced{Checkpoint: c, From: fmt.Sprintf("%s line %d", name, n)})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than %d bytes: not a checkpoint file", name, maxCheckpointLine)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no checkpoint (lines of JSON such as exops audit checkpoint prints)", name)
	}
	return out, nil
}

// ParseCheckpoint reads one checkpoint line. Unknown fields are refused, so
// a typo does not silently drop a field.
func ParseCheckpoint(line string) (Checkpoint, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	var c Checkpoint
	if err := dec.Decode(&c); err != nil {
		return Checkpoint{}, fmt.Errorf("not a checkpoint: %w", err)
	}
	if dec.More() {
		return Checkpoint{}, errors.New("not a checkpoint: text after the JSON object")
	}
	switch {
	case c.V != 1:
		return Checkpoint{}, fmt.Errorf("checkpoint format version %d is not 1", c.V)
	case c.Seq == 0:
		return Checkpoint{}, errors.New("checkpoint has no seq")
	case !isHash(c.Hash):
		return Checkpoint{}, errors.New("checkpoint hash is not 64 lowercase hex digits")
	case c.Key == "" || c.Sig == "":
		return Checkpoint{}, errors.New("checkpoint has no key or no signature")
	}
	return c, nil
}
