package cases

import (
	"errors"
	"fmt"
	"time"
)

// Kind says what a caller can do about an error: the webhook turns it into an
// HTTP status, the bot into a plain ephemeral message, connectors retry only
// Transient ones.
type Kind int

const (
	KindInternal    Kind = iota // a bug or a broken store: nothing the caller can fix
	KindNotFound                // the thing asked for does not exist
	KindInvalid                 // the input is malformed; the message names what is wrong
	KindDenied                  // the actor may not do this
	KindConflict                // the request contradicts the current state
	KindTransient               // try again later
	KindUnknownType             // an event type exops does not know
	KindTooLarge                // the input is over a size limit
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindInvalid:
		return "invalid"
	case KindDenied:
		return "denied"
	case KindConflict:
		return "conflict"
	case KindTransient:
		return "transient"
	case KindUnknownType:
		return "unknown type"
	case KindTooLarge:
		return "too large"
	default:
		return "internal"
	}
}

// Error is an error with a Kind. Msg is written for the person who caused it.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
	// RetryAfter is how long the other side asked us to wait (a 429's
	// Retry-After); retries wait at least this long.
	RetryAfter time.Duration
}

// RetryAfterOf returns the wait an error asks for, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

func (e *Error) Error() string {
	if e.Err != nil {
		if e.Msg == "" {
			return e.Err.Error()
		}
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an error of the given kind.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf finds the Kind of the first *Error in err's chain; KindInternal if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrNotFound is returned by stores for a missing record.
var ErrNotFound = &Error{Kind: KindNotFound, Msg: "not found"}
