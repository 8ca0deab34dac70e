package thumb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// id3WithCover returns an MP3 file's start: an ID3v2.3 tag holding one
// APIC frame (a front cover of data), then an MPEG audio frame header.
func id3WithCover(data []byte) []byte {
	body := append([]byte("\x00image/jpeg\x00\x03\x00"), data...)
	frame := append([]byte("APIC"), binary.BigEndian.AppendUint32(nil, uint32(len(body)))...)
	frame = append(append(frame, 0, 0), body...)
	n := len(frame)
	tag := []byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
	tag = append(tag, frame...)
	return append(tag, append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 413)...)...)
}

// TestEmbeddedCover: the source gives an audio file's embedded cover, and
// ErrNoCover for a file without one.
func TestEmbeddedCover(t *testing.T) {
	picture := []byte("\xff\xd8\xff\xe0 not really a JPEG")
	song := id3WithCover(picture)
	rc, err := EmbeddedCover(bytes.NewReader(song), int64(len(song)), "song.mp3")()
	if err != nil {
		t.Fatalf("with a cover: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, picture) {
		t.Errorf("cover %q; want %q", got, picture)
	}
	bare := song[len(song)-417:]
	if _, err := EmbeddedCover(bytes.NewReader(bare), int64(len(bare)), "song.mp3")(); !errors.Is(err, ErrNoCover) {
		t.Errorf("without a cover: %v; want ErrNoCover", err)
	}
}
