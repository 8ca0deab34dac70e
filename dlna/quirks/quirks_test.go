package quirks

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDetect feeds Detect the headers real clients send, as MiniDLNA,
// Gerbera, ushare/xupnpd profiles and packet captures quote them.
func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    Client
	}{
		{"Samsung Q series 2019",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0"},
			Client{"Samsung TV", "[TV] Samsung Q7 Series (49)", MKVAsXMKV | SubtitleRes | CaptionInfoEx | BookmarkMillis}},
		{"Samsung D series",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_[TV]UE40D7000/1.0"},
			Client{"Samsung TV", "[TV]UE40D7000", MKVAsXMKV | SubtitleRes | CaptionInfoEx}},
		{"Samsung J series with UPnP token",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_[TV] UE65JU7000/1.0 UPnP/1.0"},
			Client{"Samsung TV", "[TV] UE65JU7000", MKVAsXMKV | SubtitleRes | CaptionInfoEx}},
		{"Samsung Family TV",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_ Family TV/1.0"},
			Client{"Samsung TV", "Family TV", MKVAsXMKV | SubtitleRes | CaptionInfoEx}},
		{"Samsung upper-case header name",
			map[string]string{"USER-AGENT": "DLNADOC/1.50 SEC_HHP_[TV] Samsung Q60 Series (65)/1.0"},
			Client{"Samsung TV", "[TV] Samsung Q60 Series (65)", MKVAsXMKV | SubtitleRes | CaptionInfoEx | BookmarkMillis}},
		{"Samsung Blu-ray",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_BD-D5100/1.0"},
			Client{"Samsung Blu-ray", "BD-D5100", MKVAsXMKV}},
		{"Samsung AllShare on a PC",
			map[string]string{"User-Agent": "DLNADOC/1.50 SEC_HHP_[PC]LPC001/1.0  MS-DeviceCaps/1024"},
			Client{"Samsung AllShare", "", 0}},
		{"Samsung series A",
			map[string]string{"User-Agent": "SamsungWiselinkPro/1.0"},
			Client{"Samsung TV", "", MKVAsXMKV}},
		{"Samsung series B",
			map[string]string{"User-Agent": "Samsung DTV DMR"},
			Client{"Samsung TV", "", MKVAsXMKV}},
		{"LG webOS",
			map[string]string{
				"User-Agent":             "Linux/3.0.13 UPnP/1.0 LGE_DLNA_SDK/1.6.0 [TV][LG]32LB5800-ZM/04.04.06 DLNADOC/1.50",
				"DLNADeviceName.lge.com": "%5bLG%5dwebOS1-TV"},
			Client{"LG TV", "[LG]webOS1-TV", SubtitleTitleDot | SubtitleRes}},
		{"LG webOS device name only",
			map[string]string{
				"User-Agent":             "Linux/4.4.84 UPnP/1.0 DLNADOC/1.50",
				"DLNADeviceName.lge.com": "%5bLG%5d%20webOS%20TV%20OLED65B9SLA"},
			Client{"LG TV", "[LG] webOS TV OLED65B9SLA", SubtitleTitleDot | SubtitleRes}},
		{"LG NetCast",
			map[string]string{"User-Agent": "Linux/2.6.35 UPnP/1.0 DLNADOC/1.50 INTEL_NMPR/2.0 LGE_DLNA_SDK/1.6.0"},
			Client{"LG TV", "", SubtitleTitleDot | SubtitleRes}},
		{"LG older SDK",
			map[string]string{"User-Agent": "Linux/2.6.31-1.0 UPnP/1.0 DLNADOC/1.50 INTEL_NMPR/2.0 LGE_DLNA_SDK/1.5.0"},
			Client{"LG TV", "", SubtitleTitleDot | SubtitleRes}},
		{"LG device name badly escaped",
			map[string]string{"DLNADeviceName.lge.com": "%zz LG"},
			Client{"LG TV", "%zz LG", SubtitleTitleDot | SubtitleRes}},
		{"Sony BRAVIA",
			map[string]string{
				"User-Agent":       "UPnP/1.0 DLNADOC/1.50",
				"X-AV-Client-Info": `av=5.0; cn="Sony Corporation"; mn="BRAVIA KDL-40EX503"; mv="1.7";`},
			Client{"Sony BRAVIA", "BRAVIA KDL-40EX503", 0}},
		{"Sony BRAVIA, padded model",
			map[string]string{"X-AV-Client-Info": `av=5.0; cn="Sony Corporation"; mn="BRAVIA KDL-32W5500     "; mv="1.7";`},
			Client{"Sony BRAVIA", "BRAVIA KDL-32W5500", 0}},
		{"Sony Blu-ray player",
			map[string]string{"X-AV-Client-Info": `av=5.0; cn="Sony Corporation"; mn="Blu-ray Disc Player"; mv="2.0"`},
			Client{"Sony", "Blu-ray Disc Player", 0}},
		{"Sony Internet TV",
			map[string]string{"X-AV-Client-Info": `av=5.0; hn=""; cn="Sony Corporation"; mn="INTERNET TV NSX-40GT 1"; mv="0.1";`},
			Client{"Sony", "INTERNET TV NSX-40GT 1", 0}},
		{"Xbox 360",
			map[string]string{"User-Agent": "Xbox/2.0.8955.0 UPnP/1.0 Xbox/2.0.8955.0"},
			Client{"Xbox", "", AVIAsVideoAVI}},
		{"Windows Media Player",
			map[string]string{"User-Agent": "Windows-Media-Player/12.0.7601.17514"},
			Client{"Windows Media Player", "", AVIAsVideoAVI}},
		{"Windows DLNA stack",
			map[string]string{"User-Agent": "Microsoft-Windows/10.0 UPnP/1.0 Microsoft-DLNA DLNADOC/1.50"},
			Client{"Windows", "", AVIAsVideoAVI}},
		{"Kodi",
			map[string]string{"User-Agent": "Kodi/21.1 (X11; Linux x86_64) Debian/12.0 App_Bitness/64 Version/21.1-(21.1.0)-Git:20240811-nogitfound"},
			Client{"Kodi", "", AVIAsVideoAVI | SubtitleRes}},
		{"Kodi UPnP client",
			map[string]string{"User-Agent": "UPnP/1.0 DLNADOC/1.50 Kodi"},
			Client{"Kodi", "", AVIAsVideoAVI | SubtitleRes}},
		{"VLC",
			map[string]string{"User-Agent": "VLC/3.0.21 LibVLC/3.0.21"},
			Client{"VLC", "", 0}},
		{"GUPnP",
			map[string]string{"User-Agent": "Debian GNU/Linux 13 GUPnP/1.6.8 DLNADOC/1.50"},
			Client{"GUPnP", "", 0}},
		{"browser", map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}, Client{}},
		{"curl", map[string]string{"User-Agent": "curl/8.14.1"}, Client{}},
		{"generic DLNA", map[string]string{"User-Agent": "UPnP/1.0 DLNADOC/1.50 Platinum/1.0.5.13"}, Client{}},
		{"nothing", map[string]string{}, Client{}},
		{"hostile model",
			map[string]string{"User-Agent": "SEC_HHP_[TV]\x00\x1b[31m  evil\r\n \xff" + strings.Repeat("é", 100) + "/1.0"},
			Client{"Samsung TV", "[TV][31m evil " + strings.Repeat("é", 25), MKVAsXMKV | SubtitleRes | CaptionInfoEx}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := Detect(h); got != tt.want {
				t.Errorf("Detect = %+v (%v)\nwant     %+v (%v)", got, got.Quirks, tt.want, tt.want.Quirks)
			}
		})
	}
}

// TestDetectFromRequest reads the headers off a raw request, as the
// server gets them: header names in any case.
func TestDetectFromRequest(t *testing.T) {
	raw := "GET /media/1.mkv HTTP/1.1\r\nHOST: 192.168.1.2:8200\r\n" +
		"user-agent: Linux/3.0.13 UPnP/1.0 LGE_DLNA_SDK/1.6.0 [TV][LG]32LB5800-ZM/04.04.06 DLNADOC/1.50\r\n" +
		"TRANSFERMODE.DLNA.ORG: Streaming\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := Detect(req.Header)
	if c.Name != "LG TV" || c.Model != "[TV][LG]32LB5800-ZM" || !c.Quirks.Has(SubtitleTitleDot) {
		t.Errorf("Detect = %+v", c)
	}
}

// TestEveryRowMatches checks that each row of the client table is reached
// by some header (no row hidden by an earlier one) and that every quirk is
// given to some client: a flag nobody gets is a flag without a use.
func TestEveryRowMatches(t *testing.T) {
	var given Set
	for i, r := range clientTable {
		h := http.Header{}
		v := r.contains
		if v == "" {
			v = "x"
		}
		h.Set(r.header, "prefix "+v+" suffix")
		c := Detect(h)
		if c.Name != r.name || c.Quirks != r.quirks {
			t.Errorf("row %d (%s %q): Detect = %+v", i, r.header, r.contains, c)
		}
		given |= r.quirks
	}
	for _, q := range Quirks() {
		if !given.Has(q.Flag) {
			t.Errorf("no client gets %s", q.Name)
		}
	}
}

func TestQuirkTable(t *testing.T) {
	if len(Quirks()) != numQuirks {
		t.Fatalf("%d quirks described, %d flags", len(Quirks()), numQuirks)
	}
	for i, q := range Quirks() {
		if q.Flag != 1<<i || q.Name == "" || q.Reason == "" || q.Source == "" {
			t.Errorf("row %d incomplete or out of order: %+v", i, q)
		}
	}
	for _, tt := range []struct {
		s    Set
		want string
	}{
		{0, ""},
		{MKVAsXMKV, "MKVAsXMKV"},
		{SubtitleTitleDot | SubtitleRes, "SubtitleTitleDot|SubtitleRes"},
		{MKVAsXMKV | 1<<31, "MKVAsXMKV"},
	} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%#x.String() = %q, want %q", uint32(tt.s), got, tt.want)
		}
	}
	s := MKVAsXMKV | CaptionInfoEx
	if !s.Has(MKVAsXMKV) || !s.Has(MKVAsXMKV|CaptionInfoEx) || s.Has(SubtitleRes) || s.Has(MKVAsXMKV|SubtitleRes) || !s.Has(0) {
		t.Error("Has is wrong")
	}
}

// FuzzDetect checks that no header value panics Detect and that the
// model it returns is fit for display.
func FuzzDetect(f *testing.F) {
	f.Add("DLNADOC/1.50 SEC_HHP_[TV] Samsung Q7 Series (49)/1.0", "", "")
	f.Add("", `av=5.0; cn="Sony Corporation"; mn="BRAVIA`, "")
	f.Add("", "", "%5bLG%5dwebOS1-TV%")
	f.Fuzz(func(t *testing.T, ua, av, lg string) {
		h := http.Header{}
		if ua != "" {
			h.Set("User-Agent", ua)
		}
		if av != "" {
			h.Set("X-AV-Client-Info", av)
		}
		if lg != "" {
			h.Set("DLNADeviceName.lge.com", lg)
		}
		c := Detect(h)
		if len(c.Model) > maxModel || !utf8.ValidString(c.Model) || strings.ContainsAny(c.Model, "\x00\r\n\t") {
			t.Fatalf("model %q", c.Model)
		}
		if c.Name == "" && (c.Quirks != 0 || c.Model != "") {
			t.Fatalf("unknown client with %+v", c)
		}
	})
}
