package ftpd

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// resources is what a flood of connections could leak.
type resources struct {
	goroutines int
	fds        int
	heap       uint64 // bytes in use after a GC
}

func measure(t *testing.T) resources {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting open files needs /proc: %v", err)
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: len(fds), heap: ms.HeapAlloc}
}

func (r resources) String() string {
	return strings.Join([]string{
		"goroutines=" + itoa(r.goroutines),
		"fds=" + itoa(r.fds),
		"heap=" + itoa(int(r.heap>>10)) + "KiB",
	}, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// flood is the client side of a flood: the connections that are held
// until release, and what the server answered.
type flood struct {
	t       *testing.T
	addr    string
	release chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	live     map[string]int // admitted connections open per local IP
	total    int            // admitted connections open
	admitted int
	refused  int
}

// dial connects from ip and, if admitted, plays role with the session;
// held sessions stay open until release.
func (f *flood) dial(ip string, role int, held int) {
	defer f.wg.Done()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", f.addr)
	if err != nil {
		f.t.Errorf("dial from %s: %v", ip, err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cc := &ctrl{t: f.t, c: c, r: bufio.NewReader(c)}
	line, err := cc.r.ReadString('\n')
	if err != nil {
		f.t.Errorf("greeting from %s: %v (%q)", ip, err, line)
		return
	}
	if strings.HasPrefix(line, "421 ") {
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		if rest, err := io.ReadAll(cc.r); err != nil || len(rest) != 0 {
			f.t.Errorf("refused connection from %s not closed: %q, %v", ip, rest, err)
		}
		return
	}
	if !strings.HasPrefix(line, "220 ") {
		f.t.Errorf("greeting from %s: %q", ip, line)
		return
	}
	// The server counted this connection, and it counts those not yet
	// closed on our side at least: so neither limit may be exceeded here.
	f.mu.Lock()
	f.admitted++
	f.live[ip]++
	f.total++
	if f.live[ip] > held {
		f.t.Errorf("%d sessions from %s admitted, over MaxPerIP %d", f.live[ip], ip, held)
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.live[ip]--
		f.total--
		f.mu.Unlock()
	}()

	say := func(line string) (int, string) {
		if _, err := io.WriteString(c, line+"\r\n"); err != nil {
			return 0, err.Error()
		}
		code, raw, err := cc.tryReply()
		if err != nil {
			return 0, err.Error()
		}
		return code, raw
	}
	switch role % 4 {
	case 0: // logs in and idles
		if code, raw := say("USER anonymous"); code != 331 {
			f.t.Errorf("USER: %q", raw)
		}
		if code, raw := say("PASS guest@"); code != 230 {
			f.t.Errorf("PASS: %q", raw)
		}
	case 1: // garbage
		for _, g := range []string{"\x00\x01\xff", "GET / HTTP/1.1", "\x1b[2J"} {
			if code, raw := say(g); code != 500 {
				f.t.Errorf("garbage %q: %q", g, raw)
			}
		}
	case 2: // idles without a word
	case 3: // starts a big RETR and drops it
		say("USER anonymous")
		say("PASS guest@")
		code, raw := say("EPSV")
		m := epsvRe.FindStringSubmatch(raw)
		if code != 229 || m == nil {
			f.t.Errorf("EPSV: %q", raw)
			return
		}
		// From the control connection's address, as the server demands.
		dc, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", m[1]))
		if err != nil {
			f.t.Errorf("data connection: %v", err)
			return
		}
		defer dc.Close()
		if code, raw := say("RETR /Media/film.mkv"); code != 150 {
			f.t.Errorf("RETR: %q", raw)
			return
		}
		dc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(dc, make([]byte, 64<<10)); err != nil {
			f.t.Errorf("reading the film: %v", err)
		}
		return // dropped without ABOR or QUIT
	}
	<-f.release
}

// TestFloodReturnsToBaseline opens hundreds of connections at once from
// twenty addresses, some logging in, some sending garbage, some idle, some
// dropping a transfer, and checks that those over the limits get 421, that
// a normal client is served throughout, and that once they are gone the
// server is back to the goroutines, open files and memory it had before.
func TestFloodReturnsToBaseline(t *testing.T) {
	const maxClients, maxPerIP = 50, 20
	ts, dir := newTestServer(t, func(s *Server) {
		s.MaxClients, s.MaxPerIP = maxClients, maxPerIP
		s.Logger = slog.New(slog.DiscardHandler) // t.Log would keep it all in memory
	})
	bigSparse(t, dir, "film.mkv", 8<<30)
	writeFile(t, dir, "a.mkv", "hello")
	normal := login(t, ts.Addr)
	if got := normal.retr("/Media/a.mkv"); got != "hello" {
		t.Fatalf("RETR = %q", got)
	}
	base := measure(t)

	f := &flood{t: t, addr: ts.Addr, release: make(chan struct{}), live: map[string]int{"127.0.0.1": 1}, total: 1}
	// First one address over its own limit, the total far from its own.
	f.wg.Add(maxPerIP + 5)
	for range maxPerIP + 5 {
		go f.dial("127.0.0.3", 0, maxPerIP)
	}
	waitFor(t, "the per-address flood to be answered", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.admitted+f.refused == maxPerIP+5
	})
	if f.admitted != maxPerIP || f.refused != 5 {
		t.Errorf("from one address: %d admitted, %d refused; want %d and 5", f.admitted, f.refused, maxPerIP)
	}

	// Then 300 at once from 127.0.0.1 to 127.0.0.20.
	const n = 300
	var peakSessions atomic.Int32
	f.wg.Add(n)
	for i := range n {
		ip := "127.0.0." + itoa(1+i%20)
		go f.dial(ip, i/20, maxPerIP)
	}
	answered := func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.admitted+f.refused == maxPerIP+5+n
	}
	for i := 0; !answered(); i++ {
		if s := int32(ts.sessionCount()); s > peakSessions.Load() {
			peakSessions.Store(s)
		}
		if i%10 == 0 { // the normal client is served meanwhile
			if got := normal.retr("/Media/a.mkv"); got != "hello" {
				t.Errorf("RETR during the flood = %q", got)
			}
		}
		time.Sleep(5 * time.Millisecond)
		if i > 6000 {
			t.Fatal("the flood was not answered in 30 s")
		}
	}
	if got := normal.retr("/Media/a.mkv"); got != "hello" {
		t.Errorf("RETR at the peak = %q", got)
	}
	peak := measure(t)
	f.mu.Lock()
	if f.total > maxClients {
		t.Errorf("%d sessions open at once, over MaxClients %d", f.total, maxClients)
	}
	t.Logf("flood: %d connections, %d admitted, %d refused with 421, at most %d sessions seen", maxPerIP+5+n, f.admitted, f.refused, peakSessions.Load())
	if f.refused < n-maxClients {
		t.Errorf("only %d connections refused", f.refused)
	}
	f.mu.Unlock()
	if p := peakSessions.Load(); p > maxClients {
		t.Errorf("%d sessions at once, over MaxClients %d", p, maxClients)
	}

	close(f.release)
	f.wg.Wait()
	waitFor(t, "the flood's sessions to end", func() bool { return ts.sessionCount() == 1 })
	var final resources
	waitFor(t, "goroutines, files and heap back to the baseline", func() bool {
		final = measure(t)
		return final.goroutines <= base.goroutines+5 && final.fds <= base.fds+5 && final.heap <= base.heap+2<<20
	})
	t.Logf("baseline %v; peak %v; after %v", base, peak, final)
	normal.cmd("NOOP", 200)
	if got := normal.retr("/Media/a.mkv"); got != "hello" {
		t.Errorf("RETR after the flood = %q", got)
	}
}
