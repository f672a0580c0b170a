package connectors

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/connectors/edi"
)

// DefaultMaxEDIBody bounds one interchange file posted to /v1/edi: a VAN
// mailbag of many interchanges fits, a runaway upload does not.
const DefaultMaxEDIBody = 16 << 20

// EDIReader reads one file of interchanges and raises its events through
// the engine (edi.Reader).
type EDIReader interface {
	Read(ctx context.Context, data []byte) (edi.Result, error)
}

// EDIIntake is the HTTP handler for POST /v1/edi: a raw X12 or EDIFACT
// interchange (or several), signed per source like /v1/events. It answers
// after the events are committed with the sets read, the events raised and
// the errors found.
type EDIIntake struct {
	Reader  EDIReader
	Secrets map[string]string // source → shared secret
	MaxBody int64             // default DefaultMaxEDIBody
	Logger  *slog.Logger
}

type ediAnswer struct {
	Sets   []edi.SetResult      `json:"sets"`
	Events []cases.IngestResult `json:"events"`
	Errors []string             `json:"errors"`
}

func (in *EDIIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: "use POST"})
		return
	}
	log := in.Logger
	if log == nil {
		log = slog.Default()
	}
	body, source, ok := readSigned(w, r, in.Secrets, in.MaxBody, DefaultMaxEDIBody, log)
	if !ok {
		return
	}
	res, err := in.Reader.Read(r.Context(), body)
	ans := ediAnswer{Sets: res.Sets, Events: res.Raised, Errors: res.Errors}
	if ans.Sets == nil {
		ans.Sets = []edi.SetResult{}
	}
	if ans.Events == nil {
		ans.Events = []cases.IngestResult{}
	}
	if ans.Errors == nil {
		ans.Errors = []string{}
	}
	if err != nil {
		switch {
		case len(res.Sets) == 0:
			// Nothing could be read: the interchange itself is refused.
			if len(ans.Errors) == 0 {
				ans.Errors = append(ans.Errors, err.Error())
			}
			writeJSON(w, http.StatusUnprocessableEntity, ans)
		case cases.KindOf(err) == cases.KindConflict:
			ans.Errors = append(ans.Errors, err.Error())
			writeJSON(w, http.StatusConflict, ans)
		default:
			log.Error("read EDI", "source", source, "sets", len(res.Sets), "err", err)
			// Part or none of it was stored: posting the file again is
			// safe, what was stored is then a duplicate.
			ans.Errors = append(ans.Errors, "not everything was stored; post the file again")
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, ans)
		}
		return
	}
	writeJSON(w, http.StatusOK, ans)
}
