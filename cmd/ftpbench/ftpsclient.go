package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/rawftp"
)

// The FTPS client of the bench: explicit FTPS (RFC 4217) over raw
// sockets, the same code for both servers. AUTH TLS on the control
// connection, then PBSZ 0 and PROT P, and every data connection a TLS
// client that resumes the control connection's session: each client has
// its own tls.ClientSessionCache, and a data connection that made a full
// handshake fails the run, as both servers would refuse it anyway
// (vsftpd's require_ssl_reuse, mediaftpd's rule). Like the plain client
// (client.go), it checks every reply code.

// ftpsConn is one FTPS control connection: rawftp's, switched to TLS.
type ftpsConn struct {
	*rawftp.Conn
	conf *tls.Config // shared by the control and data connections
	// State is the control connection's TLS state after AUTH TLS.
	State tls.ConnectionState
}

// ftpsClientConfig returns the TLS config of one client: TLS 1.3 only,
// the bench's certificate as the one trusted root, and a session cache of
// its own, so that its data connections resume its control connection's
// session and no other client's.
func ftpsClientConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		RootCAs:    roots,
		// Sessions are cached under the server name; without one Go
		// would use the address, which differs for each data port.
		ServerName:         certHost,
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
	}
}

// dialFTPS connects to addr from local (any address if zero), reads the
// greeting and switches the control connection to TLS with AUTH TLS.
func dialFTPS(ctx context.Context, addr string, local netip.Addr, conf *tls.Config) (*ftpsConn, error) {
	dctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	c, err := rawftp.DialFrom(dctx, addr, local)
	if err != nil {
		return nil, err
	}
	f := &ftpsConn{Conn: c, conf: conf}
	if f.State, err = c.StartTLS(ctx, conf); err != nil {
		c.Close()
		return nil, err
	}
	return f, nil
}

// protect asks for TLS on the data connections: PBSZ 0, PROT P.
func (f *ftpsConn) protect() error {
	if _, err := f.CmdExpect("PBSZ 0", 200); err != nil {
		return err
	}
	_, err := f.CmdExpect("PROT P", 200)
	return err
}

// errNotResumed means a data connection made a full TLS handshake: the
// client did not resume the control connection's session.
var errNotResumed = errors.New("the data connection did not resume the control connection's TLS session")

// startRetr sends a transfer command over the data connection raw made by
// openData, runs the TLS handshake on raw (servers send their 150 before
// it, or after: either way it waits in the control socket), and reads the
// 150. The data connection must have resumed the control session.
func (f *ftpsConn) startRetr(ctx context.Context, line string, raw *net.TCPConn) (*tls.Conn, error) {
	if err := f.Send(line); err != nil {
		return nil, err
	}
	tc := tls.Client(raw, f.conf)
	hctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	herr := tc.HandshakeContext(hctx)
	if herr != nil {
		// The reply says why, if the server refused.
		code, text, err := f.Reply()
		return nil, fmt.Errorf("TLS handshake on the data connection: %w (reply %d %q, %v)", herr, code, text, err)
	}
	code, text, err := f.Reply()
	if err != nil {
		return nil, err
	}
	if code != 150 && code != 125 {
		return nil, fmt.Errorf("%s: %w %q, want 150", rawftp.Verb(line), rawftp.ErrReply, text)
	}
	if !tc.ConnectionState().DidResume {
		return nil, errNotResumed
	}
	return tc, nil
}

// drainTLS reads a TLS data connection to its end (the server's
// close_notify) with buf, and returns the bytes read. Go's TLS client
// returns at most a record (16 KiB) per Read, whatever buf's size; the
// large buffer saves nothing there but costs nothing either.
func drainTLS(tc *tls.Conn, buf []byte) (int64, error) {
	tc.SetReadDeadline(time.Now().Add(opTimeout))
	var n int64
	for {
		k, err := tc.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
