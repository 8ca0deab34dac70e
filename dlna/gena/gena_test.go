package gena

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

var sidPattern = regexp.MustCompile(`^uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// stateOf returns a State func reporting the counter's value as
// SystemUpdateID.
func stateOf(id *atomic.Int64) func() []Property {
	return func() []Property {
		return []Property{{"SystemUpdateID", strconv.FormatInt(id.Load(), 10)}, {"ContainerUpdateIDs", ""}}
	}
}

// TestSubscribeNotifyUnsubscribe walks one subscription through its life
// over real HTTP: the answer, the initial event with the state, events in
// order with SEQ rising, UNSUBSCRIBE.
func TestSubscribeNotifyUnsubscribe(t *testing.T) {
	var id atomic.Int64
	id.Store(7)
	ps := newPubServer(t, &Publisher{State: stateOf(&id), ServerHeader: "Linux/6 UPnP/1.0 mediaftpd/1"})
	ps.run(t)
	cs := newCallbackServer(t, "127.0.0.1")

	resp := ps.request(t, "", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cs.callback("/evt/cds"), "TIMEOUT": "Second-300"})
	sid := resp.Header.Get("SID")
	if resp.StatusCode != 200 || !sidPattern.MatchString(sid) || resp.Header.Get("TIMEOUT") != "Second-300" {
		t.Fatalf("SUBSCRIBE: %s, SID %q, TIMEOUT %q", resp.Status, sid, resp.Header.Get("TIMEOUT"))
	}
	if resp.Header.Get("SERVER") != "Linux/6 UPnP/1.0 mediaftpd/1" || resp.ContentLength != 0 {
		t.Errorf("SERVER %q, Content-Length %d", resp.Header.Get("SERVER"), resp.ContentLength)
	}

	n := cs.next(t)
	if n.Method != "NOTIFY" || n.Path != "/evt/cds" || n.Host != cs.Listener.Addr().String() {
		t.Errorf("initial event: %s %s Host %s", n.Method, n.Path, n.Host)
	}
	for k, v := range map[string]string{
		"Content-Type": `text/xml; charset="utf-8"`, "NT": "upnp:event", "NTS": "upnp:propchange",
		"SID": sid, "SEQ": "0", "User-Agent": "Linux/6 UPnP/1.0 mediaftpd/1",
	} {
		if got := n.Header.Get(k); got != v {
			t.Errorf("initial event %s: %q, want %q", k, got, v)
		}
	}
	if got := n.props(t); got["SystemUpdateID"] != "7" || len(got) != 2 {
		t.Errorf("initial event properties %v", got)
	}

	for i := 1; i <= 20; i++ {
		ps.p.Publish([]Property{{"SystemUpdateID", strconv.Itoa(100 + i)}, {"ContainerUpdateIDs", fmt.Sprintf("s%d,%d", i, i)}})
	}
	for i := 1; i <= 20; i++ {
		n := cs.next(t)
		got := n.props(t)
		if n.seq() != strconv.Itoa(i) || got["SystemUpdateID"] != strconv.Itoa(100+i) || got["ContainerUpdateIDs"] != fmt.Sprintf("s%d,%d", i, i) {
			t.Fatalf("event %d: SEQ %s, %v", i, n.seq(), got)
		}
	}

	resp = ps.request(t, "", "UNSUBSCRIBE", map[string]string{"SID": sid})
	if resp.StatusCode != 200 || ps.p.Count() != 0 {
		t.Fatalf("UNSUBSCRIBE: %s, %d left", resp.Status, ps.p.Count())
	}
	ps.p.Publish([]Property{{"SystemUpdateID", "999"}})
	resp = ps.request(t, "", "UNSUBSCRIBE", map[string]string{"SID": sid})
	if resp.StatusCode != 412 {
		t.Errorf("second UNSUBSCRIBE: %s", resp.Status)
	}
	// A new subscriber's initial event is the synchronisation point: the
	// old one must have got nothing more.
	cs2 := newCallbackServer(t, "127.0.0.1")
	ps.subscribe(t, "", cs2.callback("/x"), "")
	if n := cs2.next(t); n.props(t)["SystemUpdateID"] != "7" {
		t.Errorf("second subscriber's initial event %v", n.props(t))
	}
	if cs.requests() != 21 {
		t.Errorf("the unsubscribed callback got %d requests, want 21", cs.requests())
	}
}

// TestNotifyWireFormat reads a NOTIFY off the wire: request line and
// header names as UDA writes them.
func TestNotifyWireFormat(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	raw := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var head strings.Builder
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if line == "\r\n" {
				break
			}
		}
		body := make([]byte, length)
		io.ReadFull(br, body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		raw <- head.String() + string(body)
	}()
	ps := newPubServer(t, &Publisher{State: func() []Property { return []Property{{"SystemUpdateID", "3"}} }})
	ps.run(t)
	sid := ps.subscribe(t, "", "<http://"+l.Addr().String()+"/cds/event>", "")
	var got string
	select {
	case got = <-raw:
	case <-time.After(10 * time.Second):
		t.Fatal("no NOTIFY")
	}
	for _, want := range []string{
		"NOTIFY /cds/event HTTP/1.1",
		"Host: " + l.Addr().String(),
		`CONTENT-TYPE: text/xml; charset="utf-8"`,
		"NT: upnp:event",
		"NTS: upnp:propchange",
		"SID: " + sid,
		"SEQ: 0",
	} {
		if !hasLine(got, want) {
			t.Errorf("no line %q in\n%s", want, got)
		}
	}
	if !strings.Contains(got, `<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><SystemUpdateID>3</SystemUpdateID></e:property></e:propertyset>`) {
		t.Errorf("body:\n%s", got)
	}
	if strings.Contains(got, "User-Agent") {
		t.Errorf("a User-Agent without ServerHeader:\n%s", got)
	}
}

// TestSubscribeRules checks the answers to good and bad SUBSCRIBE and
// UNSUBSCRIBE requests, CallStranger's included.
func TestSubscribeRules(t *testing.T) {
	ps := newPubServer(t, &Publisher{MaxPerAddr: 100})
	cs := newCallbackServer(t, "127.0.0.1")
	port := cs.Listener.Addr().(*net.TCPAddr).Port
	good := cs.callback("/e")
	sid := ps.subscribe(t, "", good, "")
	for _, tt := range []struct {
		name    string
		method  string
		headers map[string]string
		status  int
		timeout string
	}{
		{"GET", "GET", nil, 405, ""},
		{"NOTIFY", "NOTIFY", nil, 405, ""},
		{"plain", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good}, 200, "Second-1800"},
		{"NT with spaces", "SUBSCRIBE", map[string]string{"NT": " upnp:event ", "CALLBACK": good}, 200, "Second-1800"},
		{"timeout asked", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "Second-60"}, 200, "Second-60"},
		{"timeout lower case", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "second-61"}, 200, "Second-61"},
		{"timeout capped", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "Second-99999"}, 200, "Second-1800"},
		{"timeout infinite", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "infinite"}, 200, "Second-1800"},
		{"timeout bad", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "Second-abc"}, 200, "Second-1800"},
		{"timeout zero", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "Second-0"}, 200, "Second-1800"},
		{"timeout negative", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good, "TIMEOUT": "Second--5"}, 200, "Second-1800"},
		{"two URLs", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good + " " + good}, 200, "Second-1800"},
		{"mapped own address", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": fmt.Sprintf("<http://[::ffff:127.0.0.1]:%d/e>", port)}, 200, "Second-1800"},
		{"port 80", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://127.0.0.1/e>"}, 200, "Second-1800"},
		{"no NT", "SUBSCRIBE", map[string]string{"CALLBACK": good}, 412, ""},
		{"wrong NT", "SUBSCRIBE", map[string]string{"NT": "upnp:propchange", "CALLBACK": good}, 412, ""},
		{"no CALLBACK", "SUBSCRIBE", map[string]string{"NT": "upnp:event"}, 412, ""},
		{"empty CALLBACK", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<>"}, 412, ""},
		{"CALLBACK without brackets", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cs.URL + "/e"}, 412, ""},
		{"CALLBACK unclosed", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<" + cs.URL}, 412, ""},
		{"CALLBACK https", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": fmt.Sprintf("<https://127.0.0.1:%d/e>", port)}, 412, ""},
		{"CALLBACK host name", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": fmt.Sprintf("<http://localhost:%d/e>", port)}, 412, ""},
		{"CALLBACK credentials", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": fmt.Sprintf("<http://u:p@127.0.0.1:%d/e>", port)}, 412, ""},
		{"CALLBACK port 0", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://127.0.0.1:0/e>"}, 412, ""},
		{"CallStranger: other host", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": fmt.Sprintf("<http://127.0.0.2:%d/e>", port)}, 412, ""},
		{"CallStranger: outside", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://203.0.113.9:80/exfil>"}, 412, ""},
		{"CallStranger: second URL", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": good + "<http://10.1.2.3/e>"}, 412, ""},
		{"five URLs", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": strings.Repeat(good, 5)}, 412, ""},
		{"huge CALLBACK", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://127.0.0.1/" + strings.Repeat("a", 2000) + ">"}, 412, ""},
		{"renew", "SUBSCRIBE", map[string]string{"SID": sid, "TIMEOUT": "Second-100"}, 200, "Second-100"},
		{"renew unknown", "SUBSCRIBE", map[string]string{"SID": "uuid:00000000-0000-4000-8000-000000000000"}, 412, ""},
		{"SID and NT", "SUBSCRIBE", map[string]string{"SID": sid, "NT": "upnp:event"}, 400, ""},
		{"SID and CALLBACK", "SUBSCRIBE", map[string]string{"SID": sid, "CALLBACK": good}, 400, ""},
		{"all three", "SUBSCRIBE", map[string]string{"SID": sid, "NT": "upnp:event", "CALLBACK": good}, 400, ""},
		{"UNSUBSCRIBE no SID", "UNSUBSCRIBE", nil, 412, ""},
		{"UNSUBSCRIBE unknown", "UNSUBSCRIBE", map[string]string{"SID": "uuid:nobody"}, 412, ""},
		{"UNSUBSCRIBE with NT", "UNSUBSCRIBE", map[string]string{"SID": sid, "NT": "upnp:event"}, 400, ""},
		{"UNSUBSCRIBE with CALLBACK", "UNSUBSCRIBE", map[string]string{"SID": sid, "CALLBACK": good}, 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := ps.p.Count()
			resp := ps.request(t, "", tt.method, tt.headers)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s, want %d", resp.Status, tt.status)
			}
			if got := resp.Header.Get("TIMEOUT"); got != tt.timeout {
				t.Errorf("TIMEOUT %q, want %q", got, tt.timeout)
			}
			if tt.status == 200 && tt.headers["SID"] == "" {
				if !sidPattern.MatchString(resp.Header.Get("SID")) || ps.p.Count() != before+1 {
					t.Errorf("SID %q, %d subscriptions after %d", resp.Header.Get("SID"), ps.p.Count(), before)
				}
			} else if ps.p.Count() != before {
				t.Errorf("%d subscriptions, was %d", ps.p.Count(), before)
			}
		})
	}
	resp := ps.request(t, "", "UNSUBSCRIBE", map[string]string{"SID": sid})
	if resp.StatusCode != 200 {
		t.Errorf("UNSUBSCRIBE: %s", resp.Status)
	}
}

// TestCallStrangerSendsNothing checks that a SUBSCRIBE whose CALLBACK
// names another host is refused and that host gets no request, ever.
func TestCallStrangerSendsNothing(t *testing.T) {
	ps := newPubServer(t, &Publisher{})
	ps.run(t)
	victim := newCallbackServer(t, "127.0.0.2")
	for _, cb := range []string{victim.callback("/"), victim.callback("/") + "<http://127.0.0.1:9/>", "<http://127.0.0.1:9/>" + victim.callback("/")} {
		if resp := ps.request(t, "127.0.0.1", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cb}); resp.StatusCode != 412 {
			t.Errorf("CALLBACK %s from 127.0.0.1: %s", cb, resp.Status)
		}
	}
	honest := newCallbackServer(t, "127.0.0.1")
	ps.subscribe(t, "127.0.0.1", honest.callback("/"), "")
	ps.p.Publish([]Property{{"SystemUpdateID", "1"}})
	honest.next(t)
	if n := honest.next(t); n.seq() != "1" {
		t.Fatalf("SEQ %s", n.seq())
	}
	if victim.requests() != 0 {
		t.Errorf("the victim got %d requests", victim.requests())
	}
}

// TestRenewAndExpire uses a fake clock: a renewal counts its TIMEOUT from
// now, an expired subscription is gone and cannot be renewed.
func TestRenewAndExpire(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	ps := newPubServer(t, &Publisher{now: clock.now})
	cs := newCallbackServer(t, "127.0.0.1")
	sid := ps.subscribe(t, "", cs.callback("/"), "Second-100")
	other := ps.subscribe(t, "", cs.callback("/"), "Second-100")
	clock.advance(90 * time.Second)
	resp := ps.request(t, "", "SUBSCRIBE", map[string]string{"SID": sid, "TIMEOUT": "Second-100"})
	if resp.StatusCode != 200 || resp.Header.Get("SID") != sid || resp.Header.Get("TIMEOUT") != "Second-100" {
		t.Fatalf("renew: %s SID %q TIMEOUT %q", resp.Status, resp.Header.Get("SID"), resp.Header.Get("TIMEOUT"))
	}
	clock.advance(10 * time.Second)
	if ps.p.Count() != 2 {
		t.Fatalf("%d subscriptions at 100 s, want 2", ps.p.Count())
	}
	clock.advance(1 * time.Second)
	if ps.p.Count() != 1 {
		t.Fatalf("%d subscriptions at 101 s, want 1 (the renewed)", ps.p.Count())
	}
	if resp := ps.request(t, "", "SUBSCRIBE", map[string]string{"SID": other}); resp.StatusCode != 412 {
		t.Errorf("renewing the expired: %s", resp.Status)
	}
	if resp := ps.request(t, "", "UNSUBSCRIBE", map[string]string{"SID": other}); resp.StatusCode != 412 {
		t.Errorf("unsubscribing the expired: %s", resp.Status)
	}
	clock.advance(90 * time.Second)
	if ps.p.Count() != 0 {
		t.Fatalf("%d subscriptions at 191 s, want 0", ps.p.Count())
	}
}

// TestDeadSubscribersDropped checks that subscribers whose callbacks
// refuse connections, time out or answer 412 are dropped, while a healthy
// subscriber gets every event in order.
func TestDeadSubscribersDropped(t *testing.T) {
	p := &Publisher{notifyTimeout: 200 * time.Millisecond}
	ps := newPubServer(t, p)
	ps.run(t)
	healthy := newCallbackServer(t, "127.0.0.1")
	stalled := newCallbackServer(t, "127.0.0.1")
	stalled.stall = make(chan struct{})
	forgetful := newCallbackServer(t, "127.0.0.1")
	forgetful.status = 412
	erring := newCallbackServer(t, "127.0.0.1")
	erring.status = 500

	ps.subscribe(t, "", healthy.callback("/"), "")
	ps.subscribe(t, "", "<http://"+closedPort(t)+"/>", "")
	ps.subscribe(t, "", stalled.callback("/"), "")
	ps.subscribe(t, "", forgetful.callback("/"), "")
	ps.subscribe(t, "", erring.callback("/"), "")
	testtool.WaitFor(t, "the forgetful subscriber to be dropped", func() bool { return p.Count() == 4 })
	for i := 1; i <= 5; i++ {
		p.Publish([]Property{{"SystemUpdateID", strconv.Itoa(i)}})
	}
	for i := 0; i <= 5; i++ {
		if n := healthy.next(t); n.seq() != strconv.Itoa(i) {
			t.Fatalf("healthy subscriber: SEQ %s, want %d", n.seq(), i)
		}
	}
	testtool.WaitFor(t, "the dead subscribers to be dropped", func() bool { return p.Count() == 1 })
	if n := forgetful.requests(); n != 1 {
		t.Errorf("the forgetful subscriber got %d NOTIFYs, want 1", n)
	}
	if n := erring.requests(); n != maxFailures {
		t.Errorf("the erring subscriber got %d NOTIFYs, want %d", n, maxFailures)
	}
}

// TestSlowSubscriberQueueBounded checks that events pile up for a
// subscriber that does not take them only up to maxQueue: then it is
// dropped.
func TestSlowSubscriberQueueBounded(t *testing.T) {
	p := &Publisher{notifyTimeout: time.Minute}
	ps := newPubServer(t, p)
	ps.run(t)
	slow := newCallbackServer(t, "127.0.0.1")
	slow.stall = make(chan struct{})
	ps.subscribe(t, "", slow.callback("/"), "")
	testtool.WaitFor(t, "the initial NOTIFY to be under way", func() bool { return slow.requests() == 1 })
	for range maxQueue {
		p.Publish([]Property{{"SystemUpdateID", "1"}})
	}
	if p.Count() != 1 {
		t.Fatalf("dropped with %d events queued", maxQueue)
	}
	p.Publish([]Property{{"SystemUpdateID", "1"}})
	if p.Count() != 0 {
		t.Fatalf("not dropped with %d events queued", maxQueue+1)
	}
}

// TestInitialEventAfterAnswer checks the order UDA requires: the answer
// to SUBSCRIBE is flushed before the initial NOTIFY is sent.
func TestInitialEventAfterAnswer(t *testing.T) {
	var mu sync.Mutex
	var log []string
	note := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	sent := make(chan struct{}, 10)
	p := &Publisher{
		State: func() []Property { note("state"); return []Property{{"A", "1"}} },
		client: &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			note(fmt.Sprint("NOTIFY ", r.URL, " SEQ ", r.Header["SEQ"]))
			sent <- struct{}{}
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		})},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	w := &flushRecorder{header: http.Header{}, note: note}
	r, _ := http.NewRequest("SUBSCRIBE", "/evt", nil)
	r.RemoteAddr = "192.0.2.7:40000"
	r.Header.Set("NT", "upnp:event")
	r.Header.Set("CALLBACK", "<http://192.0.2.7:5000/e>")
	p.ServeHTTP(w, r)
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatalf("no NOTIFY; log %q", log)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"answer 200", "flush", "state", "NOTIFY http://192.0.2.7:5000/e SEQ [0]"}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Errorf("order %q, want %q", log, want)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type flushRecorder struct {
	header http.Header
	note   func(string)
}

func (f *flushRecorder) Header() http.Header         { return f.header }
func (f *flushRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (f *flushRecorder) WriteHeader(s int)           { f.note(fmt.Sprint("answer ", s)) }
func (f *flushRecorder) Flush()                      { f.note("flush") }

// TestSeqWraps checks SEQ after 4294967295, on the wire.
func TestSeqWraps(t *testing.T) {
	for _, tt := range [][2]uint32{{0, 1}, {1, 2}, {41, 42}, {4294967294, 4294967295}, {4294967295, 1}} {
		if got := nextSeq(tt[0]); got != tt[1] {
			t.Errorf("nextSeq(%d) = %d, want %d", tt[0], got, tt[1])
		}
	}
	ps := newPubServer(t, &Publisher{})
	ps.run(t)
	cs := newCallbackServer(t, "127.0.0.1")
	sid := ps.subscribe(t, "", cs.callback("/"), "")
	cs.next(t)
	ps.p.mu.Lock()
	ps.p.subs[sid].seq = 4294967294
	ps.p.mu.Unlock()
	for range 3 {
		ps.p.Publish(nil)
	}
	for _, want := range []string{"4294967294", "4294967295", "1"} {
		if n := cs.next(t); n.seq() != want {
			t.Errorf("SEQ %s, want %s", n.seq(), want)
		}
	}
}

// TestSubscribeFlood sends many SUBSCRIBEs at once from one address: only
// MaxPerAddr are taken, the rest get 503, and when the Publisher stops,
// the goroutines are back to what they were.
func TestSubscribeFlood(t *testing.T) {
	cs := newCallbackServer(t, "127.0.0.1")
	p := &Publisher{}
	ps := newPubServer(t, p)
	baseline := runtime.NumGoroutine()
	stop := ps.run(t)

	var ok, busy, other atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				switch resp := ps.request(t, "127.0.0.1", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cs.callback("/")}); resp.StatusCode {
				case 200:
					ok.Add(1)
				case 503:
					busy.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != DefaultMaxPerAddr || busy.Load() != 400-DefaultMaxPerAddr || other.Load() != 0 || p.Count() != DefaultMaxPerAddr {
		t.Errorf("200: %d, 503: %d, other: %d, %d subscriptions", ok.Load(), busy.Load(), other.Load(), p.Count())
	}
	for range DefaultMaxPerAddr {
		cs.next(t)
	}
	for range 100 {
		p.Publish([]Property{{"SystemUpdateID", "1"}})
	}
	stop()
	if p.Count() != 0 {
		t.Errorf("%d subscriptions after Run", p.Count())
	}
	if resp := ps.request(t, "127.0.0.1", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cs.callback("/")}); resp.StatusCode != 503 {
		t.Errorf("SUBSCRIBE after Run: %s", resp.Status)
	}
	testtool.WaitFor(t, fmt.Sprintf("goroutines back to %d", baseline), func() bool { return runtime.NumGoroutine() <= baseline })
}

// TestTotalLimit fills MaxTotal from several source addresses.
func TestTotalLimit(t *testing.T) {
	p := &Publisher{MaxTotal: 5, MaxPerAddr: 2}
	ps := newPubServer(t, p)
	ps.run(t)
	var statuses []int
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		cs := newCallbackServer(t, ip)
		for range 3 {
			resp := ps.request(t, ip, "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": cs.callback("/")})
			statuses = append(statuses, resp.StatusCode)
		}
	}
	if want := []int{200, 200, 503, 200, 200, 503, 200, 503, 503}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if p.Count() != 5 {
		t.Errorf("%d subscriptions", p.Count())
	}
}

// TestIPv6Subscriber subscribes from ::1 with a callback on [::1].
func TestIPv6Subscriber(t *testing.T) {
	cs := newCallbackServer(t, "::1")
	p := &Publisher{}
	ps := newPubServerOn(t, p, "::1")
	ps.run(t)
	sid := ps.subscribe(t, "::1", cs.callback("/v6"), "")
	n := cs.next(t)
	if n.Header.Get("SID") != sid || n.Path != "/v6" {
		t.Errorf("NOTIFY %s SID %s", n.Path, n.Header.Get("SID"))
	}
	mapped := newCallbackServer(t, "127.0.0.1")
	if resp := ps.request(t, "::1", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": mapped.callback("/")}); resp.StatusCode != 412 {
		t.Errorf("an IPv4 callback from ::1: %s", resp.Status)
	}
}

// TestRunOnce checks that a second Run is refused, and that events queued
// before Run wait for it.
func TestRunOnce(t *testing.T) {
	p := &Publisher{State: func() []Property { return []Property{{"SystemUpdateID", "5"}} }}
	ps := newPubServer(t, p)
	cs := newCallbackServer(t, "127.0.0.1")
	ps.subscribe(t, "", cs.callback("/"), "")
	p.Publish([]Property{{"SystemUpdateID", "6"}})
	ps.run(t)
	testtool.WaitFor(t, "Run to start", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.ctx != nil
	})
	if err := p.Run(context.Background()); err != ErrRunning {
		t.Errorf("second Run = %v", err)
	}
	for i, want := range []string{"5", "6"} {
		n := cs.next(t)
		if n.seq() != strconv.Itoa(i) || n.props(t)["SystemUpdateID"] != want {
			t.Errorf("event %d: SEQ %s %v", i, n.seq(), n.props(t))
		}
	}
}

func TestPropertySet(t *testing.T) {
	p := &Publisher{}
	body := string(p.propertySet([]Property{
		{"SystemUpdateID", "1"},
		{"Odd", `<&>"' ` + "\xff\x01"},
		{"bad name", "x"},
		{"1st", "x"},
		{"", "x"},
		{"X_Ok-1.2", ""},
	}))
	got := notice{Body: body}.props(t)
	if len(got) != 3 || got["SystemUpdateID"] != "1" || got["Odd"] != `<&>"' `+"\uFFFD\uFFFD" || got["X_Ok-1.2"] != "" {
		t.Errorf("properties %q from\n%s", got, body)
	}
}

func TestParseTimeout(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want time.Duration
	}{
		{"Second-1", time.Second},
		{"Second-1800", 1800 * time.Second},
		{"Second-1801", 1800 * time.Second},
		{"SECOND-20", 20 * time.Second},
		{" Second-20 ", 20 * time.Second},
		{"Second-4294967295", 1800 * time.Second},
		{"Second-4294967296", 1800 * time.Second},
		{"infinite", 1800 * time.Second},
		{"Second-infinite", 1800 * time.Second},
		{"", 1800 * time.Second},
		{"Second-", 1800 * time.Second},
		{"Second-+5", 1800 * time.Second},
		{"Minute-5", 1800 * time.Second},
	} {
		if got := parseTimeout(tt.v, 1800*time.Second); got != tt.want {
			t.Errorf("parseTimeout(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// FuzzParseCallback checks that no CALLBACK panics parseCallback and that
// every URL it accepts goes to the subscriber's own address.
func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{
		"<http://10.0.0.5:49152/evt>", "<http://10.0.0.5/a><http://10.0.0.5:1/b>", "<http://[::ffff:10.0.0.5]:80/>",
		"<http://10.0.0.6/>", "<http://10.0.0.5:99999/>", "<http://10.0.0.5%25eth0/>", "<http://10.0.0.5#frag>", "<<>>",
	} {
		f.Add(s)
	}
	from := netipMustParse("10.0.0.5")
	f.Fuzz(func(t *testing.T, v string) {
		urls, err := parseCallback(v, from)
		if err != nil {
			return
		}
		if len(urls) == 0 || len(urls) > maxCallbacks {
			t.Fatalf("%d URLs", len(urls))
		}
		for _, u := range urls {
			if u.Scheme != "http" || u.Hostname() != "10.0.0.5" || u.User != nil {
				t.Fatalf("parseCallback(%q) gave %s", v, u)
			}
		}
	})
}
