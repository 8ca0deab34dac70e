package dlna

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSearch(t *testing.T) {
	// Each criteria string with the objects it matches, out of a video,
	// a song, a photo and a folder.
	objects := map[string]map[string]string{
		"video":  {"dc:title": "Episode 10", "upnp:class": "object.item.videoItem", "dc:date": "2024-05-01T12:30:00", "res": ""},
		"song":   {"dc:title": "Song \"Live\"", "upnp:class": "object.item.audioItem.musicTrack", "dc:date": "2023-01-01T00:00:00", "res": ""},
		"photo":  {"dc:title": "Beach", "upnp:class": "object.item.imageItem.photo", "res": ""},
		"folder": {"dc:title": "Episodes", "upnp:class": "object.container.storageFolder", "@childCount": "12"},
	}
	tests := []struct {
		criteria string
		want     string // names of the matching objects, sorted, space separated
	}{
		{"*", "folder photo song video"},
		{"", "folder photo song video"},
		{"  *  ", "folder photo song video"},
		{`upnp:class derivedfrom "object.item.videoItem"`, "video"},
		{`upnp:class derivedFrom "object.item"`, "photo song video"},
		{`upnp:class derivedfrom "object.item.video"`, ""}, // not a class boundary
		{`upnp:class = "object.item.imageItem.photo"`, "photo"},
		{`upnp:class="object.item.imageItem.photo"`, "photo"},
		{`upnp:class != "object.item.imageItem.photo"`, "folder song video"},
		{`dc:title contains "EPISODE"`, "folder video"},
		{`dc:title doesNotContain "episode"`, "photo song"},
		{`dc:title contains "\"live\""`, "song"},
		{`dc:title contains "ep" and upnp:class derivedfrom "object.container"`, "folder"},
		{`dc:title contains "beach" or dc:title contains "song"`, "photo song"},
		{`(dc:title contains "beach" or dc:title contains "song") and upnp:class derivedfrom "object.item.audioItem"`, "song"},
		{`dc:title contains "beach" or dc:title contains "song" and upnp:class derivedfrom "object.item.audioItem"`, "photo song"}, // and binds tighter
		{`((((upnp:class derivedfrom "object.item.imageItem"))))`, "photo"},
		{`dc:date exists true`, "song video"},
		{`dc:date exists false`, "folder photo"},
		{`dc:date >= "2024-01-01"`, "video"},
		{`dc:date < "2024-01-01"`, "song"},
		{`@childCount > "9"`, "folder"},                                                     // compared as numbers
		{`upnp:class derivedfrom "object.item.videoItem" and @refID exists false`, "video"}, // Windows Media Player
		{`upnp:artist contains "x"`, ""},                                                    // a property no object has
		{`res exists true and dc:title contains "e"`, "photo song video"},
		{"dc:title contains \"episode\"\tAND\nupnp:class derivedfrom \"object.item\"", "video"},
	}
	for _, tt := range tests {
		n, err := parseSearch(tt.criteria)
		if err != nil {
			t.Errorf("parseSearch(%q): %v", tt.criteria, err)
			continue
		}
		var got []string
		for _, name := range []string{"folder", "photo", "song", "video"} {
			props := objects[name]
			if n.match(func(p string) (string, bool) { v, ok := props[p]; return v, ok }) {
				got = append(got, name)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%q matches %q, want %q", tt.criteria, g, tt.want)
		}
	}
}

func TestParseSearchRefuses(t *testing.T) {
	for _, s := range []string{
		"**",
		"* and *",
		`dc:title`,
		`dc:title contains`,
		`dc:title contains episode`,       // unquoted value
		`dc:title contains "unterminated`, //
		`dc:title like "x"`,               // unknown operator
		`dc:title == "x"`,                 //
		`dc:title exists maybe`,           //
		`(dc:title contains "x"`,          // missing )
		`dc:title contains "x")`,          // extra )
		`dc:title contains "x" and`,       //
		`dc:title contains "x" xor dc:title contains "y"`,
		`and dc:title contains "x"`,    //
		`"x" contains dc:title`,        //
		`title contains "x"`,           // no namespace
		`dc:title contains "x" ; drop`, //
		strings.Repeat("(", 40) + `dc:title exists true` + strings.Repeat(")", 40), // too deep
		strings.Repeat(`dc:title exists true or `, 200) + `dc:title exists true`,   // too many nodes (and too long)
		strings.Repeat("x", maxSearchCriteria+1),
	} {
		if _, err := parseSearch(s); !errors.Is(err, errBadSearch) {
			t.Errorf("parseSearch(%.60q) = %v, want errBadSearch", s, err)
		}
	}
}

// FuzzParseSearch checks that any criteria string parses or fails with
// errBadSearch, without panicking, and that a parsed one can be matched.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{
		"*",
		`upnp:class derivedfrom "object.item.videoItem"`,
		`(dc:title contains "a\"b" or upnp:class = "x") and @refID exists false`,
		`dc:date >= "2024-01-01"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSearch(s)
		if err != nil {
			if !errors.Is(err, errBadSearch) {
				t.Fatalf("parseSearch(%q): %v is not errBadSearch", s, err)
			}
			return
		}
		n.match(func(p string) (string, bool) { return p, len(p)%2 == 0 })
	})
}
