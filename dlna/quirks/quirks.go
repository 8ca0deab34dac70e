// Package quirks tells DLNA clients apart by what they send (User-Agent,
// X-AV-Client-Info, DLNADeviceName.lge.com) and says which of their known
// quirks to work around. It is the one place where client-specific
// behaviour is decided: the rest of the server asks [Set.Has], never the
// User-Agent.
//
// # Quirks
//
// Each quirk is a flag of [Set], listed in the table quirkInfo with its
// reason and the public source that reported it (issue numbers are on
// GitHub). A flag exists only while some code acts on it:
//
//	| flag             | clients              | what the server does                                   |
//	|------------------|----------------------|--------------------------------------------------------|
//	| MKVAsXMKV        | Samsung TVs, BD      | Matroska is video/x-mkv, not video/x-matroska (media)  |
//	| AVIAsVideoAVI    | Xbox, Windows, Kodi  | AVI is video/avi, not video/x-msvideo (media)          |
//	| SubtitleTitleDot | LG                   | a video with a subtitle gets a dot in its title (dlna)  |
//	| SubtitleRes      | LG, Samsung, Kodi    | a video's subtitle is an extra text/srt res (dlna)      |
//	| CaptionInfoEx    | Samsung TVs          | sec:CaptionInfoEx names a video's subtitle (dlna)       |
//	| BookmarkMillis   | Samsung Q series     | X_SetBookmark positions are milliseconds (dlna)         |
//
// # Rules for every client
//
// Some fixes are right for every client, so they need no flag:
//   - DLNA.ORG_PN is never sent: a wrong or unmatched profile makes a
//     Samsung refuse the item ("no matched DLNA.ORG_PN", gerbera#1426),
//     Rygel drops it for LG, and a server that does not transcode cannot be
//     certain of one.
//   - A .srt subtitle is text/srt for everyone (media.MIMEType): LG loads
//     subtitles only as text/srt, not application/x-subrip (Rygel's LG
//     rule), Samsung takes text/srt too, and MiniDLNA has served every
//     client text/srt for years.
//   - CaptionInfo.sec is answered whenever a request asks for it with
//     getCaptionInfo.sec: 1 (media.Serve): only Samsung asks.
//   - contentFeatures.dlna.org is answered whenever it is asked for:
//     without it Samsung greys out pause and seek (dms#165).
//
// # Clients
//
// [Detect] goes through the table clientTable in order and takes the
// first row whose header contains the row's text (ASCII letters compared
// without regard to case). The rows recognise Samsung (User-Agent with
// SEC_HHP_, SamsungWiselinkPro or Samsung DTV DMR; AllShare on a PC sends
// SEC_HHP_[PC] and gets no Samsung quirks), LG (LGE_DLNA_SDK in the
// User-Agent, or a DLNADeviceName.lge.com header), Sony (X-AV-Client-Info
// naming Sony Corporation or BRAVIA), Xbox and Windows Media Player, and,
// by name only for the status page, VLC, Kodi and GUPnP.
package quirks

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Set is a set of quirks, each a named flag below.
type Set uint32

// The quirks. quirkInfo gives each one's reason and source.
const (
	// MKVAsXMKV: Matroska video is announced and served as video/x-mkv.
	MKVAsXMKV Set = 1 << iota
	// AVIAsVideoAVI: AVI video is announced and served as video/avi.
	AVIAsVideoAVI
	// SubtitleTitleDot: a video that has a subtitle gets a title with a
	// dot in it (a dot is appended when the title has none).
	SubtitleTitleDot
	// SubtitleRes: a video's subtitle is offered as an extra
	// <res protocolInfo="http-get:*:text/srt:*"> of the video item.
	SubtitleRes
	// CaptionInfoEx: a video's subtitle is named in the DIDL-Lite with
	// <sec:CaptionInfoEx sec:type="srt">URL</sec:CaptionInfoEx>.
	CaptionInfoEx
	// BookmarkMillis: X_SetBookmark's PosSecond is in milliseconds, and
	// the BM= of sec:dcmInfo is returned in milliseconds too.
	BookmarkMillis

	numQuirks = iota
)

// Info describes one quirk: the flag, its name, why it exists and where
// that was reported.
type Info struct {
	Flag   Set
	Name   string
	Reason string
	Source string
}

// quirkInfo is the table of quirks, one row per flag, in flag order.
var quirkInfo = [numQuirks]Info{
	{MKVAsXMKV, "MKVAsXMKV",
		"Samsung TVs and players list and play Matroska only when its MIME type is video/x-mkv (the registered video/x-matroska is refused)",
		"MiniDLNA upnpsoap.c (FLAG_SAMSUNG: x-matroska becomes x-mkv); Rygel; DLNA.md"},
	{AVIAsVideoAVI, "AVIAsVideoAVI",
		"Xbox 360, Windows Media Player and Kodi expect AVI as video/avi and skip video/x-msvideo items",
		"MiniDLNA clients.c (FLAG_MIME_AVI_AVI for Xbox, Windows, Kodi)"},
	{SubtitleTitleDot, "SubtitleTitleDot",
		"LG TVs load a subtitle only when the item's dc:title contains a dot",
		"MiniDLNA upnpsoap.c (\"LG hack: subtitles won't get used unless dc:title contains a dot\"); DLNA.md"},
	{SubtitleRes, "SubtitleRes",
		"LG TVs, Samsung TVs and Kodi find a video's subtitle as an extra text/srt <res>; other clients may pick that res as the video, so only these get it",
		"MiniDLNA clients.c (FLAG_CAPTION_RES for LG, Samsung, Kodi); jellyfin#7771"},
	{CaptionInfoEx, "CaptionInfoEx",
		"Samsung TVs find a video's subtitle through sec:CaptionInfoEx in the DIDL-Lite (and the CaptionInfo.sec header, sent to whoever asks)",
		"jellyfin#7771, #8674, #10312; gerbera#3607; MiniDLNA upnpsoap.c"},
	{BookmarkMillis, "BookmarkMillis",
		"Samsung Q-series TVs (2019 on) send X_SetBookmark positions in milliseconds, and read BM= in milliseconds",
		"MiniDLNA clients.c (FLAG_CONVERT_MS for \"SEC_HHP_[TV] Samsung Q\"); DLNA.md"},
}

// Quirks returns the description of every quirk, in flag order.
func Quirks() []Info { return quirkInfo[:] }

// Has reports whether s holds every quirk of q.
func (s Set) Has(q Set) bool { return s&q == q }

// String returns the names of the quirks in s joined by "|", "" for none.
// Bits that name no quirk are left out.
func (s Set) String() string {
	var names []string
	for _, q := range quirkInfo {
		if s.Has(q.Flag) {
			names = append(names, q.Name)
		}
	}
	return strings.Join(names, "|")
}

// Client is what Detect makes of a client.
type Client struct {
	// Name is the kind of client: "Samsung TV", "LG TV", "Sony BRAVIA",
	// "Xbox", "VLC", ... (the names are in clientTable), or "" when
	// unknown.
	Name string
	// Model is what the client says about itself when a TV or player
	// names its model ("[TV] Samsung Q7 Series (55)", "[LG] webOS TV
	// OLED65B9SLA", "BRAVIA KDL-40EX503"), cleaned for display: valid
	// UTF-8, no control characters, at most maxModel bytes. It may be "".
	Model string
	// Quirks are the quirks to work around for this client.
	Quirks Set
}

// Client headers, as net/http canonicalizes them.
const (
	hdrUserAgent   = "User-Agent"
	hdrAVClient    = "X-Av-Client-Info"       // Sony
	hdrLGDevice    = "Dlnadevicename.lge.com" // LG
	samsungQuirks  = MKVAsXMKV | SubtitleRes | CaptionInfoEx
	maxModel       = 64
	maxHeaderBytes = 1024 // longer header values are looked at up to here
)

// clientRule is one row of clientTable.
type clientRule struct {
	header   string // canonical header name
	contains string // text the header must contain, ASCII case folded; "" = present
	name     string
	quirks   Set
	model    func(v string) string // the Model from the header's value; nil for none
}

// clientTable recognises clients; the first matching row wins, so a more
// specific row comes before a more general one. The test file holds a
// real header value for every row.
var clientTable = []clientRule{
	// AllShare on a PC (DLNADOC/1.50 SEC_HHP_[PC]LPC001/1.0): Samsung's
	// capabilities would confuse Windows (MiniDLNA clients.c).
	{hdrUserAgent, "SEC_HHP_[PC]", "Samsung AllShare", 0, nil},
	// DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0
	{hdrUserAgent, "SEC_HHP_[TV] Samsung Q", "Samsung TV", samsungQuirks | BookmarkMillis, samsungModel},
	// DLNADOC/1.50 SEC_HHP_BD-D5100/1.0: Blu-ray players; MiniDLNA keeps
	// them apart from the TVs, as extra features confuse their browsing.
	{hdrUserAgent, "SEC_HHP_BD", "Samsung Blu-ray", MKVAsXMKV, samsungModel},
	{hdrUserAgent, "[BD]J5500", "Samsung Blu-ray", MKVAsXMKV | SubtitleRes, nil},
	// DLNADOC/1.50 SEC_HHP_[TV]UE40D7000/1.0 and SEC_HHP_ Family TV/1.0
	{hdrUserAgent, "SEC_HHP_", "Samsung TV", samsungQuirks, samsungModel},
	{hdrUserAgent, "SamsungWiselinkPro", "Samsung TV", MKVAsXMKV, nil},
	{hdrUserAgent, "Samsung DTV DMR", "Samsung TV", MKVAsXMKV, nil},
	// Linux/3.0.13 UPnP/1.0 LGE_DLNA_SDK/1.6.0 [TV][LG]32LB5800-ZM/04.04.06 DLNADOC/1.50
	{hdrLGDevice, "", "LG TV", SubtitleTitleDot | SubtitleRes, lgDeviceModel},
	{hdrUserAgent, "LGE_DLNA_SDK", "LG TV", SubtitleTitleDot | SubtitleRes, lgAgentModel},
	// av=5.0; cn="Sony Corporation"; mn="BRAVIA KDL-40EX503"; mv="1.7";
	{hdrAVClient, "BRAVIA", "Sony BRAVIA", 0, sonyModel},
	{hdrAVClient, "Sony", "Sony", 0, sonyModel},
	// Xbox/2.0.8955.0 UPnP/1.0 Xbox/2.0.8955.0
	{hdrUserAgent, "Xbox", "Xbox", AVIAsVideoAVI, nil},
	// Windows-Media-Player/12.0.7601.17514, and Windows' own DLNA stack
	// (Microsoft-Windows/10.0 UPnP/1.0 Microsoft-DLNA DLNADOC/1.50)
	{hdrUserAgent, "Windows-Media-Player", "Windows Media Player", AVIAsVideoAVI, nil},
	{hdrUserAgent, "Microsoft-DLNA", "Windows", AVIAsVideoAVI, nil},
	{hdrUserAgent, "Kodi", "Kodi", AVIAsVideoAVI | SubtitleRes, nil},
	{hdrUserAgent, "VLC", "VLC", 0, nil},
	{hdrUserAgent, "GUPnP", "GUPnP", 0, nil},
}

// Detect recognises the client that sent the request headers h. An
// unknown client gets the zero Client: no name, no quirks.
func Detect(h http.Header) Client {
	for _, r := range clientTable {
		vs := h.Values(r.header)
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		if len(v) > maxHeaderBytes {
			v = v[:maxHeaderBytes]
		}
		if r.contains != "" && !containsFold(v, r.contains) {
			continue
		}
		c := Client{Name: r.name, Quirks: r.quirks}
		if r.model != nil {
			c.Model = clean(r.model(v))
		}
		return c
	}
	return Client{}
}

// containsFold reports whether s contains substr, ASCII letters compared
// without regard to case.
func containsFold(s, substr string) bool {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		if asciiEqualFold(s[i:i+n], substr) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// samsungModel takes "[TV] Samsung Q7 Series (49)" out of
// "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0".
func samsungModel(ua string) string {
	i := strings.Index(ua, "SEC_HHP_")
	if i < 0 {
		return ""
	}
	m := ua[i+len("SEC_HHP_"):]
	m, _, _ = strings.Cut(m, "/")
	return m
}

// lgDeviceModel decodes the URL-escaped DLNADeviceName.lge.com header
// ("%5bLG%5d%20webOS%20TV%20OLED65B9SLA").
func lgDeviceModel(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// lgAgentModel takes "[TV][LG]32LB5800-ZM" out of an LG User-Agent, or
// "" when the agent names no model.
func lgAgentModel(ua string) string {
	for f := range strings.FieldsSeq(ua) {
		if strings.HasPrefix(f, "[") {
			if j := strings.Index(f, "/"); j >= 0 {
				f = f[:j]
			}
			return f
		}
	}
	return ""
}

// sonyModel takes the mn="..." value out of X-AV-Client-Info.
func sonyModel(v string) string {
	_, after, ok := strings.Cut(v, `mn="`)
	if !ok {
		return ""
	}
	m, _, _ := strings.Cut(after, `"`)
	return m
}

// clean makes s fit for a status page: invalid UTF-8 and control
// characters dropped, spaces collapsed, at most maxModel bytes.
func clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			if b.Len()+1 > maxModel {
				break
			}
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > maxModel {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
