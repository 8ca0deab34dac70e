package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
)

// httpsEnv is a test server whose page is also served, over HTTPS and
// plain HTTP on one port, by an http.Server on 127.0.0.1, with a
// self-signed certificate from tlscert.
type httpsEnv struct {
	*testEnv
	cert   *tlscert.Source
	port   string
	client *http.Client // trusts the certificate; follows no redirect
}

func newHTTPSServer(t *testing.T) *httpsEnv {
	t.Helper()
	cert, err := tlscert.New(tlscert.Options{StateDir: t.TempDir(), Names: []string{"localhost"},
		Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := &httpsEnv{cert: cert}
	h.testEnv = newTestServer(t, func(s *Server) {
		s.TLSConfig = cert.ServerConfig()
		s.Fingerprint = cert.Fingerprint
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, h.port, _ = net.SplitHostPort(l.Addr().String())
	srv := &http.Server{Handler: h.srv, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(quietLogger().Handler(), slog.LevelDebug)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(h.srv.Listener(l)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	pem, err := os.ReadFile(cert.CertPath())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in " + cert.CertPath())
	}
	h.client = &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	t.Cleanup(h.client.CloseIdleConnections)
	return h
}

// url returns the URL of path on the server by scheme and host.
func (h *httpsEnv) url(scheme, host, path string) string {
	return scheme + "://" + net.JoinHostPort(host, h.port) + path
}

func (h *httpsEnv) get(method, url, body string, headers ...string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, string(data)
}

func TestHTTPS(t *testing.T) {
	h := newHTTPSServer(t)
	fp := h.cert.Fingerprint()

	// The page and the API over HTTPS, with the fingerprint.
	resp, body := h.get("GET", h.url("https", "127.0.0.1", "/api/status"), "")
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("GET /api/status over HTTPS: %s %+v", resp.Status, resp.TLS)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.TLSFingerprint != fp || len(fp) != 95 {
		t.Errorf("tls_fingerprint %q, want %q (%v)", st.TLSFingerprint, fp, err)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent with a self-signed certificate")
	}
	_, page := h.get("GET", h.url("https", "localhost", "/"), "")
	if !strings.Contains(page, `<code id="fingerprint">`+fp+`</code>`) {
		t.Error("the page lacks the fingerprint")
	}

	// A login over HTTPS sets a Secure cookie, which works there.
	resp, body = h.get("POST", h.url("https", "127.0.0.1", "/api/login"), `{"password": "`+testPassword+`"}`,
		"Origin", h.url("https", "127.0.0.1", ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login over HTTPS: %s %s", resp.Status, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over HTTPS %+v, want Secure, HttpOnly, SameSite=Strict", cookie)
	}
	if resp, _ := h.get("GET", h.url("https", "127.0.0.1", "/api/folders"), "", "Cookie", sessionCookie+"="+cookie.Value); resp.StatusCode != http.StatusOK {
		t.Errorf("an admin request over HTTPS: %s", resp.Status)
	}

	// Plain HTTP on the same port is redirected, path and query kept.
	for _, tt := range []struct{ method, host, path string }{
		{"GET", "127.0.0.1", "/files/Movies/film.mkv?x=1&y=%2F"},
		{"HEAD", "localhost", "/"},
		{"POST", "127.0.0.1", "/api/login"},
		{"GET", "localhost", "/files/Movies/a%20b/"},
	} {
		body := ""
		if tt.method == "POST" {
			body = `{"password": "` + testPassword + `"}`
		}
		resp, _ := h.get(tt.method, h.url("http", tt.host, tt.path), body)
		want := http.StatusMovedPermanently
		if tt.method == "POST" {
			want = http.StatusPermanentRedirect
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode != want || loc != h.url("https", tt.host, tt.path) {
			t.Errorf("%s %s over HTTP: %s to %q, want %d to %q", tt.method, tt.path, resp.Status, loc, want, h.url("https", tt.host, tt.path))
		}
		if len(resp.Cookies()) > 0 {
			t.Errorf("%s %s over HTTP set a cookie", tt.method, tt.path)
		}
	}
	// A foreign host is refused, not redirected to.
	req, _ := http.NewRequest("GET", h.url("http", "127.0.0.1", "/"), nil)
	req.Host = "evil.example.com"
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
		t.Errorf("a foreign host over HTTP: %s to %q, want 403", resp.Status, resp.Header.Get("Location"))
	}
	// A browser following the redirect lands on the page.
	follow := &http.Client{Transport: h.client.Transport, Timeout: 10 * time.Second}
	resp, err = follow.Get(h.url("http", "localhost", "/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.Request.URL.Scheme != "https" {
		t.Errorf("following the redirect: %s at %s", resp.Status, resp.Request.URL)
	}

	// A connection that sends nothing, or garbage after a TLS record
	// byte, holds up nobody.
	silent, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", h.port))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	garbage, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", h.port))
	if err != nil {
		t.Fatal(err)
	}
	garbage.Write([]byte("\x16this is no handshake\r\n\r\n"))
	garbage.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.ReadAll(garbage); err != nil || len(n) > 16 {
		t.Errorf("garbage after 0x16: read %q, %v; want the connection closed, at most an alert", n, err)
	}
	garbage.Close()
	if resp, _ := h.get("GET", h.url("https", "127.0.0.1", "/api/status"), ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET over HTTPS beside a silent connection: %s", resp.Status)
	}

	// Without a TLS handshake's first byte nothing is served over TLS:
	// TLS 1.0 and 1.1 are refused.
	old := &tls.Config{RootCAs: h.client.Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxVersion: tls.VersionTLS11}
	if c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", h.port), old); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

// TestHTTPSCurl fetches the page over HTTPS with curl, the self-signed
// certificate as its CA file, and follows the redirect from HTTP.
func TestHTTPSCurl(t *testing.T) {
	curl := testtool.Need(t, "curl")
	h := newHTTPSServer(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--noproxy", "*", "--max-time", "10"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := errors.AsType[*exec.ExitError](err); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("curl %q: %v\n%s", args, err, stderr)
		}
		return string(out)
	}
	body := run("--cacert", h.cert.CertPath(), h.url("https", "127.0.0.1", "/api/status"))
	if !strings.Contains(body, `"tls_fingerprint":"`+h.cert.Fingerprint()+`"`) {
		t.Errorf("curl https /api/status: %s", body)
	}
	got := run("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", h.url("http", "127.0.0.1", "/files/Movies/"))
	if want := "301 " + h.url("https", "127.0.0.1", "/files/Movies/"); got != want {
		t.Errorf("curl http: %q, want %q", got, want)
	}
	got = run("-L", "--cacert", h.cert.CertPath(), "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", h.url("http", "localhost", "/files/Movies/film.mkv"))
	if want := "200 " + h.url("https", "localhost", "/files/Movies/film.mkv"); got != want {
		t.Errorf("curl -L http: %q, want %q", got, want)
	}
	// Without the CA file, curl refuses the self-signed certificate.
	cmd := exec.Command(curl, "-sS", "--noproxy", "*", "--max-time", "10", h.url("https", "127.0.0.1", "/"))
	if err := cmd.Run(); err == nil {
		t.Error("curl accepted the self-signed certificate without --cacert")
	}
}

func TestHTTPSURL(t *testing.T) {
	tests := []struct{ host, local, path, want string }{
		{"192.168.1.20:8021", "192.168.1.20:8021", "/a%20b/?x=1", "https://192.168.1.20:8021/a%20b/?x=1"},
		{"pi.local:8021", "192.168.1.20:8021", "/", "https://pi.local:8021/"},
		{"pi.local", "192.168.1.20:443", "/", "https://pi.local/"},
		{"[fe80::1]:8021", "[fe80::1%eth0]:8021", "/", "https://[fe80::1]:8021/"},
		{"[2001:db8::1]", "[2001:db8::1]:443", "/", "https://[2001:db8::1]/"},
		{"pi", "10.0.0.1:80", "/x", "https://pi:80/x"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
		local, err := net.ResolveTCPAddr("tcp", tt.local)
		if err != nil {
			t.Fatal(err)
		}
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		if got := httpsURL(r); got != tt.want {
			t.Errorf("httpsURL(Host %s, local %s, %s) = %q, want %q", tt.host, tt.local, tt.path, got, tt.want)
		}
	}
}

// TestSniffListenerClose checks that closing the listener ends its
// goroutines, those waiting for a first byte included, and that Accept
// then reports net.ErrClosed.
func TestSniffListenerClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := newSniffListener(l, &tls.Config{}, quietLogger())
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A plain connection is handed out as it is, its first byte kept.
	c.Write([]byte("GET"))
	got, err := sl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*tls.Conn); ok {
		t.Error("a plain connection was handed out as TLS")
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(got, buf); err != nil || string(buf) != "GET" {
		t.Errorf("read %q, %v; want GET", buf, err)
	}
	got.Close()
	// One waiting for its first byte is closed by Close.
	waiting, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	waitFor(t, "the connection to be sniffed", func() bool {
		sl.mu.Lock()
		defer sl.mu.Unlock()
		return len(sl.pending) == 1
	})
	sl.Close() // waits for the goroutines
	waiting.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := waiting.Read(buf); err == nil {
		t.Error("the connection waiting for its first byte is still open")
	}
	if _, err := sl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}
