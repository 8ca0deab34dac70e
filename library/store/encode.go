package store

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Top-level buckets.
var (
	bucketMeta      = []byte("meta")
	bucketDetails   = []byte("details")
	bucketPositions = []byte("positions")
	bucketValues    = []byte("values")

	// keyFormat holds the format number in bucketMeta: 4 bytes, big-endian.
	keyFormat = []byte("format")
)

// sep replaces "/" in keys: no name holds it, and it sorts before every
// other byte, so a folder's contents follow the folder's name at once.
const sep = 0

// checkShare checks a share name.
func checkShare(share string) error {
	if share == "" || strings.IndexByte(share, sep) >= 0 {
		return fmt.Errorf("%w: share %q", ErrBadName, share)
	}
	return nil
}

// checkRel checks a share-relative path of a file or folder.
func checkRel(rel string) error {
	if rel == "" || rel[0] == '/' || rel[len(rel)-1] == '/' || strings.IndexByte(rel, sep) >= 0 {
		return fmt.Errorf("%w: path %q", ErrBadName, rel)
	}
	return nil
}

// relKey is the key of rel ("a/b" is "a\x00b").
func relKey(rel string) []byte {
	return appendRelKey(nil, rel)
}

// appendRelKey appends the key of rel to k.
func appendRelKey(k []byte, rel string) []byte {
	n := len(k)
	k = append(k, rel...)
	for i, c := range k[n:] {
		if c == '/' {
			k[n+i] = sep
		}
	}
	return k
}

// keyRel is the path of key k.
func keyRel(k []byte) string {
	r := make([]byte, len(k))
	for i, c := range k {
		if c == sep {
			c = '/'
		}
		r[i] = c
	}
	return string(r)
}

// encodeDetails is a details value: the stamp as varints, then raw.
func encodeDetails(st Stamp, raw []byte) []byte {
	v := make([]byte, 0, 3*binary.MaxVarintLen64+len(raw))
	v = binary.AppendUvarint(v, uint64(st.Size))
	v = binary.AppendVarint(v, st.ModTime)
	v = binary.AppendUvarint(v, st.Ino)
	return append(v, raw...)
}

// decodeDetails splits a details value into its stamp and the details'
// bytes (which alias v).
func decodeDetails(v []byte) (Stamp, []byte, error) {
	size, n := binary.Uvarint(v)
	if n <= 0 || size > 1<<63-1 {
		return Stamp{}, nil, errDecode
	}
	v = v[n:]
	mtime, n := binary.Varint(v)
	if n <= 0 {
		return Stamp{}, nil, errDecode
	}
	v = v[n:]
	ino, n := binary.Uvarint(v)
	if n <= 0 {
		return Stamp{}, nil, errDecode
	}
	return Stamp{Size: int64(size), ModTime: mtime, Ino: ino}, v[n:], nil
}

// encodePosition is a position value: the position in nanoseconds and the
// time it was set in Unix nanoseconds, as varints.
func encodePosition(pos time.Duration, at time.Time) []byte {
	v := make([]byte, 0, 2*binary.MaxVarintLen64)
	v = binary.AppendUvarint(v, uint64(pos))
	return binary.AppendVarint(v, at.UnixNano())
}

// decodePosition reverses encodePosition.
func decodePosition(v []byte) (time.Duration, time.Time, error) {
	pos, n := binary.Uvarint(v)
	if n <= 0 || pos > 1<<63-1 {
		return 0, time.Time{}, errDecode
	}
	at, m := binary.Varint(v[n:])
	if m <= 0 || n+m != len(v) {
		return 0, time.Time{}, errDecode
	}
	return time.Duration(pos), time.Unix(0, at), nil
}

// encodeFormat and decodeFormat are the format number's value.
func encodeFormat(f uint32) []byte { return binary.BigEndian.AppendUint32(nil, f) }

func decodeFormat(v []byte) (uint32, error) {
	if len(v) != 4 {
		return 0, errDecode
	}
	return binary.BigEndian.Uint32(v), nil
}
