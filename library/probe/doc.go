// Package probe reads what a media file holds (running time, picture
// size, codecs, bit rate, channels, sample rate, music tags, when a photo
// was taken, embedded cover art) in pure Go, without ffmpeg.
//
// [Probe] tells the format from the file's first bytes and runs the
// prober of that container, each in its own file: MP4/MOV/M4V/M4A/3GP
// (mp4.go), Matroska/WebM (matroska.go), AVI (avi.go), WAV (wav.go),
// MPEG-TS and M2TS (ts.go), MP3 (mp3.go, id3.go), FLAC (flac.go), Ogg
// Vorbis/Opus/FLAC (ogg.go), JPEG (jpeg.go, exif.go), PNG (png.go), GIF
// (gif.go) and WebP (webp.go). Each reads only what it needs: headers,
// and an index near the start or the end (the moov box of an MP4 wherever
// it is, the SeekHead's targets of a Matroska file, the last packets of a
// transport stream, the last Ogg page), never more than [MaxRead] bytes
// of a file, through a small cache of aligned blocks.
// Every size a file declares is checked against its parent and the file;
// nothing is allocated by a declared size, nesting is bounded, and each
// probe has a budget of parser steps, so a truncated, corrupt or hostile
// file gives unknown (zero) fields in bounded time and memory, never a
// panic or an error. Codec names are ffprobe's, so details read the same
// whichever tool made them.
//
// [Cover] returns a file's embedded cover art. [Details.MarshalBinary]
// encodes details compactly for the store.
//
// Why our own parsers, and not a tag, MP4 or EXIF library: the bound on
// what a probe reads and allocates is the point, and the libraries do not
// keep it. github.com/dhowden/tag (served by the module proxy as a
// pseudo-version) read the whole ID3 tag to give a title: 64 MiB
// allocated for an MP3 with a 20 MB cover (measured 4 December 2026),
// where a probe reads at most MaxRead; it gives no durations either, so
// MP3 and MP4 frames would be parsed here anyway. github.com/abema/go-mp4
// was not served ("This module version is not available"). Of EXIF only
// the date taken is read (exif.go), which did not earn
// github.com/dsoprea/go-exif/v3 and its dependencies.
package probe
