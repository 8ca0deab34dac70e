package probe

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// sameDetails compares details field by field (Taken by instant and zone
// offset, as time.Time's location pointer differs after decoding).
func sameDetails(a, b Details) bool {
	_, ao := a.Taken.Zone()
	_, bo := b.Taken.Zone()
	ta, tb := a.Taken, b.Taken
	a.Taken, b.Taken = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && ao == bo && (ta.Location() == time.UTC) == (tb.Location() == time.UTC)
}

func TestDetailsBinaryRoundTrip(t *testing.T) {
	video := Details{Container: "matroska", Duration: 2*time.Hour + 3*time.Minute + 4567*time.Microsecond,
		Width: 1920, Height: 1080, VideoCodec: "h264", AudioCodec: "ac3", Bitrate: 8_123_456, Channels: 6, SampleRate: 48000}
	for _, tc := range []struct {
		name    string
		d       Details
		maxSize int
	}{
		{"zero", Details{}, 1},
		{"typical video", video, 48},
		{"music", Details{Container: "mp3", Duration: 215 * time.Second, AudioCodec: "mp3", Bitrate: 320000, Channels: 2, SampleRate: 44100,
			Title: "Süße Grüße", Artist: "The Testers", Album: "Golden Files", Track: 7, Year: 2021, HasCover: true}, 80},
		{"photo, no zone", Details{Container: "jpeg", Width: 4000, Height: 3000, VideoCodec: "mjpeg", Taken: time.Date(2021, 7, 4, 12, 34, 56, 0, time.UTC)}, 40},
		{"photo with zone", Details{Container: "jpeg", Taken: time.Date(2021, 7, 4, 12, 34, 56, 0, time.FixedZone("", -(3*3600+1800)))}, 40},
		{"photo at the epoch, sub-second", Details{Taken: time.Date(1970, 1, 1, 0, 0, 0, 5, time.UTC)}, 40},
		{"photo in year 1", Details{Taken: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)}, 40},
		{"extremes", Details{Duration: maxDuration, Width: 1<<31 - 1, Height: -1 << 31, Bitrate: 1<<63 - 1, Channels: -5}, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > tc.maxSize {
				t.Errorf("%d bytes, want at most %d", len(b), tc.maxSize)
			}
			var got Details
			got.Title = "stale"
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !sameDetails(got, tc.d) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.d)
			}
		})
	}
	b, _ := video.MarshalBinary()
	t.Logf("a typical video's details take %d bytes", len(b))
}

func TestDetailsBinaryErrors(t *testing.T) {
	good, _ := Details{Container: "mp4", Width: 640, Title: "x"}.MarshalBinary()
	key := func(field, wire int) []byte { return binary.AppendUvarint(nil, uint64(field<<3|wire)) }
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEncoding},
		{"older version", []byte{0}, ErrEncoding},
		{"newer version", []byte{2, 1, 2}, ErrNewerEncoding},
		{"truncated string", good[:len(good)-1], ErrEncoding},
		{"truncated key", append([]byte{1}, 0x80), ErrEncoding},
		{"truncated varint", append(append([]byte{1}, key(fWidth, wireVarint)...), 0x80), ErrEncoding},
		{"bad wire type", append([]byte{1}, key(fWidth, 5)...), ErrEncoding},
		{"huge string", append(append([]byte{1}, key(fTitle, wireBytes)...), binary.AppendUvarint(nil, 1<<40)...), ErrEncoding},
		{"width out of range", append(append([]byte{1}, key(fWidth, wireVarint)...), binary.AppendVarint(nil, 1<<40)...), ErrEncoding},
		{"duration out of range", append(append([]byte{1}, key(fDuration, wireVarint)...), binary.AppendVarint(nil, 1<<62)...), ErrEncoding},
		{"zone out of range", append(append([]byte{1}, key(fTakenZone, wireVarint)...), binary.AppendVarint(nil, 1<<20)...), ErrEncoding},
		{"taken out of range", append(append([]byte{1}, key(fTaken, wireVarint)...), binary.AppendVarint(nil, 1<<50)...), ErrEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Details
			if err := d.UnmarshalBinary(tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("UnmarshalBinary(%x) = %v, want %v", tc.data, err, tc.want)
			}
		})
	}
}

// TestDetailsBinaryUnknownFields: fields a later version adds are
// skipped.
func TestDetailsBinaryUnknownFields(t *testing.T) {
	d := Details{Container: "mp4", Width: 640, Height: 360}
	b, _ := d.MarshalBinary()
	b = binary.AppendUvarint(b, 40<<3|wireVarint)
	b = binary.AppendVarint(b, 12345)
	b = binary.AppendUvarint(b, 41<<3|wireBytes)
	b = binary.AppendUvarint(b, 3)
	b = append(b, "new"...)
	b = binary.AppendUvarint(b, fTitle<<3|wireBytes)
	b = binary.AppendUvarint(b, 5)
	b = append(b, "after"...)
	var got Details
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	d.Title = "after"
	if !sameDetails(got, d) {
		t.Fatalf("got %+v, want %+v", got, d)
	}
}
