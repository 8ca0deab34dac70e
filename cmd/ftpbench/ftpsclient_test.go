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
)

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
	if err := f.LoginAs("benchuser", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := f.protect(); err != nil {
		t.Fatal(err)
	}
	d, err := f.OpenData(ctx)
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
	if _, err := f.Expect(226); err != nil {
		t.Fatal(err)
	}
	if err := f.Quit(); err != nil {
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
