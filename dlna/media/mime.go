package media

import (
	"path"
	"strings"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// kind is what a file is to DLNA.
type kind uint8

const (
	kindOther kind = iota
	kindVideo
	kindAudio
	kindImage
	kindSubtitle
)

// format is one row of the type table.
type format struct {
	mime string
	kind kind
}

// types maps a lower-case extension without its dot to its format. The
// video, audio and image rows hold exactly the extensions library.KindOf
// knows (TestTypesMatchLibrary).
var types = map[string]format{
	// video
	"3g2":  {"video/3gpp2", kindVideo},
	"3gp":  {"video/3gpp", kindVideo},
	"asf":  {"video/x-ms-asf", kindVideo},
	"avi":  {"video/x-msvideo", kindVideo},
	"divx": {"video/divx", kindVideo},
	"f4v":  {"video/mp4", kindVideo},
	"flv":  {"video/x-flv", kindVideo},
	"m2t":  {"video/mp2t", kindVideo},
	"m2ts": {"video/mp2t", kindVideo},
	"m2v":  {"video/mpeg", kindVideo},
	"m4v":  {"video/mp4", kindVideo},
	"mk3d": {"video/x-matroska", kindVideo},
	"mkv":  {"video/x-matroska", kindVideo},
	"mov":  {"video/quicktime", kindVideo},
	"mp4":  {"video/mp4", kindVideo},
	"mpe":  {"video/mpeg", kindVideo},
	"mpeg": {"video/mpeg", kindVideo},
	"mpg":  {"video/mpeg", kindVideo},
	"mts":  {"video/mp2t", kindVideo},
	"ogv":  {"video/ogg", kindVideo},
	"qt":   {"video/quicktime", kindVideo},
	"rm":   {"application/vnd.rn-realmedia", kindVideo},
	"rmvb": {"application/vnd.rn-realmedia-vbr", kindVideo},
	"ts":   {"video/mp2t", kindVideo},
	"vob":  {"video/mpeg", kindVideo},
	"webm": {"video/webm", kindVideo},
	"wmv":  {"video/x-ms-wmv", kindVideo},
	// audio
	"aac":  {"audio/aac", kindAudio},
	"ac3":  {"audio/ac3", kindAudio},
	"aif":  {"audio/aiff", kindAudio},
	"aifc": {"audio/aiff", kindAudio},
	"aiff": {"audio/aiff", kindAudio},
	"alac": {"audio/mp4", kindAudio},
	"ape":  {"audio/x-ape", kindAudio},
	"dff":  {"audio/x-dff", kindAudio},
	"dsf":  {"audio/x-dsf", kindAudio},
	"dts":  {"audio/vnd.dts", kindAudio},
	"flac": {"audio/flac", kindAudio},
	"m4a":  {"audio/mp4", kindAudio},
	"m4b":  {"audio/mp4", kindAudio},
	"mka":  {"audio/x-matroska", kindAudio},
	"mp2":  {"audio/mpeg", kindAudio},
	"mp3":  {"audio/mpeg", kindAudio},
	"mpc":  {"audio/x-musepack", kindAudio},
	"oga":  {"audio/ogg", kindAudio},
	"ogg":  {"audio/ogg", kindAudio},
	"opus": {"audio/ogg", kindAudio},
	"wav":  {"audio/wav", kindAudio},
	"wma":  {"audio/x-ms-wma", kindAudio},
	"wv":   {"audio/x-wavpack", kindAudio},
	// image
	"arw":  {"image/x-sony-arw", kindImage},
	"avif": {"image/avif", kindImage},
	"bmp":  {"image/bmp", kindImage},
	"cr2":  {"image/x-canon-cr2", kindImage},
	"cr3":  {"image/x-canon-cr3", kindImage},
	"dng":  {"image/x-adobe-dng", kindImage},
	"gif":  {"image/gif", kindImage},
	"heic": {"image/heic", kindImage},
	"heif": {"image/heif", kindImage},
	"jpeg": {"image/jpeg", kindImage},
	"jpg":  {"image/jpeg", kindImage},
	"jxl":  {"image/jxl", kindImage},
	"nef":  {"image/x-nikon-nef", kindImage},
	"orf":  {"image/x-olympus-orf", kindImage},
	"png":  {"image/png", kindImage},
	"raf":  {"image/x-fuji-raf", kindImage},
	"rw2":  {"image/x-panasonic-rw2", kindImage},
	"tif":  {"image/tiff", kindImage},
	"tiff": {"image/tiff", kindImage},
	"webp": {"image/webp", kindImage},
	// subtitles: text/srt for every client (see package quirks)
	"srt": {"text/srt", kindSubtitle},
	"ass": {"text/x-ssa", kindSubtitle},
	"ssa": {"text/x-ssa", kindSubtitle},
	"vtt": {"text/vtt", kindSubtitle},
}

// octetStream is the type of a file with an extension not in the table.
const octetStream = "application/octet-stream"

// lookup returns the format of the file named name, by its extension
// without regard to case.
func lookup(name string) (format, bool) {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 6 {
		return format{octetStream, kindOther}, false
	}
	f, ok := types[strings.ToLower(ext[1:])]
	if !ok {
		return format{octetStream, kindOther}, false
	}
	return f, true
}

// MIMEType returns the MIME type of the file named name, by its extension
// without regard to case, as the client with quirks q should see it:
// "video/x-matroska" for "Film.mkv" ("video/x-mkv" with
// quirks.MKVAsXMKV), "text/srt" for a SubRip subtitle,
// "application/octet-stream" for an extension the table lacks.
func MIMEType(name string, q quirks.Set) string {
	f, _ := lookup(name)
	switch {
	case f.mime == "video/x-matroska" && q.Has(quirks.MKVAsXMKV):
		return "video/x-mkv"
	case f.mime == "video/x-msvideo" && q.Has(quirks.AVIAsVideoAVI):
		return "video/avi"
	}
	return f.mime
}

// The upnp:class values ClassOf returns.
const (
	ClassVideo = "object.item.videoItem"
	ClassAudio = "object.item.audioItem.musicTrack"
	ClassImage = "object.item.imageItem.photo"
	ClassItem  = "object.item"
)

// ClassOf returns the upnp:class of the file named name: ClassVideo,
// ClassAudio or ClassImage by its extension, else ClassItem.
func ClassOf(name string) string {
	f, _ := lookup(name)
	switch f.kind {
	case kindVideo:
		return ClassVideo
	case kindAudio:
		return ClassAudio
	case kindImage:
		return ClassImage
	}
	return ClassItem
}

// The DLNA.ORG_FLAGS bits used (DLNA guidelines 7.4.1.3.24).
const (
	flagStreaming   = 1 << 24 // streaming transfer mode
	flagInteractive = 1 << 23 // interactive transfer mode
	flagBackground  = 1 << 22 // background transfer mode
	flagStall       = 1 << 21 // the connection may be stalled (paused)
	flagDLNA15      = 1 << 20 // DLNA v1.5

	streamingFlags   = flagStreaming | flagBackground | flagStall | flagDLNA15 // 01700000
	interactiveFlags = flagInteractive | flagBackground | flagDLNA15           // 00D00000
)

// features formats the fourth field for the given flags: the primary
// flags in 8 hex digits, then 24 reserved zeros.
func features(flags uint32) string {
	const hex = "0123456789ABCDEF"
	var b [8]byte
	for i := range b {
		b[7-i] = hex[flags>>(4*i)&0xF]
	}
	return "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=" + string(b[:]) + "000000000000000000000000"
}

var (
	streamingFeatures   = features(streamingFlags)
	interactiveFeatures = features(interactiveFlags)
)

// ContentFeatures returns the fourth field of the protocolInfo of the file
// named name, which is also the value of the contentFeatures.dlna.org
// header: byte seek, not converted, and the streaming flags for audio and
// video or the interactive ones for anything else. The quirks do not
// change it today; they are an argument so that a future one can.
func ContentFeatures(name string, q quirks.Set) string {
	f, _ := lookup(name)
	if f.kind == kindVideo || f.kind == kindAudio {
		return streamingFeatures
	}
	return interactiveFeatures
}

// ProtocolInfo returns the res@protocolInfo of the file named name for the
// client with quirks q: "http-get:*:<MIMEType>:<ContentFeatures>". A
// subtitle's is "http-get:*:text/srt:*", as MiniDLNA and Rygel announce
// them.
func ProtocolInfo(name string, q quirks.Set) string {
	f, _ := lookup(name)
	fourth := "*"
	if f.kind != kindSubtitle {
		fourth = ContentFeatures(name, q)
	}
	return "http-get:*:" + MIMEType(name, q) + ":" + fourth
}
