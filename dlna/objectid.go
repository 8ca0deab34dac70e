package dlna

import (
	"strings"
)

// Object IDs name ContentDirectory objects. They are derived from the share
// name and the path, so they stay the same across restarts without a table:
//
//	0                      the root: the shares and "Recently added"
//	0/<share>              a share's folder
//	0/<share>/<a>/<b>      the file or folder a/b in the share
//	R                      the "Recently added" container
//	R/<share>/<a>/<b>      a recently added file, listed in R (its refID is 0/<share>/<a>/<b>)
//
// Each component is escaped: bytes other than ASCII letters, digits and
// "-._~" become %XX (upper-case hex), so an ID is plain ASCII that any
// client keeps intact (no spaces to trim, no XML specials), and names with
// invalid UTF-8 round-trip exactly. Only the canonical spelling is
// accepted, so each object has one ID.
const (
	rootID   = "0"
	recentID = "R"
	// noParentID is the parentID of the root.
	noParentID = "-1"
)

// objKind is what kind of object an ID names.
type objKind uint8

const (
	objRoot       objKind = iota // "0"
	objRecent                    // "R"
	objPath                      // a share's folder (rel ".") or a path in it
	objRecentItem                // a file as listed in "R"
)

// object is a parsed object ID.
type object struct {
	kind  objKind
	share string // objPath, objRecentItem
	rel   string // share-relative, slash-separated; "." for the share's folder
}

// pathObject returns the object of rel in share; rel "." or "" is the
// share's folder.
func pathObject(share, rel string) object {
	if rel == "" {
		rel = "."
	}
	return object{kind: objPath, share: share, rel: rel}
}

// id returns the object's ID.
func (o object) id() string {
	switch o.kind {
	case objRoot:
		return rootID
	case objRecent:
		return recentID
	}
	var b strings.Builder
	b.Grow(len(recentID) + len(o.share) + len(o.rel) + escapeRoom)
	if o.kind == objRecentItem {
		b.WriteString(recentID)
	} else {
		b.WriteString(rootID)
	}
	b.WriteByte('/')
	escapeComponent(&b, o.share)
	if o.rel != "." {
		for c := range strings.SplitSeq(o.rel, "/") {
			b.WriteByte('/')
			escapeComponent(&b, c)
		}
	}
	return b.String()
}

// parentID returns the ID of the object's parent, "-1" for the root.
func (o object) parentID() string {
	switch o.kind {
	case objRoot:
		return noParentID
	case objRecent:
		return rootID
	case objRecentItem:
		return recentID
	}
	if o.rel == "." {
		return rootID
	}
	return pathObject(o.share, parentRel(o.rel)).id()
}

// real returns the object in its share that o stands for: a recent item's
// path object, or o itself.
func (o object) real() object {
	if o.kind == objRecentItem {
		o.kind = objPath
	}
	return o
}

// parentRel returns the folder of a share-relative path, "." at the top.
func parentRel(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "."
	}
	return rel[:i]
}

// baseName returns the last component of a share-relative path.
func baseName(rel string) string {
	return rel[strings.LastIndexByte(rel, '/')+1:]
}

// joinRel returns the path of name in the folder dir.
func joinRel(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// parseObjectID returns the object named by id. An empty id is the root,
// as Samsung TVs sometimes send. Anything but a canonical ID is
// errNoSuchObject.
func parseObjectID(id string) (object, error) {
	switch id {
	case "", rootID:
		return object{kind: objRoot}, nil
	case recentID:
		return object{kind: objRecent}, nil
	}
	head, rest, ok := strings.Cut(id, "/")
	if !ok {
		return object{}, errNoSuchObject
	}
	var o object
	switch head {
	case rootID:
		o.kind = objPath
	case recentID:
		o.kind = objRecentItem
	default:
		return object{}, errNoSuchObject
	}
	shareEnc, relEnc, hasRel := strings.Cut(rest, "/")
	share, ok := unescapeComponent(shareEnc)
	if !ok {
		return object{}, errNoSuchObject
	}
	o.share, o.rel = share, "."
	if !hasRel {
		if o.kind == objRecentItem {
			return object{}, errNoSuchObject // R lists files, not shares
		}
		return o, nil
	}
	var b strings.Builder
	for c := range strings.SplitSeq(relEnc, "/") {
		name, ok := unescapeComponent(c)
		if !ok {
			return object{}, errNoSuchObject
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(name)
	}
	o.rel = b.String()
	return o, nil
}

// keptByte reports whether an ID component keeps byte c as it is.
func keptByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// escapeRoom is what builders of escaped paths leave for escapes besides
// the path's own length: most names need none.
const escapeRoom = 16

// escapeComponent writes the escaped form of one name to b.
func escapeComponent(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keptByte(c) {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
		last = i + 1
	}
	b.WriteString(s[last:])
}

// unescapeComponent reverses escapeComponent. It accepts only what
// escapeComponent writes, and no empty name, "." or "..".
func unescapeComponent(s string) (string, bool) {
	if s == "" || s == "." || s == ".." {
		return "", false
	}
	if !strings.ContainsRune(s, '%') {
		for i := 0; i < len(s); i++ {
			if !keptByte(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if !keptByte(c) {
				return "", false
			}
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := upperHexValue(s[i+1]), upperHexValue(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		v := byte(hi<<4 | lo)
		if keptByte(v) {
			return "", false // not canonical
		}
		out = append(out, v)
		i += 2
	}
	name := string(out)
	if name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
		return "", false
	}
	return name, true
}

func upperHexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
