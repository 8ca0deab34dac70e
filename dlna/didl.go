package dlna

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/media"
	"github.com/mediaftpd/mediaftpd/dlna/quirks"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// DIDL-Lite (ContentDirectory:1, annex; DLNA guidelines 7.3) is the XML
// that Browse and Search return, escaped, in their Result argument.

const (
	didlHeader = `<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/"` +
		` xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/"` +
		` xmlns:dlna="urn:schemas-dlna-org:metadata-1-0/"` +
		` xmlns:sec="http://www.sec.co.kr/">`
	didlFooter = `</DIDL-Lite>`

	// classFolder is the class of every container.
	classFolder = "object.container.storageFolder"
	// didlObjectSize is about what one object takes in escaped DIDL-Lite, to size
	// the buffer ahead.
	didlObjectSize = 800
	// sizingObjects are written before the buffer of a longer page is
	// sized from what they took.
	sizingObjects = 64
	// didlDate is the layout of dc:date: ISO 8601 local time without a
	// zone, as MiniDLNA writes it; TVs show its date.
	didlDate = "2006-01-02T15:04:05"
)

// filter is a parsed Filter argument: which optional properties to send.
// The required ones (@id, @parentID, @restricted, dc:title, upnp:class)
// are always sent.
type filter struct {
	all   bool
	props map[string]bool
}

// parseFilter parses a Filter: "*" or a comma separated list of
// properties. An empty Filter means everything, as MiniDLNA takes it:
// clients that send one expect to see the res. A listed "res@..."
// attribute brings its res; "@attr" and "element@attr" are the same.
func parseFilter(s string) filter {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return filter{all: true}
	}
	f := filter{props: make(map[string]bool)}
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "*" {
			return filter{all: true}
		}
		if elem, attr, ok := strings.Cut(p, "@"); ok {
			switch elem {
			case "res":
				f.props["res"] = true
				f.props[p] = true
			case "", "item", "container":
				f.props["@"+attr] = true
			default:
				f.props[p] = true
			}
			continue
		}
		f.props[p] = true
	}
	return f
}

func (f filter) has(prop string) bool { return f.all || f.props[prop] }

// didlWriter writes one DIDL-Lite document for one client.
type didlWriter struct {
	// The escaped document is written object by object into b, then
	// moved to doc, which grows without zeroing its memory (as a
	// byte slice would, for megabytes) and is handed on without a copy.
	b      []byte
	doc    strings.Builder
	filter filter
	quirks quirks.Set // the client's
	loc    *time.Location

	// The protocolInfo of the last extension seen, escaped: a folder's
	// files mostly share one.
	protoExt, proto string

	urls urlBases
	// The last parent written and its ID: a page's objects mostly share
	// one.
	parent   object
	parentID string
}

// urlBases are the beginnings of the URLs of media, thumbnails and
// subtitles for a client that reached us at one base URL, escaped for the
// Result: with the escaped path components that follow them, they make
// URLs that are written as they are.
type urlBases struct{ media, thumbs, subtitles string }

func newURLBases(base string) urlBases {
	b := string(appendEscapedTwice(nil, base))
	return urlBases{media: b + mediaPrefix, thumbs: b + thumbPrefix, subtitles: b + subtitlePrefix}
}

// parentIDOf returns o.parentID(), made once for the objects of one
// folder in a row.
func (d *didlWriter) parentIDOf(o object) string {
	if o.kind != objPath || o.rel == "." {
		return o.parentID() // a constant
	}
	if p := pathObject(o.share, parentRel(o.rel)); p != d.parent || d.parentID == "" {
		d.parent, d.parentID = p, p.id()
	}
	return d.parentID
}

// protocolInfo returns media.ProtocolInfo(name, d.quirks), which depends
// on the extension only, escaped for the Result.
func (d *didlWriter) protocolInfo(name string) string {
	if ext := path.Ext(name); ext != d.protoExt || d.proto == "" {
		d.protoExt, d.proto = ext, string(appendEscapedTwice(nil, media.ProtocolInfo(name, d.quirks)))
	}
	return d.proto
}

func (d *didlWriter) begin() { d.mark(didlHeader) }

// escaped ends the document and returns it escaped as XML text, as the
// Result argument carries it. The writer must not be used afterwards:
// the string is its buffer, as strings.Builder.String hands on its own.
func (d *didlWriter) escaped() string {
	d.mark(didlFooter)
	d.flush()
	return d.doc.String()
}

// flush moves what was written to the document.
func (d *didlWriter) flush() {
	d.doc.Write(d.b)
	d.b = d.b[:0]
}

// grow makes room for n more bytes in the document.
func (d *didlWriter) grow(n int) { d.doc.Grow(n) }

// written returns how many bytes the document holds.
func (d *didlWriter) written() int { return d.doc.Len() + len(d.b) }

// The document is written escaped as it is made (one pass; each object is
// copied once, into the document):
// escaping works character by character, so escaping the markup and the
// escaped values piece by piece gives what escaping the whole would.

// mark writes markup (the document's head and foot; objects are written
// with the escaped tags of startTag and tag). In the Result's
// text only "<" must be escaped (and ">" after "]]"); ">" is escaped too,
// but quotes are left as they are, as Gerbera sends them: one byte each
// instead of the six of "&quot;", about twenty to an item.
func (d *didlWriter) mark(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			continue
		}
		d.b = append(d.b, s[last:i]...)
		d.b = append(d.b, esc...)
		last = i + 1
	}
	d.b = append(d.b, s[last:]...)
}

// raw writes s as it is: escaped already, or with nothing to escape.
func (d *didlWriter) raw(s string) { d.b = append(d.b, s...) }

// text writes a value: escaped for DIDL-Lite, and again for the Result.
func (d *didlWriter) text(s string) { d.b = appendEscapedTwice(d.b, s) }

// Names of elements and attributes have nothing to escape: they are
// written escaped once with their markup (&lt; for <).

// attr writes the attribute name.
func (d *didlWriter) attr(name, value string) {
	d.attrStart(name)
	d.text(value)
	d.b = append(d.b, '"')
}

// attrPlain is attr for a value with nothing to escape: digits and
// separators that a number, a duration or a date is made of.
func (d *didlWriter) attrPlain(name string, value []byte) {
	d.attrStart(name)
	d.b = append(d.b, value...)
	d.b = append(d.b, '"')
}

// attrAsIs is attr for a value escaped already, or for an ID of a
// didlObject, which is written as it is.
func (d *didlWriter) attrAsIs(name, value string) {
	d.attrStart(name)
	d.b = append(d.b, value...)
	d.b = append(d.b, '"')
}

func (d *didlWriter) attrStart(name string) {
	d.b = append(d.b, ' ')
	d.b = append(d.b, name...)
	d.b = append(d.b, `="`...)
}

// elem writes the element name holding value.
func (d *didlWriter) elem(name, value string) {
	d.tag("&lt;", name)
	d.text(value)
	d.tag("&lt;/", name)
}

// elemPlain is elem for a value with nothing to escape, as attrPlain.
func (d *didlWriter) elemPlain(name string, value []byte) {
	d.tag("&lt;", name)
	d.b = append(d.b, value...)
	d.tag("&lt;/", name)
}

// startTag writes the start of the start tag of the element name, for
// its attributes to follow.
func (d *didlWriter) startTag(name string) {
	d.b = append(d.b, "&lt;"...)
	d.b = append(d.b, name...)
}

// tag writes the start ("&lt;") or end ("&lt;/") tag of the element name.
func (d *didlWriter) tag(open, name string) {
	d.b = append(d.b, open...)
	d.b = append(d.b, name...)
	d.b = append(d.b, "&gt;"...)
}

// didlObject is one object to write. Its IDs and URLs are written as they
// are: made of escaped path components (ASCII letters, digits, "-._~%/")
// and, for URLs, the escaped urlBases, they hold nothing to escape.
type didlObject struct {
	id, parentID string
	refID        string // a recent item's real ID, else ""
	title        string // shown as it is, after cleanText
	class        string
	date         time.Time // zero for none
	dir          bool
	childCount   int
	artURL       string // of its JPEG_TN thumbnail; "" for none

	// Items only:
	url       string             // of the file, written as it is
	name      string             // the file's name, for its MIME type
	size      int64              //
	subtitles []library.Subtitle // best first; each exists
	subURLs   []string           // their URLs
	bookmark  int64              // seconds; 0 for none
	folder    string             // the title of the item's folder, for sec:dcmInfo
	details   *probe.Details     // nil when not known
}

// object writes o as a container or an item.
func (d *didlWriter) object(o *didlObject) {
	if o.dir {
		d.container(o)
	} else {
		d.item(o)
	}
	d.flush()
}

func (d *didlWriter) container(o *didlObject) {
	d.startTag("container")
	d.attrAsIs("id", o.id)
	d.attrAsIs("parentID", o.parentID)
	d.attr("restricted", "1")
	if d.filter.has("@searchable") {
		d.attr("searchable", "1")
	}
	if d.filter.has("@childCount") {
		var buf [20]byte
		d.attrPlain("childCount", strconv.AppendInt(buf[:0], int64(o.childCount), 10))
	}
	d.raw("&gt;")
	d.elem("dc:title", o.title)
	d.elem("upnp:class", o.class)
	if !o.date.IsZero() && d.filter.has("dc:date") {
		var buf [32]byte
		d.elemPlain("dc:date", d.appendDate(buf[:0], o.date))
	}
	if d.filter.has("upnp:storageUsed") {
		d.elem("upnp:storageUsed", "-1") // unknown: we do not sum folders
	}
	d.albumArt(o)
	d.tag("&lt;/", "container")
}

func (d *didlWriter) item(o *didlObject) {
	d.startTag("item")
	d.attrAsIs("id", o.id)
	d.attrAsIs("parentID", o.parentID)
	d.attr("restricted", "1")
	if o.refID != "" && d.filter.has("@refID") {
		d.attrAsIs("refID", o.refID)
	}
	d.raw("&gt;")
	title := o.title
	if len(o.subtitles) > 0 && d.quirks.Has(quirks.SubtitleTitleDot) && !strings.Contains(title, ".") {
		title += "."
	}
	d.elem("dc:title", title)
	d.elem("upnp:class", o.class)
	if !o.date.IsZero() && d.filter.has("dc:date") {
		var buf [32]byte
		d.elemPlain("dc:date", d.appendDate(buf[:0], o.date))
	}
	if o.details != nil && o.class == media.ClassAudio {
		d.tags(o.details)
	}
	d.albumArt(o)
	if o.bookmark > 0 && d.filter.has("sec:dcmInfo") {
		bm := o.bookmark
		if d.quirks.Has(quirks.BookmarkMillis) {
			bm *= 1000
		}
		d.elem("sec:dcmInfo", "CREATIONDATE=0,FOLDER="+o.folder+",BM="+strconv.FormatInt(bm, 10))
	}
	if d.filter.has("res") {
		d.startTag("res")
		d.attrAsIs("protocolInfo", d.protocolInfo(o.name))
		if d.filter.has("res@size") {
			var buf [20]byte
			d.attrPlain("size", strconv.AppendInt(buf[:0], o.size, 10))
		}
		if o.details != nil {
			d.resDetails(o.details, o.class)
		}
		d.raw("&gt;")
		d.raw(o.url)
		d.tag("&lt;/", "res")
		if o.artURL != "" {
			d.thumbRes(o.artURL)
		}
		if d.quirks.Has(quirks.SubtitleRes) {
			for i, s := range o.subtitles {
				d.startTag("res")
				d.attr("protocolInfo", "http-get:*:"+media.MIMEType(s.Path, d.quirks)+":*")
				d.raw("&gt;")
				d.raw(o.subURLs[i])
				d.tag("&lt;/", "res")
			}
		}
	}
	if len(o.subtitles) > 0 && d.quirks.Has(quirks.CaptionInfoEx) && d.filter.has("sec:CaptionInfoEx") {
		d.startTag("sec:CaptionInfoEx")
		d.attr("sec:type", o.subtitles[0].Format)
		d.raw("&gt;")
		d.raw(o.subURLs[0])
		d.tag("&lt;/", "sec:CaptionInfoEx")
	}
	d.tag("&lt;/", "item")
}

// tags writes a song's tags: artist (also as dc:creator), album and track
// number.
func (d *didlWriter) tags(t *probe.Details) {
	if t.Artist != "" {
		artist := cleanText(t.Artist)
		if d.filter.has("upnp:artist") {
			d.elem("upnp:artist", artist)
		}
		if d.filter.has("dc:creator") {
			d.elem("dc:creator", artist)
		}
	}
	if t.Album != "" && d.filter.has("upnp:album") {
		d.elem("upnp:album", cleanText(t.Album))
	}
	if t.Track > 0 && d.filter.has("upnp:originalTrackNumber") {
		d.elem("upnp:originalTrackNumber", strconv.Itoa(t.Track))
	}
}

// albumArt writes the upnp:albumArtURI of an object that has a thumbnail.
func (d *didlWriter) albumArt(o *didlObject) {
	if o.artURL == "" || !d.filter.has("upnp:albumArtURI") {
		return
	}
	d.startTag("upnp:albumArtURI")
	d.attrAsIs("dlna:profileID", "JPEG_TN")
	d.raw("&gt;")
	d.raw(o.artURL)
	d.tag("&lt;/", "upnp:albumArtURI")
}

// resDetails writes the attributes of a media file's res that its details
// give, as the filter asks: duration, resolution, bitrate (in bytes per
// second, as DLNA counts it), audio channels and sample rate.
func (d *didlWriter) resDetails(t *probe.Details, class string) {
	timed := class != media.ClassImage
	var buf [48]byte
	if t.Duration > 0 && timed && d.filter.has("res@duration") {
		d.attrPlain("duration", appendDuration(buf[:0], t.Duration))
	}
	if t.Width > 0 && t.Height > 0 && class != media.ClassAudio && d.filter.has("res@resolution") {
		d.attrPlain("resolution", strconv.AppendInt(append(strconv.AppendInt(buf[:0], int64(t.Width), 10), 'x'), int64(t.Height), 10))
	}
	if t.Bitrate >= 8 && timed && d.filter.has("res@bitrate") {
		d.attrPlain("bitrate", strconv.AppendInt(buf[:0], t.Bitrate/8, 10))
	}
	if t.Channels > 0 && timed && d.filter.has("res@nrAudioChannels") {
		d.attrPlain("nrAudioChannels", strconv.AppendInt(buf[:0], int64(t.Channels), 10))
	}
	if t.SampleRate > 0 && timed && d.filter.has("res@sampleFrequency") {
		d.attrPlain("sampleFrequency", strconv.AppendInt(buf[:0], int64(t.SampleRate), 10))
	}
}

// thumbRes writes the res of an item's JPEG_TN thumbnail at url, written
// as it is.
func (d *didlWriter) thumbRes(url string) {
	d.startTag("res")
	d.attr("protocolInfo", thumbProtocolInfo)
	d.raw("&gt;")
	d.raw(url)
	d.tag("&lt;/", "res")
}

func (d *didlWriter) date(t time.Time) string { return string(d.appendDate(nil, t)) }

// appendDate appends t as dc:date to b.
func (d *didlWriter) appendDate(b []byte, t time.Time) []byte {
	loc := d.loc
	if loc == nil {
		loc = time.Local
	}
	t = t.In(loc)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, didlDate)
	}
	// didlDate, written without parsing the layout for every object.
	hour, minute, sec := t.Clock()
	b = appendPadded(b, int64(year), 4)
	b = appendPadded(append(b, '-'), int64(month), 2)
	b = appendPadded(append(b, '-'), int64(day), 2)
	b = appendPadded(append(b, 'T'), int64(hour), 2)
	b = appendPadded(append(b, ':'), int64(minute), 2)
	return appendPadded(append(b, ':'), int64(sec), 2)
}

// fileTitle returns the title of a file: its name without the extension,
// fit for display.
func fileTitle(name string) string {
	t := strings.TrimSuffix(name, path.Ext(name))
	if t == "" {
		t = name
	}
	return cleanText(t)
}

// escapedPath returns share and rel as an escaped URL path below a route
// prefix: each component escaped as in object IDs (only ASCII letters,
// digits and "-._~" kept), so the name's extension stays at the end of
// the URL where players look for it.
func escapedPath(prefix, share, rel string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(share) + len(rel) + escapeRoom)
	b.WriteString(prefix)
	escapeComponent(&b, share)
	for c := range strings.SplitSeq(rel, "/") {
		b.WriteByte('/')
		escapeComponent(&b, c)
	}
	return b.String()
}
