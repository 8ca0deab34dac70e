// Package thumb makes thumbnails of artwork and keeps them on disk: the
// 160-pixel JPEG_TN pictures a TV shows beside a film, a song or a folder
// (upnp:albumArtURI), and the larger ones of the web page's folder view.
//
// A [Cache] makes a thumbnail from the bytes of a picture the caller gives
// (a poster file beside a video, found by library.Artwork, or cover art
// embedded in a song, read by library/probe.Cover): it decodes JPEG, PNG,
// GIF (the first frame) and WebP (golang.org/x/image/webp), scales the
// picture to fit a square of the size asked for (160, 320 or 640 pixels;
// the aspect ratio is kept, the longer side is the size, a smaller picture
// is never enlarged), turns a JPEG upright as its EXIF orientation says,
// and encodes a
// baseline JFIF JPEG (DLNA's JPEG_TN profile: at most 160x160, baseline,
// 8 bits, YCbCr 4:2:0). Transparent parts come out black.
//
// Scaling is in two steps: a box filter averages blocks of k x k pixels
// down to two to three times the size (exact, cheap, no aliasing), then the Catmull-Rom filter of golang.org/x/image/draw
// scales the rest. BenchmarkThumbnail, one CPU, 160 pixels from a
// 1920x1080 JPEG on the development machine (an AMD EPYC): decoding alone
// 39 ms, the whole thumbnail 51 ms; Catmull-Rom alone would take 101 ms
// (scaling costing more than decoding), ApproxBiLinear alone 44 ms but
// aliases (TestFilterQuality: 19 dB against an exact block average, the
// two steps 50.5 dB, Catmull-Rom alone 48.6 dB).
//
// # Bounds
//
// A picture is read at most once into memory (a seekable source, such as
// a file, is read twice from disk instead: the header, then the whole) and
// never more than [Cache.MaxSource] bytes. Its header is read before it is
// decoded, and a picture of more than [Cache.MaxPixels] pixels (24 million
// by default; half that for 16-bit PNGs) is refused with [ErrTooBig]
// before any pixel memory is taken, whatever the file declares: a PNG
// claiming 30000x30000 pixels costs 75 KB (TestPixelBudget). At most
// [Cache.Workers] thumbnails are made at once, so decoding memory is
// bounded too: about 4 bytes a pixel for PNG, GIF and WebP, 1.5 for the
// usual JPEG, so 96 MiB and 36 MiB at the default budget. A corrupt or
// truncated picture is an error ([ErrCorrupt] or the decoder's), never a
// panic (a decoder's panic is recovered into ErrCorrupt).
//
// # The cache on disk
//
// Thumbnails are files in [Cache.Dir] (the state directory's "thumbs"
// folder), named after the SHA-256 of the caller's key (share, path and
// stamp of the source, so a changed file gets a new thumbnail) and the
// size: "<32 hex digits>-160.jpg". A thumbnail is written to a temporary
// file in the same folder, synced and renamed into place, so a reader or a
// power cut never sees half of one; temporary files left by a crash are
// removed on first use. Concurrent calls for the same key and size make
// the thumbnail once: the others wait for it. A picture that cannot be
// made into a thumbnail is remembered (in memory, for up to 4,096 of them)
// so it is not decoded on every request; a read error is not remembered.
//
// The whole folder is kept under [Cache.MaxBytes] (64 MiB by default:
// about 8,000 160-pixel thumbnails, or 1,500 of each of the three sizes):
// when a new thumbnail takes it over, the oldest are removed until it is
// at 90% of that. Oldest means least recently used, to the minute: a
// thumbnail found again is touched (its modification time set to now)
// when it is more than a minute old. Files younger than two minutes are
// never removed, so the path a call returns can be opened for at least a
// minute. The size is counted as files are written and counted again from
// the folder at each eviction, so it is exact to within the thumbnails
// being written meanwhile. Nothing else is ever deleted: the folder may be
// removed at any time (it is made again).
//
// # Frames of videos
//
// [Cache.FrameGrab] makes a thumbnail from a frame of a video without
// artwork, with ffmpeg, when [Cache.FFmpeg] is set (the app sets it only
// with the config `thumbnails: ffmpeg`). ffmpeg runs on one thread at the
// lowest CPU priority (nice 19) and, on Linux, in the idle I/O class,
// under [Cache.FrameTimeout]; it reads the video through a descriptor the
// caller opened (never by a path of its own), and hands a PNG of the frame
// to the same scaling path. A missing ffmpeg is logged once as a warning
// and FrameGrab returns [ErrNoFFmpeg]: the caller goes on without.
// [Cache.Frames] tells the front ends whether frame grabs are on, and
// [Cache.VideoFrame] is what they call: the frame at [FrameTime] of the
// running time (a tenth of the way in, at most two minutes), or the first
// one when there is none there. A video with no frame at all is
// remembered, and [Cache.NoFrame] lets a listing stop offering its
// picture without reading anything.
package thumb
