package ftpd

import (
	"net/url"
	"strings"
)

// percentDecoded returns arg with its %XX escapes decoded, and whether it
// had any. Some players put the path of an ftp:// URL on the wire as it is
// in the URL: ffmpeg (and so mpv) up to at least 5.1 sends
// "RETR /Media/My%20Film.mkv" for ftp://host/Media/My%20Film.mkv. A path
// that does not exist as sent is looked up once more decoded; a name that
// really contains "%20" is still found as sent, first. The decoded path is
// resolved from scratch like any other, so "%2e%2e" is just "..".
func percentDecoded(arg string) (string, bool) {
	if !strings.Contains(arg, "%") {
		return "", false
	}
	d, err := url.PathUnescape(arg)
	if err != nil || d == arg {
		return "", false
	}
	return d, true
}
