package gena

import (
	"context"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// notice is one NOTIFY a callback server got.
type notice struct {
	Method, Path, Host string
	Header             http.Header
	Body               string
}

// seq returns the notice's SEQ header.
func (n notice) seq() string { return n.Header.Get("SEQ") }

// props parses the notice's body into name -> value, failing the test
// when it is not the propertyset UDA prescribes.
func (n notice) props(t *testing.T) map[string]string {
	t.Helper()
	var set struct {
		XMLName  xml.Name `xml:"urn:schemas-upnp-org:event-1-0 propertyset"`
		Property []struct {
			Var []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"urn:schemas-upnp-org:event-1-0 property"`
	}
	if err := xml.Unmarshal([]byte(n.Body), &set); err != nil {
		t.Fatalf("NOTIFY body is not a propertyset: %v\n%s", err, n.Body)
	}
	m := map[string]string{}
	for _, p := range set.Property {
		if len(p.Var) != 1 {
			t.Fatalf("e:property with %d variables:\n%s", len(p.Var), n.Body)
		}
		m[p.Var[0].XMLName.Local] = p.Var[0].Value
	}
	return m
}

// callbackServer is a subscriber's HTTP server on a loopback address that
// records the NOTIFYs it gets.
type callbackServer struct {
	*httptest.Server
	got    chan notice
	mu     sync.Mutex
	status int           // answer; 200 when 0
	stall  chan struct{} // if not nil, requests wait for it to close
	count  int
}

func newCallbackServer(t *testing.T, ip string) *callbackServer {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	cs := &callbackServer{got: make(chan notice, 1000)}
	cs.Server = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(cs.handle)}}
	cs.Start()
	t.Cleanup(func() {
		cs.mu.Lock()
		if cs.stall != nil {
			close(cs.stall)
			cs.stall = nil
		}
		cs.mu.Unlock()
		cs.Close()
	})
	return cs
}

func (cs *callbackServer) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cs.mu.Lock()
	cs.count++
	status, stall := cs.status, cs.stall
	cs.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
		return
	}
	cs.got <- notice{r.Method, r.URL.Path, r.Host, r.Header, string(body)}
	if status != 0 {
		w.WriteHeader(status)
	}
}

// requests returns how many requests the server got.
func (cs *callbackServer) requests() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.count
}

// next waits for the next NOTIFY.
func (cs *callbackServer) next(t *testing.T) notice {
	t.Helper()
	select {
	case n := <-cs.got:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no NOTIFY came")
		return notice{}
	}
}

// callback returns a CALLBACK header value for path on the server.
func (cs *callbackServer) callback(path string) string {
	return "<" + cs.URL + path + ">"
}

// pubServer is a Publisher behind a real HTTP server on 127.0.0.1.
type pubServer struct {
	*httptest.Server
	p *Publisher
}

func newPubServer(t *testing.T, p *Publisher) *pubServer {
	t.Helper()
	return newPubServerOn(t, p, "127.0.0.1")
}

// newPubServerOn is newPubServer listening on ip.
func newPubServerOn(t *testing.T, p *Publisher, ip string) *pubServer {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	ps := &pubServer{Server: &httptest.Server{Listener: l, Config: &http.Server{Handler: p}}, p: p}
	ps.Start()
	t.Cleanup(ps.Close)
	return ps
}

// run runs the Publisher until the test ends, and checks that Run
// returns nil.
func (ps *pubServer) run(t *testing.T) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ps.p.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})
	t.Cleanup(stop)
	return stop
}

// request sends method to the Publisher from the source address from
// ("" for the default) with the given headers, on a fresh connection.
func (ps *pubServer) request(t *testing.T, from, method string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ps.URL+"/evt", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := clientFrom(from).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// clientFrom returns an HTTP client whose connections come from the
// address from, without keep-alive.
func clientFrom(from string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// subscribe subscribes from the address from with callback cb and
// returns the SID, failing the test unless the answer is 200.
func (ps *pubServer) subscribe(t *testing.T, from, cb, timeout string) string {
	t.Helper()
	h := map[string]string{"NT": "upnp:event", "CALLBACK": cb}
	if timeout != "" {
		h["TIMEOUT"] = timeout
	}
	resp := ps.request(t, from, "SUBSCRIBE", h)
	if resp.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE %s: %s", cb, resp.Status)
	}
	return resp.Header.Get("SID")
}

// fakeClock is a settable clock for Publisher.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func hasLine(raw, line string) bool {
	for l := range strings.SplitSeq(raw, "\r\n") {
		if l == line {
			return true
		}
	}
	return false
}

func netipMustParse(s string) netip.Addr { return netip.MustParseAddr(s) }
