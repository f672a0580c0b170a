package connectors

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

// DocumentFetcher gets the document an event carries in data.document,
// either inline ({"name", "content_base64"}) or by reference ({"name",
// "url"}). A URL is fetched only over HTTPS from a host named in
// EXOPS_DOCUMENT_HOSTS, so an event cannot make exops call anywhere it likes.
// Every document is bounded by cases.MaxDocumentBytes.
type DocumentFetcher struct {
	Hosts []string // lower-case host names
	HTTP  *http.Client
}

// NewDocumentFetcher reads EXOPS_DOCUMENT_HOSTS (comma-separated).
func NewDocumentFetcher(getenv func(string) string) *DocumentFetcher {
	var hosts []string
	for _, h := range strings.Split(getenv("EXOPS_DOCUMENT_HOSTS"), ",") {
		if h = strings.TrimSpace(strings.ToLower(h)); h != "" {
			hosts = append(hosts, h)
		}
	}
	return &DocumentFetcher{Hosts: hosts, HTTP: &http.Client{Timeout: 20 * time.Second}}
}

// FetchDocument returns the bytes of an event's data.document. Its errors
// are plain sentences for the case's thread.
func (f *DocumentFetcher) FetchDocument(ctx context.Context, doc map[string]any) ([]byte, error) {
	if b64, ok := doc["content_base64"].(string); ok {
		if base64.StdEncoding.DecodedLen(len(b64)) > cases.MaxDocumentBytes+2 {
			return nil, fmt.Errorf("the document is over %d MB", cases.MaxDocumentBytes>>20)
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("content_base64 is not base64")
		}
		if len(data) > cases.MaxDocumentBytes {
			return nil, fmt.Errorf("the document is over %d MB", cases.MaxDocumentBytes>>20)
		}
		return data, nil
	}
	raw, _ := doc["url"].(string)
	if raw == "" {
		return nil, fmt.Errorf("the document has neither content_base64 nor url")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !slices.Contains(f.Hosts, strings.ToLower(u.Hostname())) {
		host := ""
		if u != nil {
			host = u.Host
		}
		return nil, fmt.Errorf("documents are fetched only over https from the hosts in EXOPS_DOCUMENT_HOSTS; %q is not one", host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch failed: %v", err)
	}
	client := f.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, cases.MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch failed while reading")
	}
	if len(data) > cases.MaxDocumentBytes {
		return nil, fmt.Errorf("the document is over %d MB", cases.MaxDocumentBytes>>20)
	}
	return data, nil
}
