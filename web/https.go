package web

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// HTTPS. With Server.TLSConfig the page is served over HTTPS on its one
// address: Listener looks at the first byte of each connection, and a TLS
// handshake (a record of type 22, 0x16) is served as TLS, anything else as
// plain HTTP, whose every request is redirected to the same host, port,
// path and query over https:// (301 for GET and HEAD, 308 otherwise, so
// the method and body are kept). A browser that typed the address without
// https:// thus lands on the page, and the session cookie, marked Secure
// over TLS, is never sent in clear. There is no HSTS: the certificate is
// usually self-signed, and a browser that remembered HSTS would refuse to
// let its user click through the warning.

const (
	// sniffTimeout bounds the wait for a connection's first byte.
	sniffTimeout = 10 * time.Second
	// maxSniffing bounds the connections waiting for their first byte;
	// more wait to be accepted.
	maxSniffing = 256
	// tlsHandshakeRecord is the first byte of a TLS connection: a
	// handshake record (RFC 8446, section 5.1).
	tlsHandshakeRecord = 0x16
)

// Listener returns the listener to serve the page on: l itself without
// TLSConfig, else a listener on l whose connections are TLS connections
// (*tls.Conn, which net/http serves as HTTPS) when they start with a TLS
// handshake, and plain ones otherwise, which the handler redirects to
// HTTPS. Closing it closes l.
func (s *Server) Listener(l net.Listener) net.Listener {
	if s.TLSConfig == nil {
		return l
	}
	return newSniffListener(l, s.TLSConfig, s.logger())
}

// toHTTPS redirects requests that came over plain HTTP to HTTPS, when the
// page is served over HTTPS. It runs after the Host check, so a redirect
// never leads to a foreign host.
func (s *Server) toHTTPS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.TLSConfig == nil || r.TLS != nil {
			h.ServeHTTP(w, r)
			return
		}
		code := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		http.Redirect(w, r, httpsURL(r), code)
	})
}

// httpsURL returns r's URL over HTTPS: the host r names, the port r came
// in on, r's path and query.
func httpsURL(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	port := ""
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, port, _ = net.SplitHostPort(la.String())
	}
	switch {
	case port != "" && port != "443":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	u := url.URL{Scheme: "https", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	return u.String()
}

// sniffListener accepts connections from its inner listener and hands them
// out as TLS or plain connections by their first byte. Each connection's
// first byte is awaited in its own goroutine, within sniffTimeout, so a
// client that sends nothing does not hold up the others.
type sniffListener struct {
	inner  net.Listener
	config *tls.Config
	log    *slog.Logger

	conns chan net.Conn // sniffed connections, ready to be served
	done  chan struct{} // closed by Close
	slots chan struct{} // a slot per connection being sniffed

	closeOnce sync.Once
	wg        sync.WaitGroup // the accept loop and the sniffing goroutines

	mu      sync.Mutex // guards the fields below
	err     error      // the inner listener's error that ended accepting
	pending map[net.Conn]struct{}
	closed  bool
}

func newSniffListener(l net.Listener, config *tls.Config, log *slog.Logger) *sniffListener {
	sl := &sniffListener{
		inner:  l,
		config: config,
		log:    log,
		conns:  make(chan net.Conn),
		done:   make(chan struct{}),
		slots:  make(chan struct{}, maxSniffing),

		pending: make(map[net.Conn]struct{}),
	}
	sl.wg.Go(sl.acceptLoop)
	return sl
}

// acceptLoop accepts connections until the inner listener fails or is
// closed, sniffing each in its own goroutine.
func (sl *sniffListener) acceptLoop() {
	var delay time.Duration
	for {
		select {
		case sl.slots <- struct{}{}:
		case <-sl.done:
			return
		}
		c, err := sl.inner.Accept()
		if err != nil {
			<-sl.slots
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				// Like net/http: back off on temporary errors such as
				// running out of file descriptors.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				sl.log.Debug("accepting a connection failed; retrying", "err", err, "in", delay)
				select {
				case <-time.After(delay):
					continue
				case <-sl.done:
					return
				}
			}
			sl.mu.Lock()
			sl.err = err
			sl.mu.Unlock()
			sl.shut()
			return
		}
		delay = 0
		sl.wg.Go(func() {
			defer func() { <-sl.slots }()
			sl.sniff(c)
		})
	}
}

// sniff reads c's first byte and hands c out as a TLS connection or a
// plain one; a connection that sends nothing in time, or whose listener
// was closed meanwhile, is closed.
func (sl *sniffListener) sniff(c net.Conn) {
	sl.mu.Lock()
	if sl.closed {
		sl.mu.Unlock()
		c.Close()
		return
	}
	sl.pending[c] = struct{}{}
	sl.mu.Unlock()
	var first [1]byte
	c.SetReadDeadline(time.Now().Add(sniffTimeout))
	_, err := io.ReadFull(c, first[:])
	c.SetReadDeadline(time.Time{})
	sl.mu.Lock()
	delete(sl.pending, c)
	sl.mu.Unlock()
	if err != nil {
		sl.log.Debug("connection closed before its first byte", "remote", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, first: first[0], unread: true}
	if first[0] == tlsHandshakeRecord {
		out = tls.Server(out, sl.config)
	}
	select {
	case sl.conns <- out:
	case <-sl.done:
		c.Close()
	}
}

// Accept returns the next connection: a *tls.Conn for a TLS client (its
// handshake is done by the server's first read or write of it), else the
// plain connection.
func (sl *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-sl.conns:
		return c, nil
	case <-sl.done:
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.err != nil {
		return nil, sl.err
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: sl.inner.Addr(), Err: net.ErrClosed}
}

// Close closes the inner listener and the connections not yet handed
// out, and waits for its goroutines to end.
func (sl *sniffListener) Close() error {
	err := sl.shut()
	sl.wg.Wait()
	return err
}

// shut closes the inner listener and the connections being sniffed.
func (sl *sniffListener) shut() error {
	var err error
	sl.closeOnce.Do(func() {
		close(sl.done)
		err = sl.inner.Close()
		sl.mu.Lock()
		sl.closed = true
		for c := range sl.pending {
			c.Close()
		}
		sl.mu.Unlock()
	})
	return err
}

// Addr is the inner listener's address.
func (sl *sniffListener) Addr() net.Addr { return sl.inner.Addr() }

// peekedConn is a connection whose first byte was read, and is read again
// first.
type peekedConn struct {
	net.Conn
	first  byte
	unread bool // first is still to be read; only the reader touches it
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.unread && len(p) > 0 {
		p[0] = c.first
		c.unread = false
		return 1, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection, as net/http does after an error
// answer, when the inner connection can.
func (c *peekedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
