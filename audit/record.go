// Package audit is the tamper-evident decision log: every record carries the
// SHA-256 of its own content and of its predecessor, so changing, removing or
// reordering a stored record breaks the chain at that record. Storage lives
// elsewhere (see cases/bolt); this package only defines the record, checks a
// chain and exports it.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/exops/exops/cases"
)

// GenesisHash is the prev_hash of the first record (seq 1).
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain starts every hashed encoding so that a future change of the
// encoding can be told apart by a new version tag.
const hashDomain = "exops-audit-v1\n"

// Record is one entry of the audit log as stored and exported. The JSON field
// order is the export column order.
type Record struct {
	Seq           uint64    `json:"seq"`
	Time          time.Time `json:"time"` // UTC; encoded RFC 3339 with nanoseconds
	Case          string    `json:"case"`
	Kind          string    `json:"kind"`
	Action        string    `json:"action"`
	Actor         string    `json:"actor"`
	Verdict       string    `json:"verdict"`
	Confidence    float64   `json:"confidence"`
	PolicyVersion string    `json:"policy_version"`
	Detail        string    `json:"detail"`
	Choice        string    `json:"choice,omitempty"` // a decision's choice: approve, reject, auto
	PrevHash      string    `json:"prev_hash"`
	Hash          string    `json:"hash"`
}

// Fields lists the record's field names in JSON and CSV column order.
func Fields() []string {
	return []string{"seq", "time", "case", "kind", "action", "actor", "verdict",
		"confidence", "policy_version", "detail", "choice", "prev_hash", "hash"}
}

// NewRecord makes record seq of the chain from an entry and the hash of the
// record before it (GenesisHash for seq 1), and seals it with its hash.
//
// Strings are coerced to valid UTF-8 the way encoding/json does it (each
// invalid byte becomes U+FFFD) and the time is normalized to UTC, so that a
// record read back from its JSON form hashes to the same value.
func NewRecord(seq uint64, prevHash string, e cases.AuditEntry) Record {
	r := Record{
		Seq:           seq,
		Time:          e.Time.UTC(),
		Case:          validUTF8(e.Case),
		Kind:          validUTF8(e.Kind),
		Action:        validUTF8(e.Action),
		Actor:         validUTF8(e.Actor),
		Verdict:       validUTF8(e.Verdict),
		Confidence:    e.Confidence,
		PolicyVersion: validUTF8(e.PolicyVersion),
		Detail:        validUTF8(e.Detail),
		Choice:        validUTF8(string(e.Choice)),
		PrevHash:      prevHash,
	}
	r.Hash = r.ComputeHash()
	return r
}

// ComputeHash returns the lowercase hex SHA-256 of the record's canonical
// encoding, which covers every field except Hash:
//
//	"exops-audit-v1\n"
//	then for each field in the order seq, time, case, kind, action, actor,
//	verdict, confidence, policy_version, detail, choice (only when it is
//	set, so records written before it existed keep their hashes), prev_hash:
//	    <name> "=" <decimal byte length of value> ":" <value> "\n"
//
// where seq is decimal, time is UTC in RFC 3339 with nanoseconds
// (time.RFC3339Nano), confidence is strconv.FormatFloat(c, 'f', -1, 64) and
// strings are their UTF-8 bytes. The length prefix makes the encoding
// unambiguous whatever the values contain (newlines, "=", ":"), so anyone can
// re-derive a hash from an export with a few lines of code.
func (r Record) ComputeHash() string {
	h := sha256.New()
	var buf []byte
	field := func(name, value string) {
		buf = buf[:0]
		buf = append(buf, name...)
		buf = append(buf, '=')
		buf = strconv.AppendInt(buf, int64(len(value)), 10)
		buf = append(buf, ':')
		buf = append(buf, value...)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	h.Write([]byte(hashDomain))
	field("seq", strconv.FormatUint(r.Seq, 10))
	field("time", formatTime(r.Time))
	field("case", r.Case)
	field("kind", r.Kind)
	field("action", r.Action)
	field("actor", r.Actor)
	field("verdict", r.Verdict)
	field("confidence", formatFloat(r.Confidence))
	field("policy_version", r.PolicyVersion)
	field("detail", r.Detail)
	if r.Choice != "" {
		field("choice", r.Choice)
	}
	field("prev_hash", r.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does
// when it writes a string; strings.ToValidUTF8 would merge runs of invalid
// bytes into one rune and so hash a different value than the stored one.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Entry is the record's content as the engine wrote it.
func (r Record) Entry() cases.AuditEntry {
	return cases.AuditEntry{Time: r.Time, Case: r.Case, Kind: r.Kind, Action: r.Action, Actor: r.Actor,
		Verdict: r.Verdict, Confidence: r.Confidence, PolicyVersion: r.PolicyVersion, Detail: r.Detail, Choice: cases.Choice(r.Choice)}
}

// EncodeRecord is the bytes a store keeps for a record: its canonical
// encoding, the one DecodeRecord accepts. Every store writes records through
// it, so the check does not depend on which JSON library a store uses.
func EncodeRecord(r Record) ([]byte, error) {
	return json.Marshal(r)
}

// DecodeRecord reads a record from the bytes a store wrote with
// EncodeRecord, and refuses bytes that are not exactly that encoding.
// encoding/json matches keys without regard to case, ignores unknown keys and
// accepts any spelling of an escape ("\u0041" for "A"), none of which the
// hash covers: without this check such edits to a stored record go unseen.
func DecodeRecord(raw []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, err
	}
	canon, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	if !bytes.Equal(canon, raw) {
		return Record{}, errors.New("stored bytes are not the record's canonical encoding (a key, an escape or the layout was changed)")
	}
	return r, nil
}
