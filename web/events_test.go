package web

import (
	"bufio"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sseReader reads the events of a stream.
type sseReader struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

func (e *testEnv) events(ctx context.Context) *sseReader {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("GET /events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return &sseReader{t: e.t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the name and data of the next event, skipping comments.
func (s *sseReader) next() (name, data string, err error) {
	var lines []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && name != "":
			return name, strings.Join(lines, "\n"), nil
		case strings.HasPrefix(line, ":"), line == "":
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			lines = append(lines, strings.TrimPrefix(line, "data: "))
		default:
			s.t.Errorf("unexpected line in the stream: %q", line)
		}
	}
}

// waitEvent reads events until one's data contains want.
func (s *sseReader) waitEvent(want string) string {
	s.t.Helper()
	for {
		name, data, err := s.next()
		if err != nil {
			s.t.Fatalf("waiting for an event with %q: %v", want, err)
		}
		if name != "status" {
			s.t.Errorf("event %q", name)
		}
		if strings.Contains(data, want) {
			return data
		}
	}
}

func TestEvents(t *testing.T) {
	e := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := e.events(ctx)
	first := s.waitEvent(`data-share="Movies"`)
	if strings.Contains(first, "<html") || !strings.Contains(first, `<dd class="files">5</dd>`) {
		t.Errorf("first event is not the status section:\n%s", first)
	}
	// A file added to a share shows up.
	mustWrite(t, filepath.Join(e.media, "Movies", "new episode.mkv"), "new")
	s.waitEvent("Movies/new episode.mkv")
	// A share added shows up.
	a := e.login()
	resp, body := e.do("POST", "/api/shares", jsonBody(shareRequest{Name: "Films", Path: e.media + "/USB/Films"}), a.auth(e)...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %s %s", resp.Status, body)
	}
	s.waitEvent(`data-share="Films"`)
	// CloseStreams ends the stream, so http.Server.Shutdown can finish.
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := s.next(); err != nil {
				done <- err
				return
			}
		}
	}()
	e.srv.CloseStreams()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after CloseStreams")
	}
}

func TestEventBytes(t *testing.T) {
	got := string(eventBytes("status", []byte("<p>a</p>\n<p>b\rc</p>\n")))
	want := "event: status\ndata: <p>a</p>\ndata: <p>b&#13;c</p>\n\n"
	if got != want {
		t.Errorf("eventBytes = %q, want %q", got, want)
	}
}

func TestEventsLimited(t *testing.T) {
	e := newTestServer(t)
	e.srv.streams.Add(maxStreams)
	defer e.srv.streams.Add(-maxStreams)
	resp, _ := e.do("GET", "/events", "")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /events beyond the limit: %s", resp.Status)
	}
}
