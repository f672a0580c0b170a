package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/exops/exops/cases"
)

// eventDocuments reads the PDF an event carries in data.document, either
// inline ({"name", "content_base64"}) or by reference ({"name", "url"}); a
// URL is fetched only over HTTPS from a host named in EXOPS_DOCUMENT_HOSTS,
// so an event cannot make exops call anywhere it likes.
type eventDocuments struct {
	desk  *desk
	hosts []string
	http  *http.Client
}

func newEventDocuments(d *desk, getenv func(string) string) *eventDocuments {
	var hosts []string
	for _, h := range strings.Split(getenv("EXOPS_DOCUMENT_HOSTS"), ",") {
		if h = strings.TrimSpace(strings.ToLower(h)); h != "" {
			hosts = append(hosts, h)
		}
	}
	return &eventDocuments{desk: d, hosts: hosts, http: &http.Client{Timeout: 20 * time.Second}}
}

func (r *eventDocuments) ReadDocument(ctx context.Context, c *cases.Case, ev cases.CaseEvent) (string, bool) {
	var stored *cases.StoredEvent
	if err := r.desk.store.View(ctx, func(tx cases.ReadTx) error {
		var err error
		stored, err = tx.Event(ev.Source, ev.ID)
		return err
	}); err != nil {
		return fmt.Sprintf(":page_facing_up: the document of event %s could not be loaded: %v", ev.ID, err), true
	}
	doc, ok := stored.Event.Data["document"].(map[string]any)
	if !ok {
		return "", false
	}
	name, _ := doc["name"].(string)
	if name == "" {
		name = ev.ID + ".pdf"
	}
	pdf, err := r.fetch(ctx, doc)
	if err != nil {
		return fmt.Sprintf(":page_facing_up: %s (event %s): %v", name, ev.ID, err), true
	}
	d, err := r.desk.extractor.Extract(ctx, name, pdf)
	text := documentText(name, d, err)
	if err == nil {
		text += r.desk.match(ctx, d, pdf)
	}
	return text, true
}

func (r *eventDocuments) fetch(ctx context.Context, doc map[string]any) ([]byte, error) {
	if b64, ok := doc["content_base64"].(string); ok {
		pdf, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("content_base64 is not base64")
		}
		return pdf, nil
	}
	raw, _ := doc["url"].(string)
	if raw == "" {
		return nil, fmt.Errorf("the document has neither content_base64 nor url")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !slices.Contains(r.hosts, strings.ToLower(u.Hostname())) {
		return nil, fmt.Errorf("documents are fetched only over https from the hosts in EXOPS_DOCUMENT_HOSTS; %q is not one", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch failed: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch answered %s", resp.Status)
	}
	pdf, err := io.ReadAll(io.LimitReader(resp.Body, 20<<20+1))
	if err != nil {
		return nil, fmt.Errorf("fetch failed: %v", err)
	}
	if len(pdf) > 20<<20 {
		return nil, fmt.Errorf("the document is over 20 MB")
	}
	return pdf, nil
}
