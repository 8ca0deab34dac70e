package dlna

import (
	"errors"
	"testing"
)

func TestObjectIDs(t *testing.T) {
	tests := []struct {
		obj      object
		id       string
		parentID string
	}{
		{object{kind: objRoot}, "0", "-1"},
		{object{kind: objRecent}, "R", "0"},
		{pathObject("Movies", "."), "0/Movies", "0"},
		{pathObject("Movies", "Film.mkv"), "0/Movies/Film.mkv", "0/Movies"},
		{pathObject("Movies", "Kids/Film 2.mkv"), "0/Movies/Kids/Film%202.mkv", "0/Movies/Kids"},
		{pathObject("My Music", "A&B/<x> \"q\" 'y'.mp3"), "0/My%20Music/A%26B/%3Cx%3E%20%22q%22%20%27y%27.mp3", "0/My%20Music/A%26B"},
		{pathObject("M", "caf\xe9.avi"), "0/M/caf%E9.avi", "0/M"},
		{pathObject("M", "100%, yes.mkv"), "0/M/100%25%2C%20yes.mkv", "0/M"},
		{pathObject("M", "Ünïcødé/日本.mkv"), "0/M/%C3%9Cn%C3%AFc%C3%B8d%C3%A9/%E6%97%A5%E6%9C%AC.mkv", "0/M/%C3%9Cn%C3%AFc%C3%B8d%C3%A9"},
		{object{kind: objRecentItem, share: "TV", rel: "S1/E1.mkv"}, "R/TV/S1/E1.mkv", "R"},
	}
	for _, tt := range tests {
		if got := tt.obj.id(); got != tt.id {
			t.Errorf("%+v: id %q, want %q", tt.obj, got, tt.id)
		}
		if got := tt.obj.parentID(); got != tt.parentID {
			t.Errorf("%+v: parentID %q, want %q", tt.obj, got, tt.parentID)
		}
		back, err := parseObjectID(tt.id)
		if err != nil || back != tt.obj {
			t.Errorf("parseObjectID(%q) = %+v, %v; want %+v", tt.id, back, err, tt.obj)
		}
	}
	if o, err := parseObjectID(""); err != nil || o.kind != objRoot {
		t.Errorf(`parseObjectID("") = %+v, %v; want the root`, o, err)
	}
}

func TestParseObjectIDRefuses(t *testing.T) {
	for _, id := range []string{
		"1", "00", "0/", "0//a", "0/M/", "0/M//a", "0/M/../x", "0/M/./x", "0/..", "R/M",
		"0/M/%41.mkv", // A need not be escaped: not canonical
		"0/M/%e9.mkv", // lower-case hex: not canonical
		"0/M/%2",      // short escape
		"0/M/%GG",     // bad hex
		"0/M/a b",     // a space must be escaped
		"0/M/%2F",     // a slash inside a name
		"0/M/%2E%2E",  // ".." hides behind escapes
		"0/M/%2E",     // "."
		"X/M/a",       // unknown head
		"0/M/a&b",     // not escaped
	} {
		if o, err := parseObjectID(id); !errors.Is(err, errNoSuchObject) {
			t.Errorf("parseObjectID(%q) = %+v, %v; want errNoSuchObject", id, o, err)
		}
	}
}

// FuzzObjectID checks that every ID parseObjectID accepts is canonical:
// it is what id() writes for the object, so each object has one ID.
func FuzzObjectID(f *testing.F) {
	for _, s := range []string{"0", "R", "0/Movies/Film%202.mkv", "R/TV/S1/E1.mkv", "0/M/caf%E9.avi", "0/M/%2E%2E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		o, err := parseObjectID(id)
		if err != nil {
			return
		}
		if id == "" {
			id = "0"
		}
		if got := o.id(); got != id {
			t.Fatalf("parseObjectID(%q) = %+v, whose id is %q", id, o, got)
		}
		if p := o.parentID(); p != "-1" {
			if _, err := parseObjectID(p); err != nil {
				t.Fatalf("parent %q of %q does not parse: %v", p, id, err)
			}
		}
	})
}
