package thumb

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/sync/singleflight"
)

// Sizes of thumbnails the front ends ask for.
const (
	// SizeTN is DLNA's JPEG_TN: at most 160x160 pixels.
	SizeTN = 160
	// SizeSmall is the web page's folder view.
	SizeSmall = 320
	// SizeLarge is the web page's item view, on a large screen.
	SizeLarge = 640
	// MaxSize is the largest size Thumbnail makes.
	MaxSize = 2048
)

// Defaults of the Cache's fields.
const (
	DefaultMaxBytes     = 64 << 20
	DefaultMaxPixels    = 24_000_000
	DefaultMaxSource    = 32 << 20
	DefaultQuality      = 85
	DefaultWorkers      = 2
	DefaultFrameTimeout = 30 * time.Second
)

// Errors of making a thumbnail.
var (
	// ErrTooBig is returned for a picture over the pixel budget or a
	// source longer than MaxSource.
	ErrTooBig = errors.New("thumb: the picture is too big")
	// ErrFormat is returned for a source that is no JPEG, PNG, GIF or
	// WebP picture.
	ErrFormat = errors.New("thumb: not a JPEG, PNG, GIF or WebP picture")
	// ErrCorrupt is returned for a picture that cannot be decoded.
	ErrCorrupt = errors.New("thumb: the picture is corrupt")
	// ErrSize is returned for a size out of 1 to MaxSize.
	ErrSize = errors.New("thumb: size out of range")
	// ErrNoDir is returned when Cache.Dir is not set.
	ErrNoDir = errors.New("thumb: no cache folder")
	// ErrNoFFmpeg is returned by FrameGrab when frame grabs are off or
	// ffmpeg cannot be found.
	ErrNoFFmpeg = errors.New("thumb: ffmpeg is not available")
	// ErrNoFrame is returned by FrameGrab when ffmpeg gave no frame (the
	// time is past the end, or the video cannot be decoded).
	ErrNoFrame = errors.New("thumb: no frame")
	// ErrNoCover is returned by the source of EmbeddedCover for a file
	// that embeds no cover art.
	ErrNoCover = errors.New("thumb: no embedded cover art")
)

// Cache makes thumbnails and keeps them on disk. Its exported fields are
// its configuration, read at its first use (later changes are not seen);
// the zero value of each means its default. Its methods may be called
// from many goroutines at once.
type Cache struct {
	// Dir is the folder of the thumbnails, made (0700) if missing. It is
	// the Cache's alone: it removes its thumbnails ("*.jpg") and the
	// temporary files it left there (".tmp-*"), and nothing else.
	Dir string
	// Logger gets the cache's log lines (nil: none).
	Logger *slog.Logger
	// FFmpeg is the ffmpeg command for FrameGrab, a path or a name looked
	// up in PATH; "" turns frame grabs off.
	FFmpeg string
	// MaxBytes caps the size of Dir's thumbnails (DefaultMaxBytes).
	MaxBytes int64
	// MaxPixels is the pixel budget: a bigger picture is refused before it
	// is decoded (DefaultMaxPixels).
	MaxPixels int64
	// MaxSource caps the bytes read from a source (DefaultMaxSource).
	MaxSource int64
	// Quality is the JPEG quality, 1 to 100 (DefaultQuality).
	Quality int
	// Workers is how many thumbnails are made at once (DefaultWorkers).
	Workers int
	// FrameTimeout bounds one ffmpeg run of FrameGrab (DefaultFrameTimeout).
	FrameTimeout time.Duration

	once         sync.Once
	initErr      error
	log          *slog.Logger
	maker        maker         // with the pixel budget, source cap and quality
	maxBytes     int64         // MaxBytes or its default
	frameTimeout time.Duration // FrameTimeout or its default
	sem          chan struct{}
	flight       singleflight.Group
	ffWarn       sync.Once // looks ffmpeg up, warns if missing
	ffBin        string
	ffErr        error
	evictMu      sync.Mutex // one eviction at a time

	mu     sync.Mutex // guards what follows
	used   int64
	stats  Stats
	failed map[string]error // names whose source cannot be made into one
	// noFrame holds the keys of videos VideoFrame found no frame in.
	noFrame map[string]struct{}
}

// Stats are the Cache's counters since it started, for the status page
// and tests.
type Stats struct {
	Made    int64 // thumbnails made (a picture decoded, scaled, encoded, written)
	Hits    int64 // thumbnails found on disk
	Failed  int64 // pictures that could not be made into a thumbnail
	Evicted int64 // thumbnails removed to keep the folder under MaxBytes
	Frames  int64 // frames grabbed with ffmpeg
	Bytes   int64 // the size of the folder's thumbnails, about
}

// Stats returns the Cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Bytes = c.used
	return s
}

// maxFailed bounds the memory of pictures that could not be made.
const maxFailed = 4096

// remember puts k in m, a memory of failures, emptying m first when it
// holds maxFailed keys. The caller holds c.mu.
func remember[V any](m map[string]V, k string, v V) {
	if len(m) >= maxFailed {
		clear(m)
	}
	m[k] = v
}

// touchAfter is how old a thumbnail found again must be to be touched;
// evictGrace how young a thumbnail is never evicted.
const (
	touchAfter = time.Minute
	evictGrace = 2 * touchAfter
)

// tmpPrefix starts the names of temporary files in Dir.
const tmpPrefix = ".tmp-"

// init applies the defaults and readies Dir, once.
func (c *Cache) init() error {
	c.once.Do(func() {
		c.log = c.Logger
		if c.log == nil {
			c.log = slog.New(slog.DiscardHandler)
		}
		c.maxBytes = cmpOr(c.MaxBytes, DefaultMaxBytes)
		c.frameTimeout = cmpOr(c.FrameTimeout, DefaultFrameTimeout)
		c.maker = maker{
			maxPixels: cmpOr(c.MaxPixels, DefaultMaxPixels),
			maxSource: cmpOr(c.MaxSource, DefaultMaxSource),
			quality:   min(100, cmpOr(c.Quality, DefaultQuality)),
			filter:    draw.CatmullRom,
		}
		c.sem = make(chan struct{}, cmpOr(c.Workers, DefaultWorkers))
		c.failed = map[string]error{}
		c.noFrame = map[string]struct{}{}
		if c.Dir == "" {
			c.initErr = ErrNoDir
			return
		}
		c.initErr = c.scan()
	})
	return c.initErr
}

// cmpOr returns v, or def when v is not positive.
func cmpOr[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// scan makes Dir, removes temporary files a crash left and counts the
// thumbnails' bytes.
func (c *Cache) scan() error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("thumb: making the cache folder: %w", err)
	}
	files, err := c.list()
	if err != nil {
		return err
	}
	var used int64
	for _, f := range files {
		used += f.size
	}
	c.mu.Lock()
	c.used = used
	c.mu.Unlock()
	if used > c.maxBytes {
		c.evict()
	}
	return nil
}

// file is a thumbnail in Dir.
type file struct {
	name string
	size int64
	mod  time.Time
}

// list returns Dir's thumbnails, removing temporary files older than the
// eviction grace (left by a crash; younger ones are being written).
func (c *Cache) list() ([]file, error) {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("thumb: reading the cache folder: %w", err)
	}
	var files []file
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if time.Since(info.ModTime()) > evictGrace {
				os.Remove(filepath.Join(c.Dir, e.Name()))
			}
			continue
		}
		if strings.HasSuffix(e.Name(), ".jpg") {
			files = append(files, file{e.Name(), info.Size(), info.ModTime()})
		}
	}
	return files, nil
}

// fileName is the name of the thumbnail of the given size for the key in
// the namespace ns ("image" or "frame").
func fileName(ns, key string, size int) string {
	h := sha256.Sum256([]byte(ns + "\x00" + key))
	return hex.EncodeToString(h[:16]) + "-" + strconv.Itoa(size) + ".jpg"
}

// Thumbnail returns the path of a JPEG of at most size x size pixels made
// from the picture src returns (the bytes of a poster file or of embedded
// cover art), kept in Dir under key. The key names the source and its
// version (share, path, size, modification time, inode): a key seen before
// returns the thumbnail on disk without calling src. The caller closes
// nothing: Thumbnail closes what src returns. The file at path stays for
// at least a minute; open it at once.
func (c *Cache) Thumbnail(key string, size int, src func() (io.ReadCloser, error)) (path string, err error) {
	if size < 1 || size > MaxSize {
		return "", fmt.Errorf("%w: %d", ErrSize, size)
	}
	if err := c.init(); err != nil {
		return "", err
	}
	return c.get(fileName("image", key, size), func() ([]byte, error) {
		rc, err := src()
		if err != nil {
			return nil, fmt.Errorf("thumb: opening the picture: %w", err)
		}
		if rc == nil {
			return nil, errors.New("thumb: opening the picture: no reader")
		}
		defer rc.Close()
		out, _, _, err := c.maker.make(rc, size)
		return out, err
	})
}

// get returns the path of the thumbnail name, made by build if it is not
// on disk.
func (c *Cache) get(name string, build func() ([]byte, error)) (string, error) {
	p := filepath.Join(c.Dir, name)
	if c.hit(p) {
		return p, nil
	}
	c.mu.Lock()
	err := c.failed[name]
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	v, err, _ := c.flight.Do(name, func() (any, error) {
		if c.hit(p) { // made by a flight that ended since
			return p, nil
		}
		c.sem <- struct{}{}
		defer func() { <-c.sem }()
		start := time.Now()
		out, err := build()
		if err != nil {
			if corrupt(err) {
				c.mu.Lock()
				remember(c.failed, name, err)
				c.stats.Failed++
				c.mu.Unlock()
			}
			return "", err
		}
		if err := c.write(p, out); err != nil {
			return "", err
		}
		c.log.Debug("thumbnail made", "file", name, "bytes", len(out), "took", time.Since(start))
		return p, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// corrupt tells whether err says the source cannot be made into a
// thumbnail, as opposed to a failure to read it or a cancellation.
func corrupt(err error) bool {
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe), errors.Is(err, errCanceled):
		return false
	case errors.Is(err, ErrTooBig), errors.Is(err, ErrFormat), errors.Is(err, ErrCorrupt), errors.Is(err, ErrNoFrame):
		return true
	}
	return false
}

// errCanceled marks a frame grab the caller canceled.
var errCanceled = errors.New("canceled")

// hit reports whether the thumbnail at p is on disk, counting it and
// touching it when it is more than touchAfter old.
func (c *Cache) hit(p string) bool {
	info, err := os.Stat(p)
	if err != nil {
		return false
	}
	if now := time.Now(); now.Sub(info.ModTime()) > touchAfter {
		os.Chtimes(p, now, now)
	}
	c.mu.Lock()
	c.stats.Hits++
	c.mu.Unlock()
	return true
}

// write writes a thumbnail to p: a temporary file, synced, renamed.
func (c *Cache) write(p string, b []byte) (err error) {
	f, err := os.CreateTemp(c.Dir, tmpPrefix+"*")
	if errors.Is(err, fs.ErrNotExist) { // the folder was removed: make it again
		if err = os.MkdirAll(c.Dir, 0o700); err == nil {
			f, err = os.CreateTemp(c.Dir, tmpPrefix+"*")
		}
	}
	if err != nil {
		return fmt.Errorf("thumb: writing the thumbnail: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("thumb: writing the thumbnail: %w", err)
		}
	}()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	c.mu.Lock()
	c.used += int64(len(b))
	c.stats.Made++
	over := c.used > c.maxBytes
	c.mu.Unlock()
	if over {
		c.evict()
	}
	return nil
}

// evict removes the oldest thumbnails until the folder is at 90% of
// MaxBytes, sparing those younger than evictGrace.
func (c *Cache) evict() {
	if !c.evictMu.TryLock() {
		return // another call is at it
	}
	defer c.evictMu.Unlock()
	files, err := c.list()
	if err != nil {
		c.log.Warn("thumbnail cache: cannot evict", "err", err)
		return
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	target, young := c.maxBytes/10*9, time.Now().Add(-evictGrace)
	var removed int64
	for _, f := range files {
		if total <= target || f.mod.After(young) {
			break
		}
		if err := os.Remove(filepath.Join(c.Dir, f.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("thumbnail cache: cannot remove", "err", err)
			continue
		}
		total -= f.size
		removed++
	}
	c.mu.Lock()
	c.used = total
	c.stats.Evicted += removed
	c.mu.Unlock()
	c.log.Debug("thumbnail cache: evicted", "files", removed, "bytes", total)
}
