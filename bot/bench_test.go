package bot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/exops/exops/bot/localslack"
	"github.com/exops/exops/cases"
)

// BenchmarkClickAck measures click-to-acknowledgement latency over HTTP with
// 200 concurrent clicks: from sending Slack's signed block_actions request to
// the 200 answer (the work after the answer is not in the figure, as Slack's
// 3-second limit is on the answer). b.N is the number of rounds of 200.
func BenchmarkClickAck(b *testing.B) {
	ls := localslack.New(testClock)
	defer ls.Close()
	d := &fakeDecider{res: cases.DecideResult{Message: "ok"}}
	bt, err := New(Config{BotToken: "xoxb-bench", SigningSecret: testSecret, APIURL: ls.APIURL(), Clock: testClock}, services(d))
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Close()
	srv := httptest.NewServer(bt.InteractionsHandler())
	defer srv.Close()
	if _, err := bt.PostCard(context.Background(), compositeCase()); err != nil {
		b.Fatal(err)
	}
	card := ls.Transcript()[0]
	btn := card.Buttons()[0]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 0}}
	const concurrent = 200
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < concurrent; i++ {
			body, err := localslack.ClickBody(fmt.Sprintf("U%07d", i), card, btn, time.Now().Add(time.Duration(round*concurrent+i)*time.Microsecond))
			if err != nil {
				b.Fatal(err)
			}
			stamp := fmt.Sprint(time.Now().Unix())
			sig := localslack.Sign(testSecret, stamp, body)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytesReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Slack-Request-Timestamp", stamp)
				req.Header.Set("X-Slack-Signature", sig)
				t := time.Now()
				resp, err := client.Do(req)
				took := time.Since(t)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Errorf("click: %v %v", err, resp)
					return
				}
				resp.Body.Close()
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
	}
	b.StopTimer()
	bt.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(0, "ns/op")
}

func bytesReader(b []byte) *bytesReaderT { return &bytesReaderT{b: b} }

// bytesReaderT is a minimal io.Reader so each request gets its own reader.
type bytesReaderT struct {
	b []byte
	i int
}

func (r *bytesReaderT) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}
