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

// resolveArg resolves a command's path argument and calls use with the
// path. If use fails and the argument has %XX escapes (see
// percentDecoded), the decoded argument is resolved and used once more;
// if that fails too, the first failure is returned. The path returned is
// the one used, or on failure the argument's as sent ("" if it did not
// resolve). use must release what it took when it fails.
func (s *session) resolveArg(arg string, use func(vpath) error) (vpath, error) {
	p, err := resolvePath(s.cwd, arg, s.srv.Shares.Visible)
	if err == nil {
		err = use(p)
	}
	if err == nil {
		return p, nil
	}
	if d, ok := percentDecoded(arg); ok {
		if dp, derr := resolvePath(s.cwd, d, s.srv.Shares.Visible); derr == nil && use(dp) == nil {
			return dp, nil
		}
	}
	return p, err
}
