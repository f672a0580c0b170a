package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/exops/exops/cases"
	"github.com/slack-go/slack/slackevents"
)

// readDocuments downloads the PDFs of a message in a case thread or a DM and
// hands them to document extraction; the result goes to the thread.
func (b *Bot) readDocuments(ctx context.Context, e *slackevents.MessageEvent) {
	if b.svc.Documents == nil {
		return
	}
	thread := e.ThreadTimeStamp
	if thread == "" {
		thread = e.TimeStamp
	}
	n := 0
	for _, f := range e.Message.Files {
		if !isDocument(f.Filetype, f.Mimetype, f.Name) {
			continue
		}
		if n++; n > 3 {
			b.reply(ctx, e.Channel, thread, "I read at most 3 documents per message; share the rest separately.")
			return
		}
		var reply string
		if f.Size > cases.MaxDocumentBytes {
			reply = fmt.Sprintf("%s is %d MB; I read documents up to %d MB.", escape(f.Name), f.Size>>20, cases.MaxDocumentBytes>>20)
		} else if data, err := b.download(ctx, f.URLPrivateDownload); err != nil {
			b.log.Error("download document", "file", f.ID, "err", err)
			reply = fmt.Sprintf("I could not download %s from Slack; try sharing it again.", escape(f.Name))
		} else {
			text, threaded, err := b.svc.Documents.Document(ctx, e.User, e.Channel, thread, f.Name, data)
			switch {
			case err != nil:
				b.log.Error("read document", "file", f.ID, "err", err)
				reply = genericFailure
			case threaded:
				continue
			default:
				reply = text
			}
		}
		b.reply(ctx, e.Channel, thread, reply)
	}
}

func (b *Bot) download(ctx context.Context, url string) ([]byte, error) {
	if url == "" {
		return nil, errors.New("file has no download URL")
	}
	var buf limitedBuffer
	buf.limit = cases.MaxDocumentBytes
	if err := b.api.GetFileContext(ctx, url, &buf); err != nil {
		return nil, slackError("download file", err)
	}
	return buf.Bytes(), nil
}

// limitedBuffer refuses to grow past its limit.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.Len()+len(p) > l.limit {
		return 0, fmt.Errorf("file over %d bytes", l.limit)
	}
	return l.Buffer.Write(p)
}

// isDocument reports whether a shared file is one exops reads: a PDF, or an
// XML e-invoice (CII, UBL).
func isDocument(filetype, mimetype, name string) bool {
	name = strings.ToLower(name)
	switch {
	case strings.EqualFold(filetype, "pdf"), mimetype == "application/pdf", strings.HasSuffix(name, ".pdf"):
		return true
	case strings.EqualFold(filetype, "xml"), mimetype == "application/xml", mimetype == "text/xml", strings.HasSuffix(name, ".xml"):
		return true
	}
	return false
}
