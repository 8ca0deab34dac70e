package dlna

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/gena"
	"github.com/mediaftpd/mediaftpd/library"
)

func propsMap(props []gena.Property) map[string]string {
	m := map[string]string{}
	for _, p := range props {
		m[p.Name] = p.Value
	}
	return m
}

func TestUpdateTracker(t *testing.T) {
	u := newUpdateTracker(newMemState(), "", slog.New(slog.DiscardHandler))
	t0 := testTime
	if u.systemID() != 1 || u.containerID("0/M") != 1 {
		t.Fatalf("fresh tracker: %d %d", u.systemID(), u.containerID("0/M"))
	}
	if _, ok := u.due(t0); ok {
		t.Fatal("an event is due with nothing changed")
	}
	// The first change after a quiet spell goes at once.
	u.changed([]string{"0/M/a", "0/M"})
	if at, ok := u.due(t0); !ok || !at.Equal(t0) {
		t.Fatalf("due %v %v, want now", at, ok)
	}
	ev := propsMap(u.take(t0))
	if ev["SystemUpdateID"] != "2" || ev["ContainerUpdateIDs"] != "0/M,2,0/M/a,2" {
		t.Errorf("first event %v", ev)
	}
	// Changes within eventInterval wait for it, and go as one event.
	u.changed([]string{"0/M/a"})
	u.changed([]string{"0/M/b"})
	if at, ok := u.due(t0.Add(500 * time.Millisecond)); !ok || !at.Equal(t0.Add(eventInterval)) {
		t.Fatalf("due %v %v, want %v", at, ok, t0.Add(eventInterval))
	}
	if u.containerID("0/M/a") != 3 || u.containerID("0/M/b") != 4 || u.containerID("0/M") != 2 || u.containerID("0/X") != 1 {
		t.Errorf("container IDs %d %d %d %d", u.containerID("0/M/a"), u.containerID("0/M/b"), u.containerID("0/M"), u.containerID("0/X"))
	}
	ev = propsMap(u.take(t0.Add(eventInterval)))
	if ev["SystemUpdateID"] != "4" || ev["ContainerUpdateIDs"] != "0/M/a,3,0/M/b,4" {
		t.Errorf("moderated event %v", ev)
	}
	// Later than eventInterval after the last event: at once again.
	u.changed([]string{"R"})
	if at, _ := u.due(t0.Add(time.Minute)); !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("due %v after a quiet minute", at)
	}
	u.take(t0.Add(time.Minute))
	// Too many containers: forgotten ones report the current value,
	// never less than before.
	before := u.containerID("0/M/a")
	for i := range maxTrackedContainers + 1 {
		u.changed([]string{"0/F/" + strconv.Itoa(i)})
	}
	if got := u.containerID("0/M/a"); got < before || got != u.floor {
		t.Errorf("forgotten container: %d (was %d, floor %d)", got, before, u.floor)
	}
	ev = propsMap(u.take(t0.Add(2 * time.Minute)))
	if n := strings.Count(ev["ContainerUpdateIDs"], ",") + 1; n != 2*maxPendingContainers {
		t.Errorf("event lists %d values, want %d", n, 2*maxPendingContainers)
	}
}

func TestUpdateIDKeptAcrossRestarts(t *testing.T) {
	st := openStore(t, t.TempDir())
	quiet := slog.New(slog.DiscardHandler)
	last := uint32(0)
	for run := range 3 {
		u := newUpdateTracker(st, "", quiet)
		if u.systemID() <= last {
			t.Fatalf("run %d starts at %d, not above %d", run, u.systemID(), last)
		}
		for range updateIDReserve + 5 { // past one reservation
			u.changed([]string{"0"})
		}
		last = u.systemID()
	}
	// A damaged value starts over at 1.
	st.SetValue(valueUpdateID, []byte("x"))
	if u := newUpdateTracker(st, "", quiet); u.systemID() != 1 {
		t.Errorf("damaged value: %d", u.systemID())
	}
	// The value of an earlier version's file is taken when the store has
	// none, and kept in the store.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, updateIDFile), []byte("5000\n"), 0o644)
	st2 := openStore(t, t.TempDir())
	if u := newUpdateTracker(st2, dir, quiet); u.systemID() != 5000 {
		t.Errorf("from the old file: %d", u.systemID())
	}
	if v, _ := st2.Value(valueUpdateID); string(v) != "6000" {
		t.Errorf("the store keeps %q", v)
	}
}

func TestChangedContainers(t *testing.T) {
	names := func() []string { return []string{"Movies", "TV Shows"} }
	tests := []struct {
		changes []library.Change
		want    []string
	}{
		{nil, []string{}},
		{[]library.Change{{Share: "Movies", Dir: "Kids/Cartoons"}}, []string{"0/Movies/Kids", "0/Movies/Kids/Cartoons", "R"}},
		{[]library.Change{{Share: "Movies", Dir: "Kids"}}, []string{"0/Movies", "0/Movies/Kids", "R"}},
		{[]library.Change{{Share: "TV Shows", Dir: "."}}, []string{"0", "0/TV%20Shows", "R"}},
		{[]library.Change{{}}, []string{"0", "0/Movies", "0/TV%20Shows", "R"}},
		{[]library.Change{{Share: "Movies", Dir: "a"}, {Share: "Movies", Dir: "b"}}, []string{"0/Movies", "0/Movies/a", "0/Movies/b", "R"}},
	}
	for _, tt := range tests {
		if got := changedContainers(tt.changes, names); !slices.Equal(got, tt.want) {
			t.Errorf("changedContainers(%v) = %q, want %q", tt.changes, got, tt.want)
		}
	}
}

// notification is a NOTIFY received by a test subscriber.
type notification struct {
	seq   int
	props map[string]string
	at    time.Time
}

// subscribe subscribes to the service's events from 127.0.0.1 and returns
// the NOTIFYs received.
func subscribe(t *testing.T, base, svc string) <-chan notification {
	t.Helper()
	ch := make(chan notification, 64)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ps struct {
			Props []struct {
				Inner []struct {
					XMLName xml.Name
					Value   string `xml:",chardata"`
				} `xml:",any"`
			} `xml:"property"`
		}
		if r.Method != "NOTIFY" || xml.Unmarshal(body, &ps) != nil {
			t.Errorf("bad notification %s %q", r.Method, body)
		}
		n := notification{props: map[string]string{}, at: time.Now()}
		n.seq, _ = strconv.Atoi(r.Header.Get("SEQ"))
		for _, p := range ps.Props {
			for _, v := range p.Inner {
				n.props[v.XMLName.Local] = v.Value
			}
		}
		ch <- n
	}))
	t.Cleanup(cb.Close)
	req, _ := http.NewRequest("SUBSCRIBE", base+"/event/"+svc, nil)
	req.Header.Set("CALLBACK", "<"+cb.URL+"/notify>")
	req.Header.Set("NT", "upnp:event")
	req.Header.Set("TIMEOUT", "Second-300")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("SID"), "uuid:") {
		t.Fatalf("SUBSCRIBE: %d, SID %q", resp.StatusCode, resp.Header.Get("SID"))
	}
	return ch
}

func next(t *testing.T, ch <-chan notification, what string) notification {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(30 * time.Second):
		t.Fatalf("no event: %s", what)
	}
	return notification{}
}

func TestInitialEvents(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	tests := []struct {
		svc  string
		want map[string]string
	}{
		{"ContentDirectory", map[string]string{"SystemUpdateID": "1", "ContainerUpdateIDs": ""}},
		{"ConnectionManager", map[string]string{"SinkProtocolInfo": "", "CurrentConnectionIDs": "0"}},
		{"X_MS_MediaReceiverRegistrar", map[string]string{"AuthorizationGrantedUpdateID": "0", "ValidationRevokedUpdateID": "0"}},
	}
	for _, tt := range tests {
		n := next(t, subscribe(t, ts.base, tt.svc), tt.svc+" initial event")
		if n.seq != 0 {
			t.Errorf("%s: SEQ %d", tt.svc, n.seq)
		}
		for k, v := range tt.want {
			if got, ok := n.props[k]; !ok || got != v {
				t.Errorf("%s: %s = %q (%v), want %q", tt.svc, k, got, ok, v)
			}
		}
	}
	if st := ts.Status(); st.Subscriptions != 3 {
		t.Errorf("Status().Subscriptions = %d", st.Subscriptions)
	}
}

// TestEventsFromLibrary runs the server over a real, running
// library.Set: a file copied into a folder reaches a subscriber as a
// ContainerUpdateIDs naming that folder, and Browse lists it.
func TestEventsFromLibrary(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "Films"), 0o755)
	os.WriteFile(filepath.Join(dir, "Films", "Old.mkv"), []byte("old"), 0o644)
	set, err := library.NewSet(library.Share{Name: "Media", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	set.Logger = slog.New(slog.DiscardHandler)
	set.Settle = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- set.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-runDone
	})
	waitFor(t, "the first scan", func() bool {
		_, err := set.Entry("Media", "Films/Old.mkv", library.AllFiles)
		return err == nil
	})
	ts := newTestServer(t, &Server{Content: set})
	events := subscribe(t, ts.base, "ContentDirectory")
	first := next(t, events, "initial")
	sys0, _ := strconv.Atoi(first.props["SystemUpdateID"])

	start := time.Now()
	if err := os.WriteFile(filepath.Join(dir, "Films", "New.mkv"), []byte("new film"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got notification
	for {
		got = next(t, events, "ContainerUpdateIDs for Films")
		if strings.Contains(got.props["ContainerUpdateIDs"], "0/Media/Films,") {
			break
		}
	}
	t.Logf("file written to event received: %v (index settle %v)", got.at.Sub(start), set.Settle)
	sys1, _ := strconv.Atoi(got.props["SystemUpdateID"])
	if sys1 <= sys0 || got.seq < 1 {
		t.Errorf("SystemUpdateID %d after %d, SEQ %d", sys1, sys0, got.seq)
	}
	ids := strings.Split(got.props["ContainerUpdateIDs"], ",")
	for i := 0; i+1 < len(ids); i += 2 {
		if ids[i] == "0/Media/Films" {
			if v, _ := strconv.Atoi(ids[i+1]); v < 1 || v > sys1 {
				t.Errorf("Films's update ID %d, SystemUpdateID %d", v, sys1)
			}
		}
	}
	b := browse(t, ts.base, "0/Media/Films", "BrowseDirectChildren", 0, 0, "")
	if !slices.Equal(titles(b.objects), []string{"New", "Old"}) {
		t.Errorf("Films lists %q", titles(b.objects))
	}
	r := soap(t, ts.base, "ContentDirectory", "GetSystemUpdateID", nil)
	if id, err := strconv.Atoi(r.out["Id"]); err != nil || id < sys1 {
		t.Errorf("GetSystemUpdateID %q after an event with %d", r.out["Id"], sys1)
	}
	// The new file streams.
	resp, body := get(t, "GET", ts.base+"/m/Media/Films/New.mkv", nil)
	if resp.StatusCode != 200 || string(body) != "new film" {
		t.Errorf("stream: %d %q", resp.StatusCode, body)
	}
}
