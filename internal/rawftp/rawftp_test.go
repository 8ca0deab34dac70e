package rawftp

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
		text string
		bad  bool
	}{
		{in: "220 ready\r\n", code: 220, text: "220 ready"},
		{in: "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n", code: 211, text: "211 End"},
		// A line inside a multi-line reply that starts like its end but
		// with a hyphen does not end it.
		{in: "230-a\r\n230-b\r\n230 c\r\n", code: 230, text: "230 c"},
		{in: "220 no CR\n", bad: true},
		{in: "22 short\r\n", bad: true},
		{in: "abc text\r\n", bad: true},
		{in: "099 low\r\n", bad: true},
		{in: "220xready\r\n", bad: true},
		{in: "211-never ends\r\n more\r\n", bad: true},
		{in: "220 " + strings.Repeat("x", 5000) + "\r\n", bad: true},
		{in: "", bad: true},
	} {
		code, text, err := readReply(bufio.NewReaderSize(strings.NewReader(tc.in), 4096))
		if tc.bad {
			if err == nil {
				t.Errorf("%.40q: no error, got %d %q", tc.in, code, text)
			}
			continue
		}
		if err != nil || code != tc.code || text != tc.text {
			t.Errorf("%q: got %d %q %v, want %d %q", tc.in, code, text, err, tc.code, tc.text)
		}
	}
}

func TestReplyError(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("421 Too many failed logins.\r\n"))
	c := &Conn{c: nopConn{}, r: r}
	_, err := c.Expect(220)
	if ReplyCode(err) != 421 || !errors.Is(err, ErrReply) {
		t.Errorf("got %v (code %d), want a 421 wrapping ErrReply", err, ReplyCode(err))
	}
	if ReplyCode(errors.New("other")) != 0 {
		t.Error("a code for an error without a reply")
	}
}

// nopConn is a net.Conn whose deadlines do nothing, for reading replies
// from a buffer.
type nopConn struct{ net.Conn }

func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }

func TestParsePASV(t *testing.T) {
	ip, port, err := parsePASV("227 Entering Passive Mode (127,0,0,1,82,8).")
	if err != nil || ip != "127.0.0.1" || port != 82<<8|8 {
		t.Errorf("got %s %d %v", ip, port, err)
	}
	for _, bad := range []string{"227 Entering Passive Mode", "227 (127,0,0,1,82)", "227 (300,0,0,1,1,1)", "227 (127,0,0,1,1,256)"} {
		if _, _, err := parsePASV(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
