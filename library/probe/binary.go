package probe

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The binary encoding of Details: a version byte (encodingVersion), then
// the fields that are not zero, each as a key and a value, in any order.
// A key is a uvarint field<<3 | wire type; wire type 0 is a zigzag varint,
// wire type 2 a uvarint length and that many bytes. A decoder skips the
// fields it does not know, so a later version may add fields without a new
// version byte; a new version byte means an incompatible change.
const encodingVersion = 1

// Wire types.
const (
	wireVarint = 0
	wireBytes  = 2
)

// Field numbers: never reuse one.
const (
	fContainer  = 1
	fDuration   = 2 // microseconds
	fWidth      = 3
	fHeight     = 4
	fVideoCodec = 5
	fAudioCodec = 6
	fBitrate    = 7
	fChannels   = 8
	fSampleRate = 9
	fTitle      = 10
	fArtist     = 11
	fAlbum      = 12
	fTrack      = 13
	fYear       = 14
	fHasCover   = 15
	fTaken      = 16 // wall-clock seconds since 1970 as if in UTC
	fTakenZone  = 17 // the zone's offset east of UTC in seconds, if not UTC
	fTakenNanos = 18
)

// maxEncodedString bounds a string field when decoding.
const maxEncodedString = 1 << 16

// MarshalBinary encodes d compactly for the store (see UnmarshalBinary): a
// typical video's details take about 45 bytes. Duration is kept to the
// microsecond.
func (d Details) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 48+len(d.Container)+len(d.VideoCodec)+len(d.AudioCodec)+len(d.Title)+len(d.Artist)+len(d.Album))
	b = append(b, encodingVersion)
	str := func(f int, s string) {
		if s != "" {
			b = binary.AppendUvarint(b, uint64(f)<<3|wireBytes)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	num := func(f int, v int64) {
		if v != 0 {
			b = binary.AppendUvarint(b, uint64(f)<<3|wireVarint)
			b = binary.AppendVarint(b, v)
		}
	}
	str(fContainer, d.Container)
	num(fDuration, d.Duration.Microseconds())
	num(fWidth, int64(d.Width))
	num(fHeight, int64(d.Height))
	str(fVideoCodec, d.VideoCodec)
	str(fAudioCodec, d.AudioCodec)
	num(fBitrate, d.Bitrate)
	num(fChannels, int64(d.Channels))
	num(fSampleRate, int64(d.SampleRate))
	str(fTitle, d.Title)
	str(fArtist, d.Artist)
	str(fAlbum, d.Album)
	num(fTrack, int64(d.Track))
	num(fYear, int64(d.Year))
	if d.HasCover {
		num(fHasCover, 1)
	}
	if !d.Taken.IsZero() {
		_, off := d.Taken.Zone()
		wall := d.Taken.Unix() + int64(off)
		if wall == 0 { // would be left out as zero
			b = binary.AppendUvarint(b, uint64(fTaken)<<3|wireVarint)
			b = binary.AppendVarint(b, 0)
		}
		num(fTaken, wall)
		if d.Taken.Location() != time.UTC {
			b = binary.AppendUvarint(b, uint64(fTakenZone)<<3|wireVarint)
			b = binary.AppendVarint(b, int64(off))
		}
		num(fTakenNanos, int64(d.Taken.Nanosecond()))
	}
	return b, nil
}

// Errors of UnmarshalBinary made once: it runs for every object of a
// DLNA page.
var (
	errTruncated  = fmt.Errorf("%w: truncated", ErrEncoding)
	errOutOfRange = fmt.Errorf("%w: value out of range", ErrEncoding)
)

// checkedIntField returns v as an int field, which holds 32 bits.
func checkedIntField(v int64) (int, error) {
	if v < -1<<31 || v > 1<<31-1 {
		return 0, errOutOfRange
	}
	return int(v), nil
}

// UnmarshalBinary decodes what MarshalBinary made, replacing all of d. It
// skips fields it does not know (written by a later version), and returns
// an error wrapping ErrEncoding for data that is not such an encoding and
// ErrNewerEncoding for one of a newer, incompatible version.
func (d *Details) UnmarshalBinary(data []byte) error {
	*d = Details{}
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", ErrEncoding)
	}
	if data[0] != encodingVersion {
		if data[0] > encodingVersion {
			return fmt.Errorf("%w: version %d", ErrNewerEncoding, data[0])
		}
		return fmt.Errorf("%w: version %d", ErrEncoding, data[0])
	}
	var (
		taken       bool
		wall, nanos int64
		zone        int64
		hasZone     bool
		rest        = data[1:]
	)
	for len(rest) > 0 {
		key, n := binary.Uvarint(rest)
		if n <= 0 {
			return errTruncated
		}
		rest = rest[n:]
		field, wire := key>>3, key&7
		var (
			v int64
			s string
		)
		switch wire {
		case wireVarint:
			v, n = binary.Varint(rest)
			if n <= 0 {
				return errTruncated
			}
			rest = rest[n:]
		case wireBytes:
			l, n := binary.Uvarint(rest)
			if n <= 0 || l > uint64(len(rest)-n) {
				return errTruncated
			}
			if l > maxEncodedString {
				return fmt.Errorf("%w: string of %d bytes", ErrEncoding, l)
			}
			s = string(rest[n : n+int(l)])
			rest = rest[n+int(l):]
		default:
			return fmt.Errorf("%w: wire type %d", ErrEncoding, wire)
		}
		var err error
		switch field {
		case fContainer:
			d.Container = s
		case fDuration:
			if v > int64(maxDuration/time.Microsecond) || v < -int64(maxDuration/time.Microsecond) {
				return errOutOfRange
			}
			d.Duration = time.Duration(v) * time.Microsecond
		case fWidth:
			d.Width, err = checkedIntField(v)
		case fHeight:
			d.Height, err = checkedIntField(v)
		case fVideoCodec:
			d.VideoCodec = s
		case fAudioCodec:
			d.AudioCodec = s
		case fBitrate:
			d.Bitrate = v
		case fChannels:
			d.Channels, err = checkedIntField(v)
		case fSampleRate:
			d.SampleRate, err = checkedIntField(v)
		case fTitle:
			d.Title = s
		case fArtist:
			d.Artist = s
		case fAlbum:
			d.Album = s
		case fTrack:
			d.Track, err = checkedIntField(v)
		case fYear:
			d.Year, err = checkedIntField(v)
		case fHasCover:
			d.HasCover = v != 0
		case fTaken:
			taken, wall = true, v
		case fTakenZone:
			if v < -24*3600 || v > 24*3600 {
				return errOutOfRange
			}
			hasZone, zone = true, v
		case fTakenNanos:
			if v < 0 || v >= 1e9 {
				return errOutOfRange
			}
			nanos = v
		}
		if err != nil {
			return err
		}
	}
	if taken {
		if wall < minTakenUnix || wall > maxTakenUnix {
			return errOutOfRange
		}
		if hasZone {
			d.Taken = time.Unix(wall-zone, nanos).In(time.FixedZone("", int(zone)))
		} else {
			d.Taken = time.Unix(wall, nanos).UTC()
		}
	}
	return nil
}

// The range of Taken the encoding accepts: years 1 to 9999.
const (
	minTakenUnix = -62135596800
	maxTakenUnix = 253402300799
)
