package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The churning clients. Each loops over a random mix of what players and
// file managers do, until the soak's deadline; an action still running at
// the deadline is cut (its connections closed) and counted as cut, not as
// an error.

// action is one thing a client does, from connect to disconnect.
type action struct {
	name   string
	weight int
	run    func(w *worker, ctx context.Context) error
}

// actions is the mix. The weights are chosen so that about half the
// sessions move file data.
var actions = []action{
	{"stream", 12, (*worker).stream},
	{"seek", 25, (*worker).seek},
	{"list", 15, (*worker).list},
	{"meta", 10, (*worker).meta},
	{"drop", 10, (*worker).drop},
	{"idle", 8, (*worker).idle},
	{"no-login", 20, (*worker).noLogin},
}

// stats are the counts of all clients.
type stats struct {
	sessions   atomic.Int64 // control connections made
	bytes      atomic.Int64 // file and listing bytes received and verified
	seeks      atomic.Int64 // REST+RETR
	aborts     [3]atomic.Int64
	drops      atomic.Int64
	mismatches atomic.Int64 // byte or listing mismatches
	cut        atomic.Int64 // actions cut by the deadline

	mu      sync.Mutex
	ops     map[string]int64
	errors  map[string]int64 // unexpected errors by kind
	samples map[string]string
}

func newStats() *stats {
	return &stats{ops: map[string]int64{}, errors: map[string]int64{}, samples: map[string]string{}}
}

func (s *stats) op(name string) {
	s.mu.Lock()
	s.ops[name]++
	s.mu.Unlock()
}

// errMismatch marks received bytes that differ from the file's.
var errMismatch = errors.New("mismatch")

// fail records an unexpected error of an action, by kind: the action and
// the kind of failure.
func (s *stats) fail(act string, err error) {
	kind := act + ": " + errKind(err)
	if errors.Is(err, errMismatch) {
		s.mismatches.Add(1)
	}
	s.mu.Lock()
	s.errors[kind]++
	if _, ok := s.samples[kind]; !ok {
		s.samples[kind] = err.Error()
	}
	s.mu.Unlock()
}

// errKind names the kind of an error for the report.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errMismatch):
		return "bytes differ"
	case errors.Is(err, errReply):
		return "wrong reply"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	default:
		var oe *net.OpError
		if errors.As(err, &oe) {
			return "network error (" + oe.Op + ")"
		}
		return "other"
	}
}

// worker is one churning client.
type worker struct {
	addr  string
	tree  *tree
	st    *stats
	rng   *rand.Rand
	buf   []byte // read buffer
	want  []byte // expected bytes
	rates [2]float64

	mu    sync.Mutex
	conns []io.Closer // open connections, closed if the deadline cuts the action
}

// track registers a connection to close at the deadline.
func (w *worker) track(c io.Closer) {
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
}

// closeAll closes every connection of the running action.
func (w *worker) closeAll() {
	w.mu.Lock()
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = w.conns[:0]
	w.mu.Unlock()
}

// loop runs actions until ctx ends.
func (w *worker) loop(ctx context.Context) {
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	for ctx.Err() == nil {
		n := w.rng.IntN(total)
		a := actions[0]
		for _, a = range actions {
			if n < a.weight {
				break
			}
			n -= a.weight
		}
		stop := context.AfterFunc(ctx, w.closeAll)
		err := a.run(w, ctx)
		stop()
		w.closeAll()
		switch {
		case ctx.Err() != nil:
			if err != nil {
				w.st.cut.Add(1)
			} else {
				w.st.op(a.name)
			}
		case err != nil:
			w.st.fail(a.name, err)
		default:
			w.st.op(a.name)
		}
	}
}

// session connects; with login set it also logs in.
func (w *worker) session(ctx context.Context, login bool) (*conn, error) {
	c, err := dial(ctx, w.addr)
	if err != nil {
		return nil, err
	}
	w.track(c)
	w.st.sessions.Add(1)
	c.EPSV = w.rng.IntN(2) == 0
	if login {
		if err := c.login(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (w *worker) pickBig() *mediaFile { return &w.tree.big[w.rng.IntN(len(w.tree.big))] }

// retr opens a data connection and starts RETR of f at off.
func (w *worker) retr(ctx context.Context, c *conn, f *mediaFile, off int64) (*net.TCPConn, error) {
	data, err := c.OpenData(ctx)
	if err != nil {
		return nil, err
	}
	w.track(data)
	if off > 0 {
		if _, err := c.CmdExpect("REST "+strconv.FormatInt(off, 10), 350); err != nil {
			return nil, err
		}
		w.st.seeks.Add(1)
	}
	return data, c.TransferStart("RETR " + f.vpath)
}

// readVerify reads n bytes of f from off (all to the end when n < 0) at
// rate bytes per second (0: unthrottled) and checks each against the
// file's content. It returns the bytes read; at the end of the file it
// expects EOF.
func (w *worker) readVerify(data *net.TCPConn, f *mediaFile, off, n int64, rate float64) (int64, error) {
	end := f.size
	if n >= 0 {
		end = min(f.size, off+n)
	}
	start := time.Now()
	var got int64
	for off+got < end {
		chunk := w.buf[:min(int64(len(w.buf)), end-off-got)]
		data.SetReadDeadline(time.Now().Add(opTimeout))
		k, err := data.Read(chunk)
		if k > 0 {
			fillContent(f.seed, off+got, w.want[:k])
			if !bytes.Equal(chunk[:k], w.want[:k]) {
				i := 0
				for chunk[i] == w.want[i] {
					i++
				}
				return got, fmt.Errorf("%w: %s byte %d: got %#x, want %#x", errMismatch, f.vpath, off+got+int64(i), chunk[i], w.want[i])
			}
			got += int64(k)
			w.st.bytes.Add(int64(k))
		}
		if err != nil {
			return got, fmt.Errorf("data after %d bytes of %s from %d: %w", got, f.vpath, off, err)
		}
		if rate > 0 {
			if ahead := time.Duration(float64(got)/rate*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	if end == f.size {
		// The server must close the data connection after the last byte.
		data.SetReadDeadline(time.Now().Add(opTimeout))
		if k, err := data.Read(w.buf[:1]); k > 0 || !errors.Is(err, io.EOF) {
			return got, fmt.Errorf("%w: %s: %d bytes or %v after its end, want EOF", errMismatch, f.vpath, k, err)
		}
	}
	return got, nil
}

// stream plays a whole file at a player's rate and quits; now and then a
// small file, as a photo viewer does.
func (w *worker) stream(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	f, rate := w.pickBig(), w.rates[0]+w.rng.Float64()*(w.rates[1]-w.rates[0])
	if w.rng.IntN(4) == 0 {
		f, rate = &w.tree.small[w.rng.IntN(len(w.tree.small))], 0
	}
	data, err := w.retr(ctx, c, f, 0)
	if err != nil {
		return err
	}
	if _, err := w.readVerify(data, f, 0, -1, rate); err != nil {
		return err
	}
	data.Close()
	if _, err := c.Expect(226); err != nil {
		return fmt.Errorf("after RETR: %w", err)
	}
	return c.Quit()
}

// seek does what ffmpeg and VLC do when the user skips around: on one
// session, several times, REST and RETR, read a few MiB, ABOR.
func (w *worker) seek(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	f := w.pickBig()
	text, err := c.CmdExpect("SIZE "+f.vpath, 213)
	if err != nil {
		return err
	}
	if text != "213 "+strconv.FormatInt(f.size, 10) {
		return fmt.Errorf("%w: SIZE %s: %q, want %d", errMismatch, f.vpath, text, f.size)
	}
	for range 2 + w.rng.IntN(4) {
		n := int64(1+w.rng.IntN(4)) << 20
		n = min(n, f.size/2)
		off := w.rng.Int64N(f.size - n)
		data, err := w.retr(ctx, c, f, off)
		if err != nil {
			return err
		}
		if _, err := w.readVerify(data, f, off, n, 0); err != nil {
			return err
		}
		mode := abortMode(w.rng.IntN(3))
		if err := c.abort(data, mode); err != nil {
			return fmt.Errorf("%v: %w", mode, err)
		}
		w.st.aborts[mode].Add(1)
		if _, err := c.CmdExpect("NOOP", 200); err != nil {
			return fmt.Errorf("after %v: %w", mode, err)
		}
	}
	return c.Quit()
}

// listRe takes the name from a LIST line: mode, links, owner, group,
// size, month, day, time or year, name.
var listRe = regexp.MustCompile(`^[-d][-rwx]{9} +\d+ +\S+ +\S+ +\d+ +[A-Z][a-z]{2} +\d{1,2} +(?:\d\d:\d\d|\d{4}) (.+)$`)

// list lists a big or small folder with LIST, MLSD or NLST and checks
// the names against the tree.
func (w *worker) list(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	dirs := make([]string, 0, len(w.tree.dirs))
	for d := range w.tree.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	dir := dirs[w.rng.IntN(len(dirs))]
	if w.rng.IntN(3) == 0 {
		dir = "/media/many"
	}
	verb := []string{"LIST", "MLSD", "NLST"}[w.rng.IntN(3)]
	data, err := c.OpenData(ctx)
	if err != nil {
		return err
	}
	w.track(data)
	if err := c.TransferStart(verb + " " + dir); err != nil {
		return err
	}
	data.SetReadDeadline(time.Now().Add(opTimeout))
	body, err := io.ReadAll(data)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, dir, err)
	}
	w.st.bytes.Add(int64(len(body)))
	if _, err := c.Expect(226); err != nil {
		return fmt.Errorf("after %s: %w", verb, err)
	}
	var names []string
	for _, line := range strings.SplitAfter(string(body), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\r\n") {
			return fmt.Errorf("%w: %s %s: line %q does not end in CRLF", errMismatch, verb, dir, line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		name := line
		switch verb {
		case "LIST":
			m := listRe.FindStringSubmatch(line)
			if m == nil {
				return fmt.Errorf("%w: LIST %s: malformed line %q", errMismatch, dir, line)
			}
			name = m[1]
		case "MLSD":
			_, n, ok := strings.Cut(line, "; ")
			if !ok {
				return fmt.Errorf("%w: MLSD %s: malformed line %q", errMismatch, dir, line)
			}
			if strings.Contains(line, "type=cdir") || strings.Contains(line, "type=pdir") {
				continue
			}
			name = n
		case "NLST":
			name = path.Base(line)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if want := w.tree.dirs[dir]; !slices.Equal(names, want) {
		return fmt.Errorf("%w: %s %s: %d names, want %d", errMismatch, verb, dir, len(names), len(want))
	}
	return c.Quit()
}

var mdtmRe = regexp.MustCompile(`^213 \d{14}$`)

// meta asks SIZE and MDTM of a few files, as file managers do.
func (w *worker) meta(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	for range 1 + w.rng.IntN(6) {
		f := w.pickBig()
		if w.rng.IntN(2) == 0 {
			f = &w.tree.small[w.rng.IntN(len(w.tree.small))]
		}
		text, err := c.CmdExpect("SIZE "+f.vpath, 213)
		if err != nil {
			return err
		}
		if text != "213 "+strconv.FormatInt(f.size, 10) {
			return fmt.Errorf("%w: SIZE %s: %q, want %d", errMismatch, f.vpath, text, f.size)
		}
		if text, err = c.CmdExpect("MDTM "+f.vpath, 213); err != nil {
			return err
		}
		if !mdtmRe.MatchString(text) {
			return fmt.Errorf("%w: MDTM %s: %q", errMismatch, f.vpath, text)
		}
	}
	return c.Quit()
}

// drop starts a transfer, reads a little, and goes away without QUIT or
// ABOR, as Kodi does when the user stops a film.
func (w *worker) drop(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	f := w.pickBig()
	off := int64(0)
	if w.rng.IntN(2) == 0 {
		off = w.rng.Int64N(f.size / 2)
	}
	data, err := w.retr(ctx, c, f, off)
	if err != nil {
		return err
	}
	if _, err := w.readVerify(data, f, off, int64(1+w.rng.IntN(8))<<20, 0); err != nil {
		return err
	}
	// Control first or data first: players do both.
	if w.rng.IntN(2) == 0 {
		c.Close()
		data.Close()
	} else {
		data.Close()
		c.Close()
	}
	w.st.drops.Add(1)
	return nil
}

// idle logs in and stays idle a while (well within the idle timeout), as
// a paused player's control connection does, then checks the session.
func (w *worker) idle(ctx context.Context) error {
	c, err := w.session(ctx, true)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(1+w.rng.IntN(15)) * time.Second):
	}
	if _, err := c.CmdExpect("NOOP", 200); err != nil {
		return err
	}
	return c.Quit()
}

// noLogin connects and leaves without logging in: scanners, phones
// probing, a player that changed its mind.
func (w *worker) noLogin(ctx context.Context) error {
	c, err := w.session(ctx, false)
	if err != nil {
		return err
	}
	switch w.rng.IntN(3) {
	case 0:
		return c.Close()
	case 1:
		return c.Quit()
	default:
		// USER, then vanish before PASS.
		if _, _, err := c.Cmd("USER anonymous"); err != nil {
			return err
		}
		return c.Close()
	}
}
