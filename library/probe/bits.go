package probe

// Byte-order helpers on slices the caller has checked for length.

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func be64(b []byte) uint64 { return uint64(be32(b))<<32 | uint64(be32(b[4:])) }
func le16(b []byte) uint16 { return uint16(b[1])<<8 | uint16(b[0]) }
func le24(b []byte) uint32 { return uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0]) }
func le32(b []byte) uint32 {
	return uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
}
func le64(b []byte) uint64 { return uint64(le32(b[4:]))<<32 | uint64(le32(b)) }

// bitReader reads big-endian bit fields, and Exp-Golomb codes as H.264 and
// HEVC parameter sets use them. Reading past the end yields zeros and sets
// bad, so a parser checks once at the end.
type bitReader struct {
	b   []byte
	pos int // bit position
	bad bool
}

func (r *bitReader) bit() uint32 {
	if r.pos >= len(r.b)*8 {
		r.bad = true
		return 0
	}
	v := uint32(r.b[r.pos>>3]>>(7-r.pos&7)) & 1
	r.pos++
	return v
}

// bits reads n bits (n at most 32).
func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

func (r *bitReader) skip(n int) {
	r.pos += n
	if r.pos > len(r.b)*8 {
		r.bad = true
	}
}

// ue reads an unsigned Exp-Golomb code; codes longer than 31 bits are
// invalid here (no field we read is that large).
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		zeros++
		if zeros > 31 || r.bad {
			r.bad = true
			return 0
		}
	}
	if zeros == 0 {
		return 0
	}
	return (1<<zeros - 1) + r.bits(zeros)
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() int32 {
	v := r.ue()
	if v&1 == 1 {
		return int32(v/2 + 1)
	}
	return -int32(v / 2)
}

// unescapeRBSP removes the emulation prevention bytes (00 00 03 -> 00 00)
// of a NAL unit, writing into dst.
func unescapeRBSP(dst, src []byte) []byte {
	zeros := 0
	for _, c := range src {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst = append(dst, c)
	}
	return dst
}
