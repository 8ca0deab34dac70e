package thumb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// FrameGrab returns the path of a JPEG of at most size x size pixels made
// from the frame at the time at of the video, with ffmpeg, kept in Dir
// under key (the video's share, path and stamp; at is added to it). It is
// for a video without artwork, and only when FFmpeg is set: otherwise, or
// when ffmpeg cannot be found (a warning, logged once), it returns
// ErrNoFFmpeg. A time past the video's end, or a video ffmpeg cannot
// decode, is ErrNoFrame (remembered like a corrupt picture); so is a run
// longer than FrameTimeout. A canceled ctx stops ffmpeg, and is not
// remembered (callers for the same key at the same time share the first
// one's run, and its cancellation).
//
// The caller opens the video (through the share's os.Root) and keeps it
// open during the call: ffmpeg reads it as its descriptor 3, never by a
// path of its own. ffmpeg runs on one thread at nice 19 and, on Linux, in
// the idle I/O class, and counts in Workers like any thumbnail. The frame
// is scaled to the video's display aspect (its sample aspect ratio
// applied) and then goes through the same scaling as a picture.
func (c *Cache) FrameGrab(ctx context.Context, key string, size int, video *os.File, at time.Duration) (path string, err error) {
	if size < 1 || size > MaxSize {
		return "", fmt.Errorf("%w: %d", ErrSize, size)
	}
	if err := c.init(); err != nil {
		return "", err
	}
	bin, err := c.ffmpeg()
	if err != nil {
		return "", err
	}
	name := fileName("frame", strconv.FormatInt(int64(at), 10)+"\x00"+key, size)
	return c.get(name, func() ([]byte, error) {
		frame, err := c.grab(ctx, bin, video, at, size)
		if err != nil {
			return nil, err
		}
		out, _, _, err := c.maker.make(bytes.NewReader(frame), size)
		if err != nil {
			return nil, fmt.Errorf("thumb: the frame ffmpeg gave: %w", err)
		}
		c.mu.Lock()
		c.stats.Frames++
		c.mu.Unlock()
		return out, nil
	})
}

// When VideoFrame grabs a video's frame (FrameTime).
const (
	// frameLatest is the latest time: a film's titles are past by then.
	frameLatest = 2 * time.Minute
	// frameUnknown is the time for a video whose running time is unknown.
	frameUnknown = 10 * time.Second
)

// FrameTime returns when the frame of a video whose running time is
// running (0: unknown) is grabbed: a tenth of the way in, so a film's
// titles are past and a short clip's end is not, at most two minutes in;
// ten seconds in when the running time is unknown. It is the one rule for
// every front end.
func FrameTime(running time.Duration) time.Duration {
	if running <= 0 {
		return frameUnknown
	}
	return min(running/10, frameLatest).Truncate(time.Millisecond)
}

// Frames reports whether frame grabs are on: FFmpeg is set and found (a
// missing one is the warning FrameGrab logs, once). Front ends offer a
// picture of a video without artwork only when it is true. After the
// first call it costs no system call.
func (c *Cache) Frames() bool {
	if c.FFmpeg == "" || c.init() != nil {
		return false
	}
	_, err := c.ffmpeg()
	return err == nil
}

// VideoFrame returns the path of the thumbnail of a video without
// artwork, whose running time is running (0: unknown), kept under key as
// FrameGrab does: the frame at FrameTime(running), or the first frame
// when ffmpeg gives none there (a clip shorter than its details say, or
// details not known yet) unless the first run was stopped by
// FrameTimeout. When no frame can be had (ErrNoFrame), the key is
// remembered in memory, like a corrupt picture: NoFrame reports it, and
// VideoFrame answers ErrNoFrame again without running ffmpeg.
func (c *Cache) VideoFrame(ctx context.Context, key string, size int, video *os.File, running time.Duration) (path string, err error) {
	p, err := c.FrameGrab(ctx, key, size, video, FrameTime(running))
	if errors.Is(err, ErrNoFrame) && !errors.Is(err, errFrameTimeout) {
		p, err = c.FrameGrab(ctx, key, size, video, 0)
	}
	if errors.Is(err, ErrNoFrame) {
		c.mu.Lock()
		remember(c.noFrame, key, struct{}{})
		c.mu.Unlock()
	}
	return p, err
}

// NoFrame reports whether VideoFrame found no frame in the video of key
// (up to 4,096 such videos are remembered, until the process ends), so a
// listing need not offer its picture. It reads no file.
func (c *Cache) NoFrame(key string) bool {
	c.mu.Lock()
	_, no := c.noFrame[key]
	c.mu.Unlock()
	return no
}

// ffmpeg returns the path of the ffmpeg command, looked up once.
func (c *Cache) ffmpeg() (string, error) {
	if c.FFmpeg == "" {
		return "", ErrNoFFmpeg
	}
	c.ffWarn.Do(func() {
		c.ffBin, c.ffErr = exec.LookPath(c.FFmpeg)
		if c.ffErr != nil {
			c.log.Warn("thumbnails: ffmpeg not found, videos without artwork get no thumbnail", "ffmpeg", c.FFmpeg, "err", c.ffErr)
		}
	})
	if c.ffErr != nil {
		return "", fmt.Errorf("%w: %w", ErrNoFFmpeg, c.ffErr)
	}
	return c.ffBin, nil
}

// grab runs ffmpeg for the frame of video at at, scaled down (never up) to
// fit twice size, and returns it as a PNG.
func (c *Cache) grab(ctx context.Context, bin string, video *os.File, at time.Duration, size int) ([]byte, error) {
	run, cancel := context.WithTimeout(ctx, c.frameTimeout)
	defer cancel()
	s := 2 * size
	cmd := exec.CommandContext(run, bin,
		"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
		"-ss", strconv.FormatFloat(max(0, at.Seconds()), 'f', 3, 64), "-i", "/dev/fd/3",
		"-map", "0:V:0", "-an", "-sn", "-dn", "-frames:v", "1",
		"-vf", fmt.Sprintf(`scale=iw*sar:ih,scale=w='min(iw\,%d)':h='min(ih\,%d)':force_original_aspect_ratio=decrease`, s, s),
		"-c:v", "png", "-f", "image2pipe", "pipe:1")
	cmd.ExtraFiles = []*os.File{video}
	out := &capBuffer{max: c.maker.maxSource}
	stderr := &capBuffer{max: 2 << 10, drop: true}
	cmd.Stdout, cmd.Stderr = out, stderr
	cmd.WaitDelay = time.Second
	if err := startLowPriority(cmd); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("thumb: frame grab: %w: %w", errCanceled, ctx.Err())
		}
		return nil, fmt.Errorf("thumb: starting ffmpeg: %w", err)
	}
	err := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("thumb: frame grab: %w: %w", errCanceled, ctx.Err())
	case run.Err() != nil:
		return nil, fmt.Errorf("%w: %w: ffmpeg took more than %v", ErrNoFrame, errFrameTimeout, c.frameTimeout)
	case out.over:
		return nil, fmt.Errorf("%w: ffmpeg's frame is more than %d bytes", ErrTooBig, c.maker.maxSource)
	case err != nil:
		return nil, fmt.Errorf("%w: ffmpeg: %v: %s", ErrNoFrame, err, bytes.TrimSpace(stderr.Bytes()))
	case out.Len() == 0:
		return nil, fmt.Errorf("%w: ffmpeg gave none at %v (past the end?)", ErrNoFrame, at)
	}
	return out.Bytes(), nil
}

// errFrameTimeout marks a frame grab stopped by FrameTimeout.
var errFrameTimeout = errors.New("timeout")

// capBuffer keeps at most max bytes written to it; more is an error (so
// ffmpeg stops on a broken pipe), or with drop set is thrown away.
type capBuffer struct {
	bytes.Buffer
	max  int64
	drop bool
	over bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - int64(b.Len()); int64(len(p)) > room {
		b.over = true
		if !b.drop {
			return 0, errors.New("thumb: too much output")
		}
		b.Buffer.Write(p[:max(0, room)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
