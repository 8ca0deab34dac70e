package probe

import (
	"errors"
	"io"
)

// blockSize is the unit in which source fetches a file; cacheBlocks is how
// many blocks it keeps. Parsers mostly read a header here and a box there,
// so a small cache of aligned blocks turns many tiny reads into few
// system calls.
const (
	blockSize   = 32 << 10
	cacheBlocks = 4
	// maxAt is the largest range source.at returns in one slice.
	maxAt = 128 << 10
)

// block is one cached, aligned piece of the file.
type block struct {
	off  int64  // file offset of buf[0]; -1 when empty
	n    int    // valid bytes in buf
	buf  []byte // at most blockSize
	used uint64 // last use, for eviction
}

// source reads a file for the parsers. Every byte it fetches from r is
// charged against a budget of MaxRead bytes; once the budget is spent it
// returns nothing more, so a parser fed a hostile file runs out of input
// instead of reading the whole file. It never allocates more than maxAt
// bytes for one request, whatever a file declares.
//
// Reads past the end of the file (or of what r really holds, when size
// lies) are short, not errors. The first other error of r is kept in err
// and ends all reading.
type source struct {
	r     io.ReaderAt
	size  int64
	left  int64 // budget still unspent
	err   error // first I/O error of r
	clock uint64
	cache [cacheBlocks]block
	tmp   []byte // assembly buffer for ranges that span blocks
	small [512]byte
}

func newSource(r io.ReaderAt, size int64, budget int64) *source {
	s := &source{r: r, size: max(size, 0), left: budget}
	for i := range s.cache {
		s.cache[i].off = -1
	}
	return s
}

// release drops the cache; s must not be used after. (The blocks are
// not pooled: a pool's refills depend on the garbage collector, which
// would make the parsers' coverage, and so fuzzing, flaky.)
func (s *source) release() {
	for i := range s.cache {
		s.cache[i] = block{off: -1}
	}
}

// failed reports whether reading has ended: an I/O error or the budget
// spent.
func (s *source) failed() bool { return s.err != nil || s.left <= 0 }

// readAt reads len(p) bytes at off from r, treating a short read at the end
// of what r holds as such (n < len(p)) and keeping any other error.
func (s *source) readAt(p []byte, off int64) int {
	if s.err != nil {
		return 0
	}
	n, err := s.r.ReadAt(p, off)
	if n < 0 || n > len(p) {
		n = 0
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		s.err = err
	}
	return n
}

// blockAt returns the cached block holding off, fetching it if needed; nil
// when nothing can be read there.
func (s *source) blockAt(off int64) *block {
	if off < 0 || off >= s.size {
		return nil
	}
	base := off - off%blockSize
	s.clock++
	victim := &s.cache[0]
	for i := range s.cache {
		b := &s.cache[i]
		if b.off == base {
			// A block shorter than off was cut by the end of what r
			// holds or by the budget: neither gives more on a retry.
			if off >= base+int64(b.n) {
				return nil
			}
			b.used = s.clock
			return b
		}
		if b.used < victim.used {
			victim = b
		}
	}
	want := int64(blockSize)
	if base+want > s.size {
		want = s.size - base
	}
	// Fetch from the block's start only as much as the budget allows, but
	// always through off.
	if want > s.left {
		want = s.left
	}
	if base+want <= off || s.err != nil {
		s.left = 0
		return nil
	}
	if int64(cap(victim.buf)) < want {
		// A small file needs no more than its size.
		victim.buf = make([]byte, min(blockSize, s.size-base))
	}
	s.left -= want
	n := s.readAt(victim.buf[:want], base)
	victim.off, victim.n, victim.used = base, n, s.clock
	if off >= base+int64(n) {
		return nil
	}
	return victim
}

// at returns up to n bytes of the file at off (n at most maxAt): fewer at
// the end of the file, when the budget is spent or on an error. The slice
// is valid until the next call of at or peek.
func (s *source) at(off int64, n int) []byte {
	if n <= 0 || off < 0 || off >= s.size {
		return nil
	}
	n = min(n, maxAt)
	if rest := s.size - off; int64(n) > rest {
		n = int(rest)
	}
	b := s.blockAt(off)
	if b == nil {
		return nil
	}
	i := int(off - b.off)
	if i+n <= b.n {
		return b.buf[i : i+n]
	}
	// The range spans blocks: assemble it.
	if cap(s.tmp) < n {
		s.tmp = make([]byte, 0, max(n, 2*cap(s.tmp)))
	}
	out := s.tmp[:0]
	for len(out) < n {
		b := s.blockAt(off + int64(len(out)))
		if b == nil {
			break
		}
		i := int(off + int64(len(out)) - b.off)
		out = append(out, b.buf[i:min(b.n, i+n-len(out))]...)
	}
	s.tmp = out
	return out
}

// peek is at for a few bytes (at most 512) that need not bring a whole
// block into the cache: a page header while skipping through a large
// packet. It reads only those bytes when their block is not cached.
func (s *source) peek(off int64, n int) []byte {
	if n <= 0 || off < 0 || off >= s.size {
		return nil
	}
	n = min(n, len(s.small))
	if rest := s.size - off; int64(n) > rest {
		n = int(rest)
	}
	base := off - off%blockSize
	for i := range s.cache {
		if b := &s.cache[i]; b.off == base && off+int64(n) <= base+int64(b.n) {
			return s.at(off, n)
		}
	}
	if int64(n) > s.left {
		n = int(s.left)
	}
	if n <= 0 {
		return nil
	}
	s.left -= int64(n)
	got := s.readAt(s.small[:n], off)
	return s.small[:got]
}

// raw reads n bytes at off straight from r, outside the budget: only for
// the cover art that Cover returns, at most MaxCover bytes. It returns nil
// when the file holds fewer bytes there.
func (s *source) raw(off int64, n int64) []byte {
	if n <= 0 || n > MaxCover || off < 0 || off+n > s.size || s.err != nil {
		return nil
	}
	p := make([]byte, n)
	if got := s.readAt(p, off); int64(got) != n {
		return nil
	}
	return p
}

// u8, u16, u32, u64 and friends read big-endian (be) or little-endian (le)
// numbers at off; ok is false when the file ends first.
func (s *source) be16(off int64) (uint16, bool) {
	b := s.at(off, 2)
	if len(b) < 2 {
		return 0, false
	}
	return uint16(b[0])<<8 | uint16(b[1]), true
}

func (s *source) be32(off int64) (uint32, bool) {
	b := s.at(off, 4)
	if len(b) < 4 {
		return 0, false
	}
	return be32(b), true
}

// region is a sequential reader over the file range [off, end).
type region struct {
	s        *source
	off, end int64
}

// Read implements io.Reader.
func (r *region) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.end-r.off, blockSize))
	b := r.s.at(r.off, n)
	if len(b) == 0 {
		if r.s.err != nil {
			return 0, r.s.err
		}
		return 0, io.ErrUnexpectedEOF
	}
	copy(p, b)
	r.off += int64(len(b))
	return len(b), nil
}

// skip moves n bytes on without reading them.
func (r *region) skip(n int64) error {
	if n < 0 || n > r.end-r.off {
		r.off = r.end
		return io.ErrUnexpectedEOF
	}
	r.off += n
	return nil
}

// rawRest reads the next n bytes straight from r (see source.raw).
func (r *region) rawRest(n int64) []byte {
	if n > r.end-r.off {
		return nil
	}
	b := r.s.raw(r.off, n)
	r.off += n
	return b
}
