package probe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCover reads the embedded picture of each kind of file that has one
// and compares it with the picture that went in, byte for byte.
func TestCover(t *testing.T) {
	dir := mediaDir(t)
	for _, tc := range []struct{ file, picture string }{
		{"aac_cover.m4a", "cover.png"},   // MP4 covr
		{"cbr.mp3", "cover.png"},         // ID3v2.3 APIC
		{"tags_cover.flac", "cover.png"}, // FLAC PICTURE
		{"cover.opus", "noise.png"},      // METADATA_BLOCK_PICTURE over Ogg pages
		{"cover.mka", "noise.png"},       // Matroska attachment
		{"h264_aac.mp4", ""},
		{"vorbis.ogg", ""},
		{"pcm.wav", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			data, mime, ok, err := Cover(f, fi.Size(), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if tc.picture == "" {
				if ok || data != nil {
					t.Fatalf("Cover = %d bytes %q, want none", len(data), mime)
				}
				return
			}
			want, err := os.ReadFile(filepath.Join(dir, tc.picture))
			if err != nil {
				t.Fatal(err)
			}
			if !ok || !bytes.Equal(data, want) || mime != "image/png" {
				t.Fatalf("Cover = %d bytes %q ok=%v, want the %d bytes of %s as image/png", len(data), mime, ok, len(want), tc.picture)
			}
		})
	}
}

// TestCoverID3Variants reads pictures from ID3v2.2 PIC frames, from a
// 2.4 frame with unsynchronisation, from a tag unsynchronised as a whole,
// and prefers the front cover to an earlier other picture.
func TestCoverID3Variants(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0x00, 1, 2, 3, 0xFF, 0xD9}
	png := append(append([]byte{}, magicPNG...), 9, 9, 9)
	frame := func(ver byte, id string, body []byte, flags uint16) []byte {
		var h []byte
		h = append(h, id...)
		n := len(body)
		switch ver {
		case 2:
			h = append(h, byte(n>>16), byte(n>>8), byte(n))
			return append(h, body...)
		case 3:
			h = append(h, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		case 4:
			h = append(h, byte(n>>21&0x7F), byte(n>>14&0x7F), byte(n>>7&0x7F), byte(n&0x7F))
		}
		h = append(h, byte(flags>>8), byte(flags))
		return append(h, body...)
	}
	tag := func(ver, flags byte, frames ...[]byte) []byte {
		body := bytes.Join(frames, nil)
		n := len(body)
		h := []byte{'I', 'D', '3', ver, 0, flags, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
		return append(h, body...)
	}
	apic := func(mime string, ptype byte, pic []byte) []byte {
		b := append([]byte{0}, mime...)
		b = append(b, 0, ptype)
		b = append(b, "desc"...)
		b = append(b, 0)
		return append(b, pic...)
	}
	// An MPEG frame after the tag makes it an MP3.
	mpa := make([]byte, 417*3)
	for i := 0; i < 3; i++ {
		copy(mpa[i*417:], []byte{0xFF, 0xFB, 0x90, 0x00})
	}
	text := frame(3, "TIT2", append([]byte{0}, "Song"...), 0)
	for _, tc := range []struct {
		name     string
		file     []byte
		want     []byte
		wantMIME string
	}{
		{"v2.2 PIC", tag(2, 0, frame(2, "PIC", append([]byte{0, 'P', 'N', 'G', 3, 0}, png...), 0)), png, "image/png"},
		{"v2.3 front cover after another", tag(3, 0, text, frame(3, "APIC", apic("image/png", 4, png), 0), frame(3, "APIC", apic("image/jpeg", 3, jpeg), 0)), jpeg, "image/jpeg"},
		{"v2.4 unsynchronised frame", tag(4, 0, frame(4, "APIC", unsyncEncode(apic("image/jpeg", 3, jpeg)), 0x0002)), jpeg, "image/jpeg"},
		{"v2.3 unsynchronised tag", tag(3, 0x80, unsyncEncode(frame(3, "APIC", apic("image/jpg", 3, jpeg), 0))), jpeg, "image/jpeg"},
		{"v2.4 data length indicator", tag(4, 0, frame(4, "APIC", append([]byte{0, 0, 0, 20}, apic("image/png", 3, png)...), 0x0001)), png, "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := append(append([]byte{}, tc.file...), mpa...)
			d, err := Probe(bytes.NewReader(file), int64(len(file)), "x.mp3")
			if err != nil || !d.HasCover || d.Container != "mp3" {
				t.Fatalf("Probe = %+v, %v; want an mp3 with a cover", d, err)
			}
			data, mime, ok, err := Cover(bytes.NewReader(file), int64(len(file)), "x.mp3")
			if err != nil || !ok || !bytes.Equal(data, tc.want) || mime != tc.wantMIME {
				t.Fatalf("Cover = %x %q %v %v, want %x %q", data, mime, ok, err, tc.want, tc.wantMIME)
			}
		})
	}
}

// unsyncEncode applies ID3 unsynchronisation: a 00 after every FF.
func unsyncEncode(b []byte) []byte {
	var out []byte
	for _, c := range b {
		out = append(out, c)
		if c == 0xFF {
			out = append(out, 0)
		}
	}
	return out
}
