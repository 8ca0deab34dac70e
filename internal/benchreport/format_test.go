package benchreport

import (
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(tc.in)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median changed its argument: %v, was %v", in, tc.in)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.000", 0.1234: "0.123", 1.234: "1.23", -1.234: "-1.23", 12.34: "12.3",
		123.4: "123", 2243.6: "2244", -150: "-150", 99.99: "100.0",
	} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %q, want %q", v, got, want)
		}
	}
	if got := Nums([]float64{1.5, 250, 0.02}); got != "1.50 250 0.020" {
		t.Errorf("Nums = %q", got)
	}
	if got := Nums(nil); got != "" {
		t.Errorf("Nums(nil) = %q, want empty", got)
	}
}

func TestItemLabel(t *testing.T) {
	for label, want := range map[string]string{
		"1. download of a 1 GiB file":          "figure 1, download of a 1 GiB file",
		"   PSS per idle session":              "PSS per idle session",
		"12. not a figure number of one digit": "12. not a figure number of one digit",
		"a. not a number":                      "a. not a number",
		"PSS at idle":                          "PSS at idle",
	} {
		if got := ItemLabel(label); got != want {
			t.Errorf("ItemLabel(%q) = %q, want %q", label, got, want)
		}
	}
}
