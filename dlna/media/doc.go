// Package media says what a file is to a DLNA client and streams it.
//
// # Types
//
// [MIMEType] looks the extension up in the package's own table, never in
// /etc/mime.types or by sniffing: both vary between machines, and Go's
// sniffer calls Matroska video/webm. Every extension that
// library.KindOf calls video, audio or image has a type here (a test keeps
// the two in step), and so do the subtitle formats srt, ass, ssa and vtt.
// A client's quirks can change a type: video/x-mkv for Matroska on Samsung
// (quirks.MKVAsXMKV), video/avi for AVI on Xbox and Windows
// (quirks.AVIAsVideoAVI). [ClassOf] gives the upnp:class,
// [ProtocolInfo] the res@protocolInfo and [ContentFeatures] its fourth
// field, which is also the contentFeatures.dlna.org header:
//
//	audio, video: DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000
//	images, other files: DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=00D00000000000000000000000000000
//
// OP=01 offers byte seek (Range), not time seek; CI=0 says the file is
// sent as it is, not converted. The flags are DLNA v1.5 with background
// transfer, plus streaming transfer and connection stalling for audio and
// video, or interactive transfer for the rest. DLNA.ORG_PN is never sent:
// see package quirks.
//
// # Streaming
//
// [Serve] answers GET and HEAD for one open file:
//   - Range: bytes=a-b, a- and -n (one range) get 206 Partial Content
//     with Content-Range; a range that starts past the end (or -0) gets 416
//     with Content-Range: bytes */size. A Range header this package
//     cannot use is ignored and the whole file sent with 200, as RFC 9110
//     allows: another unit, a malformed range, and several ranges (players
//     ask for one; a multipart reply would be of no use to a TV). If-Range
//     with a date other than the file's Last-Modified also gets the whole
//     file.
//   - Every answer carries Content-Type, Accept-Ranges: bytes,
//     Last-Modified (unless the file's time is before 1970, a Pi without
//     a clock), EXT, transferMode.dlna.org and
//     realTimeInfo.dlna.org: DLNA.ORG_TLAG=*; contentFeatures.dlna.org when
//     the request has getcontentFeatures.dlna.org: 1; CaptionInfo.sec with
//     the subtitle's URL when the request has getCaptionInfo.sec: 1 and
//     [Options.CaptionURL] is set. HEAD gets the same headers as GET and no
//     body. Headers the caller set before (Server) are kept.
//   - transferMode.dlna.org: Streaming fits audio and video, Interactive
//     fits images and other files, Background fits anything; a mode that
//     does not fit gets 406 Not Acceptable, an unknown mode 400 Bad
//     Request. Without the header the item's own mode is answered.
//   - TimeSeekRange.dlna.org without a Range gets 406 (time seek is not
//     offered: OP=01 says so); with a Range the byte range is served. A
//     PlaySpeed.dlna.org other than speed=1 gets 406.
//   - Other methods get 405 with Allow: GET, HEAD.
//
// The body goes from the *os.File to the connection with sendfile(2):
// each chunk of at most 4 MiB is an io.Copy of an io.LimitedReader of the
// file into the ResponseWriter, which net/http hands to the TCP
// connection's ReadFrom. [Options.Sent] is updated after each chunk, and
// [Options.ChunkTimeout], when set, gives each chunk a write deadline, so
// a stalled client is cut while a two-hour film still streams.
//
// [ServeSubtitle] serves a subtitle file the same way, as text/srt,
// text/vtt or text/x-ssa, whatever transfer mode is asked for.
package media
