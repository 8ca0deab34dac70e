package ftpd

import "testing"

// TestTelnetAbort checks the ABOR forms that Telnet-minded clients send
// (RFC 959 4.1.3): with IAC IP and IAC DM inline, and as BSD and inetutils
// ftp send it, where the second IAC went as urgent data and Linux removed
// it from the stream, leaving a bare Data Mark before the verb.
func TestTelnetAbort(t *testing.T) {
	for _, tc := range []struct {
		line, verb, arg string
	}{
		{"\xff\xf4\xff\xf2ABOR\r\n", "ABOR", ""},
		{"\xff\xf4\xf2ABOR\r\n", "ABOR", ""},
		{"\xff\xf4\xffABOR\r\n", "ABOR", ""},
		{"RETR a\xff\xffb\r\n", "RETR", "a\xffb"},
		{"\xf2ABOR\r\n", "\xf2ABOR", ""}, // no IAC: not Telnet, left alone
	} {
		verb, arg := parseCommand([]byte(tc.line))
		if verb != tc.verb || arg != tc.arg {
			t.Errorf("parseCommand(%q) = %q, %q; want %q, %q", tc.line, verb, arg, tc.verb, tc.arg)
		}
	}

	ts, _ := newTestServer(t, nil)
	c := login(t, ts.Addr)
	// What arrives from inetutils ftp: IAC IP, then (urgent IAC removed)
	// DM ABOR.
	if _, err := c.c.Write([]byte("\xff\xf4\xf2ABOR\r\n")); err != nil {
		t.Fatal(err)
	}
	c.expect(codeNoTransfer)
	c.cmd("NOOP", codeOK)
}
