package library

import (
	"slices"
	"testing"
)

func TestNaturalCompare(t *testing.T) {
	want := []string{
		"001", "1", "01a", "2", "10", "100",
		"A", "a", "a1", "A2", "a10", "b",
		"Episode 1", "Episode 2", "Episode 9", "Episode 10", "Episode 11", "episode 12",
		"Track9", "track10",
		"é", "\xff",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, NaturalCompare)
	if !slices.Equal(got, want) {
		t.Errorf("sorted:\n got %q\nwant %q", got, want)
	}
	for _, a := range want {
		for _, b := range want {
			if NaturalCompare(a, b) != -NaturalCompare(b, a) {
				t.Errorf("NaturalCompare(%q, %q) is not antisymmetric", a, b)
			}
			if (NaturalCompare(a, b) == 0) != (a == b) {
				t.Errorf("NaturalCompare(%q, %q) = 0 for different names", a, b)
			}
		}
	}
}

func FuzzNaturalCompare(f *testing.F) {
	f.Add("Episode 2", "Episode 10")
	f.Add("a001", "a1")
	f.Add("\xff1", "1\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := NaturalCompare(a, b), NaturalCompare(b, a)
		if ab != -ba {
			t.Fatalf("NaturalCompare(%q, %q) = %d, reversed %d", a, b, ab, ba)
		}
		if (ab == 0) != (a == b) {
			t.Fatalf("NaturalCompare(%q, %q) = %d", a, b, ab)
		}
	})
}
