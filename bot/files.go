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
		if !strings.EqualFold(f.Filetype, "pdf") && f.Mimetype != "application/pdf" && !strings.HasSuffix(strings.ToLower(f.Name), ".pdf") {
			continue
		}
		if n++; n > 3 {
			b.reply(ctx, e.Channel, thread, "I read at most 3 PDFs per message; share the rest separately.")
			return
		}
		var reply string
		if f.Size > cases.MaxDocumentBytes {
			reply = fmt.Sprintf("%s is %d MB; I read PDFs up to %d MB.", escape(f.Name), f.Size>>20, cases.MaxDocumentBytes>>20)
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
