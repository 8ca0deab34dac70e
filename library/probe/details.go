package probe

import "time"

// Details is what a media file holds, as far as it could be read; a zero
// field means unknown.
type Details struct {
	// Container is the file's format: "mp4" (also MOV, M4V, M4A, 3GP),
	// "matroska", "webm", "avi", "mpegts" (also M2TS), "mp3", "flac",
	// "ogg", "wav", "jpeg", "png", "gif" or "webp".
	Container string
	// Duration is the running time, rounded to the microsecond.
	Duration time.Duration
	// Width and Height are the picture size of the first video track or
	// of an image, in pixels (coded size less cropping, as ffprobe
	// reports it; no rotation applied).
	Width, Height int
	// VideoCodec is ffprobe's name of the first video track's codec:
	// "h264", "hevc", "mpeg4", "mpeg2video", "vp9", "av1", ...; for an
	// image the picture's codec ("mjpeg", "png", "gif", "webp"). Cover art
	// is not a video track.
	VideoCodec string
	// AudioCodec is ffprobe's name of the first audio track's codec:
	// "aac", "mp3", "ac3", "eac3", "dts", "flac", "opus", "vorbis",
	// "pcm_s16le", ...
	AudioCodec string
	// Bitrate is the overall bit rate in bits per second: the file's size
	// over its duration.
	Bitrate int64
	// Channels and SampleRate (Hz) are those of the first audio track.
	Channels   int
	SampleRate int
	// Title, Artist and Album are tags (music; also video titles where
	// present), cleaned to valid UTF-8 without control characters.
	Title, Artist, Album string
	// Track is the track number and Year the year of the recording or
	// release, from the tags.
	Track, Year int
	// Taken is when a photo was taken: EXIF DateTimeOriginal (or
	// DateTimeDigitized), the wall clock as written. EXIF gives no zone,
	// so the location is UTC, unless the file has OffsetTimeOriginal,
	// whose offset then is the location's.
	Taken time.Time
	// HasCover reports that the file embeds cover art (see Cover).
	HasCover bool
}
