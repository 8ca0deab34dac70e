package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
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
	f := &ftpsConn{conn: nopConn{}, r: r}
	_, err := f.expect(220)
	if replyCode(err) != 421 || !errors.Is(err, rawftp.ErrReply) {
		t.Errorf("got %v (code %d), want a 421 wrapping rawftp.ErrReply", err, replyCode(err))
	}
	if replyCode(errors.New("other")) != 0 {
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

// TestFTPSClient runs the client against a small FTPS server: AUTH TLS,
// login, PBSZ, PROT P, and a RETR whose data connection must resume the
// control connection's session (the server refuses it otherwise, as
// both servers of the bench do).
func TestFTPSClient(t *testing.T) {
	dir := t.TempDir()
	cert, err := makeCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert.certFile, cert.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(cert.keyFile); err != nil || !bytes.HasPrefix(b, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("key file: %v %.30q", err, b)
	}
	payload := bytes.Repeat([]byte("ftps "), 100_000)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	srvErr := make(chan error, 1)
	go func() { srvErr <- fakeFTPS(l, &tls.Config{Certificates: []tls.Certificate{pair}}, payload) }()

	ctx := context.Background()
	f, err := dialFTPS(ctx, l.Addr().String(), netip.MustParseAddr("127.0.0.1"), ftpsClientConfig(cert.roots))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.State.Version != tls.VersionTLS13 {
		t.Errorf("control connection: %s", tls.VersionName(f.State.Version))
	}
	if err := f.login("benchuser", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := f.protect(); err != nil {
		t.Fatal(err)
	}
	d, err := f.openData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := f.startRetr(ctx, "RETR /media/big.bin", d)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := io.Copy(&got, tc); err != nil {
		t.Fatal(err)
	}
	tc.Close()
	if !bytes.Equal(got.Bytes(), payload) {
		t.Errorf("got %d bytes, want the %d sent", got.Len(), len(payload))
	}
	if _, err := f.expect(226); err != nil {
		t.Fatal(err)
	}
	if err := f.quit(); err != nil {
		t.Fatal(err)
	}
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// fakeFTPS serves one session: just enough FTPS for TestFTPSClient.
func fakeFTPS(l net.Listener, conf *tls.Config, payload []byte) error {
	c, err := l.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	reply := func(w io.Writer, s string) error { _, err := io.WriteString(w, s+"\r\n"); return err }
	if err := reply(c, "220 fake"); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); line != "AUTH TLS\r\n" {
		return fmt.Errorf("got %q, want AUTH TLS", line)
	}
	reply(c, "234 go on")
	tc := tls.Server(c, conf)
	if err := tc.Handshake(); err != nil {
		return err
	}
	r = bufio.NewReader(tc)
	var dl net.Listener
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch verb {
		case "USER":
			reply(tc, "331 password")
		case "PASS":
			reply(tc, "230 in")
		case "PBSZ":
			reply(tc, "200 PBSZ=0")
		case "PROT":
			reply(tc, "200 private")
		case "PASV":
			if dl, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return err
			}
			defer dl.Close()
			p := dl.Addr().(*net.TCPAddr).Port
			reply(tc, fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d).", p>>8, p&0xff))
		case "RETR":
			dc, err := dl.Accept()
			if err != nil {
				return err
			}
			reply(tc, "150 here")
			dtc := tls.Server(dc, conf)
			if err := dtc.Handshake(); err != nil {
				dc.Close()
				return err
			}
			if !dtc.ConnectionState().DidResume {
				dc.Close()
				reply(tc, "522 resume the session")
				return errors.New("the data connection did not resume the session")
			}
			_, err = dtc.Write(payload)
			dtc.CloseWrite()
			io.Copy(io.Discard, dtc) // until the client closes
			dc.Close()
			if err != nil {
				return err
			}
			reply(tc, "226 done")
		case "QUIT":
			return reply(tc, "221 bye")
		default:
			reply(tc, "502 no")
		}
	}
}
