package dlna

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		in   string
		want []sortKey
	}{
		{"", nil},
		{"  ", nil},
		{"+dc:title", []sortKey{{"dc:title", false}}},
		{"-dc:date", []sortKey{{"dc:date", true}}},
		{"dc:title", []sortKey{{"dc:title", false}}},
		{"+upnp:class, -dc:title", []sortKey{{"upnp:class", false}, {"dc:title", true}}},
		{"+upnp:class,+dc:title,+upnp:originalTrackNumber", []sortKey{{"upnp:class", false}, {"dc:title", false}}}, // Panasonic
		{"+dc:title,-dc:title", []sortKey{{"dc:title", false}}},
		{"+res@size", nil},
	}
	for _, tt := range tests {
		got, err := parseSort(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseSort(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"+", "title", "+dc:title,", ",", "++dc:title", "+dc:ti tle", "+dc:title;drop", "+\"dc:title\"", "+dc:títle"} {
		if got, err := parseSort(bad); !errors.Is(err, errBadSort) {
			t.Errorf("parseSort(%q) = %v, %v; want errBadSort", bad, got, err)
		}
	}
}

func TestSortCompare(t *testing.T) {
	mk := func(name string, dir bool, day int) listed {
		e := library.Entry{Name: name, Dir: dir}
		if !dir {
			e.ModTime = time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC)
		}
		return listedPath(pathObject("S", name), e)
	}
	list := []listed{mk("Episode 10.mkv", false, 3), mk("episode 2.mkv", false, 1), mk("Season 1", true, 0), mk("Song.mp3", false, 2)}
	tests := []struct {
		sort string
		want []string
	}{
		{"+dc:title", []string{"episode 2", "Episode 10", "Season 1", "Song"}},
		{"-dc:title", []string{"Song", "Season 1", "Episode 10", "episode 2"}},
		{"+dc:date", []string{"Season 1", "episode 2", "Song", "Episode 10"}},
		{"-dc:date", []string{"Episode 10", "Song", "episode 2", "Season 1"}},
		{"+upnp:class,+dc:title", []string{"Season 1", "Song", "episode 2", "Episode 10"}},
	}
	for _, tt := range tests {
		keys, err := parseSort(tt.sort)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(list)
		slices.SortStableFunc(got, sortCompare(keys))
		var titles []string
		for _, l := range got {
			titles = append(titles, l.title)
		}
		if !slices.Equal(titles, tt.want) {
			t.Errorf("%s: %q, want %q", tt.sort, titles, tt.want)
		}
	}
}
