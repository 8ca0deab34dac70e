package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// The trees the bench serves, made under -dir once and kept (a marker file
// says a tree is complete; a change of shape changes the marker's name):
//
//	<dir>/library-<N>/      N music files, a music library's shape:
//	  Artist 042/Album 07/13 Track 13.mp3   (tracks alternate .mp3, .wav)
//	<dir>/fresh-<M>/        M more files of the same shape, for figure 3,
//	                        probed afresh in each of its runs
//	<dir>/films-<S>/big.bin S bytes of pseudo-random data, the film that
//	                        figure 3 streams (not a media name, so the
//	                        prober leaves it alone)
//
// Each music file is a few hundred bytes, made in memory from a template
// with its own tags (title, artist, album, track), so that the store holds
// what a real library's small details would: a 32 kbit/s MPEG-1 layer III
// file of three frames behind an ID3v2.3 tag, or an 8 kHz 16-bit mono WAV
// of 256 bytes of samples with a LIST INFO chunk.
const (
	tracksPerAlbum  = 20
	albumsPerArtist = 10
	treeVersion     = "v1"
)

// musicTree makes (once) a music tree of n files in dir/<prefix>-<n> and
// returns its path.
func musicTree(dir, prefix string, n int, progress io.Writer) (string, error) {
	root := filepath.Join(dir, fmt.Sprintf("%s-%d", prefix, n))
	marker := root + "." + treeVersion + ".complete"
	if _, err := os.Stat(marker); err == nil {
		return root, nil
	}
	fmt.Fprintf(progress, "making %d music files in %s (once)\n", n, root)
	start := time.Now()
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	for i := range n {
		rel, data := musicFile(i)
		p := filepath.Join(root, filepath.FromSlash(rel))
		if i%tracksPerAlbum == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return "", err
		}
		// Old, as a library's files are: the index leaves files modified
		// in the last seconds to settle before it shows them.
		if err := os.Chtimes(p, musicTime, musicTime); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "made them in %v\n", time.Since(start).Round(time.Millisecond))
	return root, nil
}

// musicTime is the modification time of every music file.
var musicTime = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// musicFile returns the path and the bytes of the i'th file of a music
// tree.
func musicFile(i int) (rel string, data []byte) {
	track := i%tracksPerAlbum + 1
	album := i/tracksPerAlbum%albumsPerArtist + 1
	artist := i / (tracksPerAlbum * albumsPerArtist)
	t := tags{
		title:  fmt.Sprintf("Track %02d", track),
		artist: fmt.Sprintf("Artist %03d", artist),
		album:  fmt.Sprintf("Album %02d", album),
		track:  track,
	}
	ext, data := ".mp3", mp3File(t)
	if track%2 == 0 {
		ext, data = ".wav", wavFile(t)
	}
	rel = fmt.Sprintf("Artist %03d/Album %02d/%02d %s%s", artist, album, track, t.title, ext)
	return rel, data
}

// tags are a music file's tags.
type tags struct {
	title, artist, album string
	track                int
}

// mp3Frame is one MPEG-1 layer III frame: 32 kbit/s, 44.1 kHz, mono, no
// padding (144 * 32000 / 44100 = 104 bytes), silent (zero side
// information and data).
var mp3Frame = func() []byte {
	f := make([]byte, 104)
	copy(f, []byte{0xFF, 0xFB, 0x10, 0xC0})
	return f
}()

// mp3File returns an ID3v2.3 tag and three MPEG audio frames.
func mp3File(t tags) []byte {
	var frames bytes.Buffer
	text := func(id, s string) {
		frames.WriteString(id)
		binary.Write(&frames, binary.BigEndian, uint32(1+len(s)))
		frames.Write([]byte{0, 0, 0}) // flags; ISO-8859-1
		frames.WriteString(s)
	}
	text("TIT2", t.title)
	text("TPE1", t.artist)
	text("TALB", t.album)
	text("TRCK", fmt.Sprint(t.track))
	var b bytes.Buffer
	b.WriteString("ID3\x03\x00\x00")
	n := frames.Len()
	b.Write([]byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)})
	b.Write(frames.Bytes())
	for range 3 {
		b.Write(mp3Frame)
	}
	return b.Bytes()
}

// wavSamples is the length of a WAV file's samples: 16 ms at 8 kHz,
// 16-bit mono.
const wavSamples = 256

// wavFile returns a RIFF WAVE file: fmt, LIST INFO, data.
func wavFile(t tags) []byte {
	var info bytes.Buffer
	info.WriteString("INFO")
	sub := func(id, s string) {
		v := append([]byte(s), 0)
		info.WriteString(id)
		binary.Write(&info, binary.LittleEndian, uint32(len(v)))
		info.Write(v)
		if len(v)%2 == 1 {
			info.WriteByte(0)
		}
	}
	sub("INAM", t.title)
	sub("IART", t.artist)
	sub("IPRD", t.album)
	sub("ITRK", fmt.Sprint(t.track))
	var body bytes.Buffer
	chunk := func(id string, data []byte) {
		body.WriteString(id)
		binary.Write(&body, binary.LittleEndian, uint32(len(data)))
		body.Write(data)
		if len(data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var fmtChunk bytes.Buffer
	// PCM, 1 channel, 8000 Hz, 16000 bytes/s, 2-byte frames, 16 bits.
	binary.Write(&fmtChunk, binary.LittleEndian, []uint16{1, 1})
	binary.Write(&fmtChunk, binary.LittleEndian, []uint32{8000, 16000})
	binary.Write(&fmtChunk, binary.LittleEndian, []uint16{2, 16})
	chunk("fmt ", fmtChunk.Bytes())
	chunk("LIST", info.Bytes())
	chunk("data", make([]byte, wavSamples))
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+body.Len()))
	b.WriteString("WAVE")
	b.Write(body.Bytes())
	return b.Bytes()
}

// bigName is the streamed file's name in its share.
const bigName = "big.bin"

// bigFile makes (once) a file of size pseudo-random bytes in
// dir/films-<size>, and reads it through so that it is in the page cache.
// It returns the share's folder.
func bigFile(dir string, size int64, progress io.Writer) (string, error) {
	root := filepath.Join(dir, fmt.Sprintf("films-%d", size))
	p := filepath.Join(root, bigName)
	marker := root + "." + treeVersion + ".complete"
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintf(progress, "writing %d bytes to %s (once)\n", size, p)
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", err
		}
		f, err := os.Create(p)
		if err != nil {
			return "", err
		}
		_, err = io.CopyBuffer(f, io.LimitReader(bigContent(), size), make([]byte, 1<<20))
		if err = errors.Join(err, f.Close()); err != nil {
			return "", err
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return "", err
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	n, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("%s has %d bytes, want %d: remove it, and it is made again", p, n, size)
	}
	return root, nil
}

// bigContent generates big.bin's bytes: random, so that a server sending
// the bytes of the wrong offset fails a seek's check.
func bigContent() io.Reader { return rand.NewChaCha8([32]byte{'d', 'e', 't', 'a', 'i', 'l', 's'}) }
