package benchreport

import (
	"bytes"
	"testing"
)

func TestTargetText(t *testing.T) {
	for got, want := range map[string]string{
		RatioAtLeast(1).Text:    "ratio ≥ 1.0",
		RatioAtLeast(0.95).Text: "ratio ≥ 0.95",
		RatioAtMost(1.2).Text:   "ratio ≤ 1.2",
		RatioAtMost(0.5).Text:   "ratio ≤ 0.5",
		AtMost(400, "B").Text:   "≤ 400 B",
		AtMost(2, "s").Text:     "≤ 2 s",
	} {
		if got != want {
			t.Errorf("target %q, want %q", got, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	rows := []Row{
		{Label: "1. ready", Unit: "s", Measured: []float64{1.5, 2.5, 1.9}, Target: AtMost(2, "s")},                      // 1.9: met
		{Label: "   explained", Unit: "s", Measured: []float64{0.4}},                                                    // not judged
		{Label: "2. rate", Unit: "MB/s", Measured: []float64{9.6}, Compared: []float64{10}, Target: RatioAtLeast(0.95)}, // 0.96: met
		{Label: "3. seek", Unit: "µs", Measured: []float64{300}, Compared: []float64{240}, Target: RatioAtMost(1.2)},    // 1.25: missed
		{Label: "4. no comparison", Unit: "µs", Measured: []float64{250}, Target: RatioAtMost(1.2)},                     // not judged
		{Label: "5. only compared", Unit: "MiB", Compared: []float64{3}, Target: AtMost(20, "MiB")},                     // not judged
		{Label: "6. compared with zero", Unit: "ms", Measured: []float64{5}, Compared: []float64{0}},
	}
	var b bytes.Buffer
	judged, missed := WriteTable(&b, [3]string{"figure", "measured", "compared with"}, rows)
	if judged != 3 || missed != 1 {
		t.Errorf("judged %d, missed %d; want 3 and 1\n%s", judged, missed, b.String())
	}
	want := `| figure                     | measured | compared with | ratio | target       | met?   |
| -------------------------- | -------: | ------------: | ----: | ------------ | ------ |
| 1. ready (s)               |     1.90 |             — |     — | ≤ 2 s        | yes    |
|    explained (s)           |    0.400 |             — |     — | —            |        |
| 2. rate (MB/s)             |     9.60 |          10.0 |  0.96 | ratio ≥ 0.95 | yes    |
| 3. seek (µs)               |      300 |           240 |  1.25 | ratio ≤ 1.2  | **no** |
| 4. no comparison (µs)      |      250 |             — |     — | ratio ≤ 1.2  |        |
| 5. only compared (MiB)     |        — |          3.00 |     — | ≤ 20 MiB     |        |
| 6. compared with zero (ms) |     5.00 |         0.000 |     — | —            |        |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
