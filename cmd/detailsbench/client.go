package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The FTP clients of figure 3: a player that streams a film at a paced
// rate (read, then sleep until the schedule says so), and one that seeks
// (REST + RETR to the first byte, as cmd/ftpbench's seek workload does).
// Both check the bytes they get against the file.

// bigPath is the streamed file's FTP path.
const bigPath = "/films/" + bigName

// login dials and logs in anonymously, in binary mode.
func login(ctx context.Context, addr string) (*rawftp.Conn, error) {
	c, err := rawftp.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if err := c.Login("detailsbench@"); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.CmdExpect("TYPE I", 200); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// abortAfterClose ends a transfer whose data connection the client has
// closed, as a player that seeks does: ABOR, then both replies.
func abortAfterClose(c *rawftp.Conn) error {
	if err := c.Send("ABOR"); err != nil {
		return err
	}
	return c.AbortReplies()
}

// streamResult is what the paced player saw.
type streamResult struct {
	rate    float64 // bytes per second, first byte to end
	slowest float64 // bytes per second in the slowest whole window
	stall   time.Duration
	bytes   int64
}

// stream reads the big file from offset 0 at rate bytes per second for
// dur, checking every byte against want, and returns what it achieved.
// window is the span of the slowest-window figure. started, if not nil,
// is called once the server has begun the transfer (its 150 reply), before
// the first byte is read and the clock starts.
func stream(ctx context.Context, addr string, want *os.File, rate float64, dur, window time.Duration, started func()) (streamResult, error) {
	var res streamResult
	c, err := login(ctx, addr)
	if err != nil {
		return res, err
	}
	defer c.Close()
	d, err := c.OpenData(ctx)
	if err != nil {
		return res, err
	}
	defer d.Close()
	if err := c.TransferStart("RETR " + bigPath); err != nil {
		return res, err
	}
	if started != nil {
		started()
	}
	buf := make([]byte, 64<<10)
	check := make([]byte, len(buf))
	windows := make([]int64, int(dur/window)+1)
	t0 := time.Now()
	for {
		elapsed := time.Since(t0)
		if elapsed >= dur {
			break
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		d.SetReadDeadline(time.Now().Add(rawftp.Timeout))
		r0 := time.Now()
		n, err := d.Read(buf)
		res.stall = max(res.stall, time.Since(r0))
		if n > 0 {
			if _, err := want.ReadAt(check[:n], res.bytes); err != nil {
				return res, err
			}
			if !bytes.Equal(buf[:n], check[:n]) {
				return res, fmt.Errorf("the stream sent the wrong bytes at offset %d", res.bytes)
			}
			res.bytes += int64(n)
			if w := int(time.Since(t0) / window); w < len(windows) {
				windows[w] += int64(n)
			}
		}
		if errors.Is(err, io.EOF) {
			return res, fmt.Errorf("%s ended after %d bytes, before %v at %.0f bytes/s: give a bigger -big", bigPath, res.bytes, dur, rate)
		}
		if err != nil {
			return res, fmt.Errorf("stream: %w", err)
		}
		// Sleep until the schedule catches up with the bytes read.
		if ahead := t0.Add(time.Duration(float64(res.bytes) / rate * float64(time.Second))).Sub(time.Now()); ahead > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(ahead):
			}
		}
	}
	took := time.Since(t0)
	res.rate = float64(res.bytes) / took.Seconds()
	full := int(took / window)
	res.slowest = -1
	for _, b := range windows[:min(full, len(windows))] {
		r := float64(b) / window.Seconds()
		if res.slowest < 0 || r < res.slowest {
			res.slowest = r
		}
	}
	d.Close() // with data unread: a reset, as a player that stops
	if err := abortAfterClose(c); err != nil {
		return res, err
	}
	return res, c.Quit()
}

// seeker jumps into the big file as a player does.
type seeker struct {
	c    *rawftp.Conn
	want *os.File
	size int64
	rng  *rand.Rand
	buf  []byte
}

// newSeeker logs in; seed chooses the offsets, the same for both
// conditions of a run.
func newSeeker(ctx context.Context, addr string, want *os.File, size int64, seed uint64) (*seeker, error) {
	c, err := login(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &seeker{c: c, want: want, size: size, rng: rand.New(rand.NewPCG(seed, 0x5eec)), buf: make([]byte, 64<<10)}, nil
}

func (s *seeker) close() error { return s.c.Quit() }

// seek times one REST + RETR to the first byte of data at a random offset,
// with the data connection already made, then checks the bytes, closes
// the data connection and sends ABOR.
func (s *seeker) seek(ctx context.Context) (time.Duration, error) {
	// Far from the end: the rest must not fit in the socket buffers, or
	// the transfer could end before ABOR.
	off := s.rng.Int64N(max(1, s.size-min(256<<20, s.size/2)))
	d, err := s.c.OpenData(ctx)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := s.c.CmdExpect("REST "+strconv.FormatInt(off, 10), 350); err != nil {
		d.Close()
		return 0, err
	}
	if err := s.c.TransferStart("RETR " + bigPath); err != nil {
		d.Close()
		return 0, err
	}
	d.SetReadDeadline(time.Now().Add(rawftp.Timeout))
	n, err := d.Read(s.buf)
	dt := time.Since(t0)
	d.Close() // with data unread: a reset, as a player that seeks
	if err != nil {
		return 0, fmt.Errorf("first byte after REST %d: %w", off, err)
	}
	want := make([]byte, n)
	if _, err := s.want.ReadAt(want, off); err != nil {
		return 0, err
	}
	if !bytes.Equal(s.buf[:n], want) {
		return 0, fmt.Errorf("RETR after REST %d sent the wrong bytes", off)
	}
	return dt, abortAfterClose(s.c)
}

// seekUntil seeks, gap apart, until stop is closed, and returns the times
// of every seek but the first.
func (s *seeker) seekUntil(ctx context.Context, stop <-chan struct{}, gap time.Duration) ([]time.Duration, error) {
	var times []time.Duration
	for i := 0; ; i++ {
		select {
		case <-stop:
			return times, nil
		default:
		}
		dt, err := s.seek(ctx)
		if err != nil {
			return times, err
		}
		if i > 0 {
			times = append(times, dt)
		}
		select {
		case <-stop:
			return times, nil
		case <-ctx.Done():
			return times, ctx.Err()
		case <-time.After(gap):
		}
	}
}

// seekN seeks n+1 times back to back and returns the times of all but the
// first.
func (s *seeker) seekN(ctx context.Context, n int) ([]time.Duration, error) {
	var times []time.Duration
	for i := range n + 1 {
		dt, err := s.seek(ctx)
		if err != nil {
			return times, err
		}
		if i > 0 {
			times = append(times, dt)
		}
	}
	return times, nil
}
