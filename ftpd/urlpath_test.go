package ftpd

import (
	"strings"
	"testing"
)

// TestPercentEncodedPaths: ffmpeg and mpv send the path of an ftp:// URL
// as it is in the URL, escapes and all. Such a path is found decoded when
// it is not found as sent; a name that really has "%" in it wins.
func TestPercentEncodedPaths(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "TV Shows/My Film é.mkv", "FILM")
	writeFile(t, dir, "100%25 real.mkv", "LITERAL")
	writeFile(t, dir, "100% real.mkv", "DECODED")
	writeFile(t, dir, "a%20b.mkv", "PERCENT NAME")
	writeFile(t, dir, "a b.mkv", "SPACE NAME")
	escapeTree(t, dir)

	c := login(t, ts.Addr)
	for arg, want := range map[string]string{
		"/Media/TV%20Shows/My%20Film%20%C3%A9.mkv": "FILM",
		"/Media/TV Shows/My Film é.mkv":            "FILM",
		"/Media/100%25 real.mkv":                   "LITERAL", // exists as sent
		"/Media/100%25%20real.mkv":                 "DECODED",
		"/Media/a%20b.mkv":                         "PERCENT NAME",
		"/Media/a b.mkv":                           "SPACE NAME",
	} {
		if got := c.retr(arg); got != want {
			t.Errorf("RETR %s = %q, want %q", arg, got, want)
		}
	}
	if raw := c.cmd("SIZE /Media/TV%20Shows/My%20Film%20%C3%A9.mkv", 213); raw != "213 4\r\n" {
		t.Errorf("SIZE = %q", raw)
	}
	c.cmd("MDTM /Media/TV%20Shows/My%20Film%20%C3%A9.mkv", 213)
	c.cmd("CWD /Media/TV%20Shows", 250)
	if raw := c.cmd("PWD", 257); !strings.Contains(raw, `"/Media/TV Shows"`) {
		t.Errorf("PWD after CWD TV%%20Shows = %q", raw)
	}
	if got := c.list("NLST"); got != "My Film é.mkv\r\n" {
		t.Errorf("NLST = %q", got)
	}
	c.cmd("CWD /", 250)

	// Decoding makes nothing reachable that is not reachable plainly.
	host := dir[:strings.LastIndex(dir, "/")]
	for _, p := range []string{
		"/Media/%2e%2e/secret", "/Media/%2E%2E%2F%2E%2E%2Fsecret", "%2e%2e/%2e%2e/secret",
		"/Media/%2ehidden", "/Media/%2Egit%2Fconfig", "/Media/sub/%2Ehidden",
		"/Media/abs%2Dsecret", "/Media/sub%2Frel-secret", "/Media/a%00b.mkv", "/Media/a%0d%0aDELE%20x",
		"/Media/%zz", "/Media/%", "/Media/%2",
	} {
		for _, verb := range []string{"RETR", "SIZE", "CWD", "MLST"} {
			refused(t, c, verb+" "+p, host, 550, 501)
		}
	}
	c.cmd("NOOP", 200)
}
