package store

import (
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
)

// typical is a typical film's details.
var typical = probe.Details{
	Container: "matroska", Duration: time.Hour + 52*time.Minute + 30*time.Second + 120*time.Millisecond,
	Width: 1920, Height: 1080, VideoCodec: "h264", AudioCodec: "aac",
	Bitrate: 8_123_456, Channels: 6, SampleRate: 48000, Title: "Some Film",
}

// typicalDetails is typical encoded as probe encodes it.
func typicalDetails(tb testing.TB) []byte {
	raw, err := typical.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// readDetails reads and decodes the details of rel for the restart
// benchmark.
func readDetails(s *Store, rel string, st Stamp) bool {
	d, ok := s.Details("Videos", rel, st)
	return ok && d.Width == typical.Width
}
