package main

// Accounts and FTPS end to end: the binary with users made by
// `mediaftpd passwd --user`, a public share and a share private to each of
// alice and bob, and its self-signed certificate; driven by lftp, curl and
// Python's ftplib over TLS, openssl s_client, and a small FTPS client in
// Go for what they cannot show (an open session across SIGHUP, the exact
// bytes of a reply). The access matrix through FTP, DLNA and HTTP is in
// access_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// Passwords of the accounts tests: random-looking, so that any six
// characters of one found in the log are a leak, not a coincidence.
const (
	alicePW = "Tz8qLw3vNp"
	bobPW   = "Hm5rKx2cJd"
	carolPW = "Wb4nYs7fGe"
)

// acctShare is a share of the accounts tests.
type acctShare struct {
	name   string
	access []string // nil: public
	files  map[string][]byte
}

// acctShares are the shares of the accounts tests: Public for everyone,
// Alice for alice and Bob for bob. The private ones hold the same paths,
// so that a path guessed into one is as plausible as into the other.
func acctShares() []acctShare {
	return []acctShare{
		{"Public", nil, map[string][]byte{
			"film.mkv":                pseudoRandom(1, 1<<20+12345), // several TLS records and reads
			"Season 1/Episode 01.mkv": pseudoRandom(2, 5000),
		}},
		{"Alice", []string{"alice"}, map[string][]byte{
			"Home Video.mkv": pseudoRandom(3, 7000),
			"Sub/deep.mkv":   []byte("alice's deep file"),
		}},
		{"Bob", []string{"bob"}, map[string][]byte{
			"Home Video.mkv": pseudoRandom(4, 6000),
			"Sub/deep.mkv":   []byte("bob's deep file"),
		}},
	}
}

// acctBox is the config of a server of the accounts tests and the folders
// it names, all in a temp dir.
type acctBox struct {
	sharesDir string // the shares' folders: the tree whose digest must not change
	cfg       string // the config file
	state     string // state_dir, where the self-signed certificate is made
	implicit  string // tls.implicit_listen, or ""
	extra     []string
	shares    []acctShare
	hashes    map[string]string // user -> password_hash, as passwd wrote it
}

// newAcctBox writes the shares and a config with alice and bob, whose
// passwords are set with `mediaftpd passwd --user`. implicit is
// tls.implicit_listen ("" for none); extra are more top-level lines.
func newAcctBox(t *testing.T, implicit string, extra ...string) *acctBox {
	t.Helper()
	dir := t.TempDir()
	b := &acctBox{
		sharesDir: filepath.Join(dir, "shares"),
		cfg:       filepath.Join(dir, "config.yaml"),
		state:     filepath.Join(dir, "state"),
		implicit:  implicit,
		extra:     extra,
		shares:    acctShares(),
		hashes:    map[string]string{},
	}
	for _, sh := range b.shares {
		writeTree(t, filepath.Join(b.sharesDir, sh.name), sh.files)
	}
	// Users first: a share's access may name only existing users.
	b.passwd(t, "alice", alicePW)
	b.passwd(t, "bob", bobPW)
	b.write(t, "alice", "bob")
	return b
}

// passwd runs `mediaftpd passwd --user name -config FILE` with the
// password on stdin, as an admin does, and notes the hash it wrote.
func (b *acctBox) passwd(t *testing.T, name, password string) {
	t.Helper()
	cmd := exec.Command(mediaftpdBin, "passwd", "--user", name, "-config", b.cfg)
	cmd.Env = serverEnv()
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mediaftpd passwd --user %s: %v\n%s", name, err, out)
	}
	cfg, err := config.Load(b.cfg)
	if err != nil {
		t.Fatalf("the config after passwd --user %s: %v", name, err)
	}
	for _, u := range cfg.Users {
		b.hashes[u.Name] = u.PasswordHash
	}
	if b.hashes[name] == "" {
		t.Fatalf("passwd --user %s wrote no hash for %s:\n%s", name, name, out)
	}
}

// write rewrites the config file with the given users (their hashes as
// passwd wrote them) and the shares whose users are all among them: a
// user removed takes their private share along.
func (b *acctBox) write(t *testing.T, users ...string) {
	t.Helper()
	lines := []string{
		"# The accounts tests' server.",
		fmt.Sprintf("state_dir: %q", b.state),
		"users:",
	}
	for _, u := range users {
		lines = append(lines, "  - name: "+u, fmt.Sprintf("    password_hash: %q", b.hashes[u]))
	}
	lines = append(lines, "shares:")
	for _, sh := range b.shares {
		if !allIn(sh.access, users) {
			continue
		}
		lines = append(lines, "  - name: "+sh.name, fmt.Sprintf("    path: %q", filepath.Join(b.sharesDir, sh.name)))
		if sh.access != nil {
			lines = append(lines, "    access: ["+strings.Join(sh.access, ", ")+"]")
		}
	}
	if b.implicit != "" {
		lines = append(lines, "tls:", "  implicit_listen: "+b.implicit)
	}
	writeConfig(t, b.cfg, append(lines, b.extra...)...)
}

func allIn(names, set []string) bool {
	for _, n := range names {
		if !slices.Contains(set, n) {
			return false
		}
	}
	return true
}

// ca is the server's self-signed certificate, which clients take as their
// CA file.
func (b *acctBox) ca() string { return filepath.Join(b.state, "tls-cert.pem") }

// file returns the contents of a file of a share.
func (b *acctBox) file(share, rel string) []byte {
	for _, sh := range b.shares {
		if sh.name == share {
			return sh.files[rel]
		}
	}
	return nil
}

// start runs the binary with the box's config on a free loopback port
// (startServer: no status page, DLNA or mDNS).
func (b *acctBox) start(t *testing.T, args ...string) *server {
	t.Helper()
	s := startServer(t, "", append([]string{"-config", b.cfg, "-state-dir", b.state}, args...)...)
	if _, err := os.Stat(b.ca()); err != nil {
		t.Fatalf("no self-signed certificate in the state folder once serving: %v", err)
	}
	return s
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// portOf returns the port of host:port.
func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// sha returns the SHA-256 of b in hex, for messages.
func sha(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// ---------------------------------------------------------------------------
// Outside clients over TLS

// lftpFTPS returns an lftp -c script that logs in to url as user over
// explicit FTPS (or implicit, for an ftps:// url), checking the server's
// certificate against ca, with protected data connections, and runs cmds.
func lftpFTPS(ca, url, user, password string, cmds ...string) string {
	return strings.Join(append([]string{
		"set cmd:fail-exit yes",
		"set net:max-retries 1",
		"set net:timeout 10",
		"set net:reconnect-interval-base 1",
		"set xfer:log no",
		"set dns:order inet",
		"set ftp:ssl-force true",
		"set ftp:ssl-protect-data true",
		"set ssl:verify-certificate yes",
		"set ssl:ca-file " + ca,
		fmt.Sprintf("open -u %s,%s %s", user, password, url),
	}, cmds...), "; ")
}

// curlFTPS returns curl's arguments for explicit FTPS as user, checking the
// certificate against ca; "" logs in anonymously.
func curlFTPS(ca, user, password string) []string {
	args := []string{"-sS", "--connect-timeout", "10", "--ssl-reqd", "--cacert", ca}
	if user != "" {
		args = append(args, "-u", user+":"+password)
	}
	return args
}

// curlReplies returns the server's replies that curl -v showed, as
// "530 Login incorrect.".
func curlReplies(stderr string) []string {
	var out []string
	for l := range strings.SplitSeq(stderr, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if r, ok := strings.CutPrefix(l, "< "); ok && len(r) >= 3 {
			if _, err := strconv.Atoi(r[:3]); err == nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// lastReply is the last of curl -v's replies, or "".
func lastReply(stderr string) string {
	r := curlReplies(stderr)
	if len(r) == 0 {
		return ""
	}
	return r[len(r)-1]
}

// lsNames returns the names of a listing of lftp's cls or curl (LIST or
// NLST): the last field of each line, without slashes, sorted.
func lsNames(out []byte) []string {
	var names []string
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		name := strings.Trim(f[len(f)-1], "/")
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ---------------------------------------------------------------------------
// A raw FTPS client in Go: explicit FTPS whose data connections resume the
// control connection's TLS session, as lftp and curl do.

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// loopbackDial dials from this process's namespace.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

type ftpsConn struct {
	t       *testing.T
	dial    dialFunc
	host    string // the server's address, for data connections
	conn    net.Conn
	r       *bufio.Reader
	tlsConf *tls.Config
}

// dialFTPS connects to addr (through dial), switches to TLS with AUTH TLS,
// checking the certificate against the CA file ca for "localhost", and sets
// PBSZ 0 and PROT P.
func dialFTPS(t *testing.T, dial dialFunc, addr, ca string) *ftpsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	raw.SetDeadline(time.Now().Add(toolTimeout))
	host, _, _ := net.SplitHostPort(addr)
	c := &ftpsConn{t: t, dial: dial, host: host, conn: raw, r: bufio.NewReader(raw)}
	t.Cleanup(func() { c.conn.Close() })
	c.expect(220, "greeting")
	c.cmd(234, "AUTH TLS")
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", ca)
	}
	c.tlsConf = &tls.Config{ServerName: "localhost", RootCAs: pool, ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	tc := tls.Client(raw, c.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		t.Fatalf("TLS handshake after AUTH TLS: %v", err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	c.cmd(200, "PBSZ 0")
	c.cmd(200, "PROT P")
	return c
}

// reply reads one reply, multi-line or not, and returns its code and its
// bytes as sent.
func (c *ftpsConn) reply() (code int, raw string, err error) {
	var b strings.Builder
	first := ""
	for {
		line, err := c.r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return 0, b.String(), err
		}
		if first == "" {
			first = line
			if len(line) < 4 {
				return 0, b.String(), fmt.Errorf("short reply line %q", line)
			}
			if line[3] != '-' {
				break
			}
		} else if strings.HasPrefix(line, first[:3]+" ") {
			break
		}
	}
	code, err = strconv.Atoi(first[:3])
	return code, b.String(), err
}

// send sends a command line.
func (c *ftpsConn) send(line string) error {
	_, err := io.WriteString(c.conn, line+"\r\n")
	return err
}

// cmd sends a command and returns its reply, which must have code want
// (or start with it, if want is one digit).
func (c *ftpsConn) cmd(want int, format string, args ...any) string {
	c.t.Helper()
	line := fmt.Sprintf(format, args...)
	if err := c.send(line); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
	return c.expect(want, line)
}

func (c *ftpsConn) expect(want int, what string) string {
	c.t.Helper()
	code, raw, err := c.reply()
	if err != nil || (want >= 100 && code != want) || (want < 10 && code/100 != want) {
		c.t.Fatalf("%s: got %q, %v; want %d", what, raw, err, want)
	}
	return raw
}

func (c *ftpsConn) login(user, password string) {
	c.t.Helper()
	c.cmd(331, "USER %s", user)
	c.cmd(230, "PASS %s", password)
}

// dialData opens a data connection to the port of an EPSV reply.
func (c *ftpsConn) dialData() net.Conn {
	c.t.Helper()
	msg := c.cmd(229, "EPSV")
	m := epsvRE.FindStringSubmatch(msg)
	if m == nil {
		c.t.Fatalf("EPSV reply %q has no (|||port|)", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dc, err := c.dial(ctx, "tcp", net.JoinHostPort(c.host, m[1]))
	if err != nil {
		c.t.Fatalf("data connection: %v", err)
	}
	dc.SetDeadline(time.Now().Add(toolTimeout))
	return dc
}

// receive runs a command that sends data, reads it over a TLS data
// connection that resumes the control connection's session, and returns
// it.
func (c *ftpsConn) receive(format string, args ...any) []byte {
	c.t.Helper()
	dc := c.dialData()
	defer dc.Close()
	line := fmt.Sprintf(format, args...)
	c.cmd(1, "%s", line)
	tc := tls.Client(dc, c.tlsConf)
	b, err := io.ReadAll(tc)
	// Closed at once, as clients do on the server's close_notify: the
	// server waits for it (up to 5 s) before its 226.
	tc.Close()
	if err != nil {
		c.t.Fatalf("%s: reading data: %v", line, err)
	}
	if !tc.ConnectionState().DidResume {
		c.t.Errorf("%s: the data connection did not resume the TLS session, yet the server took it", line)
	}
	c.expect(226, line+" (end)")
	return b
}

func (c *ftpsConn) retr(p string) []byte {
	c.t.Helper()
	c.cmd(200, "TYPE I")
	return c.receive("RETR %s", p)
}

// nlst returns the NLST of dir, bare names, sorted.
func (c *ftpsConn) nlst(dir string) []string {
	c.t.Helper()
	return lsNames(c.receive("NLST %s", dir))
}

// ---------------------------------------------------------------------------
// 1-3. lftp, curl and Python's ftplib over TLS

func TestFTPSClients(t *testing.T) {
	t.Parallel()
	box := newAcctBox(t, freeAddr(t))
	s := box.start(t, "-debug") // -debug logs each command: REST shows
	ca, film := box.ca(), box.file("Public", "film.mkv")
	const restAt = 100_000

	// sentREST checks that the client resumed with REST restAt.
	sentREST := func(t *testing.T, client string, mark int) {
		t.Helper()
		s.awaitLog(t, mark, fmt.Sprintf("verb=REST arg=%d", restAt), 1, client+" resuming with REST")
	}
	partial := func(t *testing.T) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "film.mkv")
		if err := os.WriteFile(p, film[:restAt], 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	checkFile := func(t *testing.T, what, p string) {
		t.Helper()
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, film) {
			t.Errorf("%s: %v, %d bytes sha256 %s; want the file's %d bytes %s", what, err, len(got), sha(got), len(film), sha(film))
		}
	}

	t.Run("lftp", func(t *testing.T) {
		testtool.Need(t, "lftp")
		for _, host := range []string{"localhost", "127.0.0.1"} {
			url := "ftp://" + net.JoinHostPort(host, s.Port())
			out := mustRun(t, "lftp", "-c", lftpFTPS(ca, url, "alice", alicePW, "cls -l /"))
			t.Logf("lftp %s: cls -l /:\n%s", host, out)
			if got := lsNames(out); !slices.Equal(got, []string{"Alice", "Public"}) {
				t.Errorf("lftp %s as alice: cls -l / = %q, want [Alice Public]", host, got)
			}
			local := filepath.Join(t.TempDir(), "film.mkv")
			mustRun(t, "lftp", "-c", lftpFTPS(ca, url, "alice", alicePW, fmt.Sprintf("get /Public/film.mkv -o %q", local)))
			checkFile(t, "lftp "+host+" get", local)

			mark := len(s.Log())
			local = partial(t)
			mustRun(t, "lftp", "-c", lftpFTPS(ca, url, "alice", alicePW, fmt.Sprintf("get -c /Public/film.mkv -o %q", local)))
			checkFile(t, "lftp "+host+" get -c of a partial file", local)
			sentREST(t, "lftp get -c", mark)
		}
		// Implicit FTPS, and the certificate check is real: without the
		// CA file lftp refuses the server.
		out := mustRun(t, "lftp", "-c", lftpFTPS(ca, "ftps://localhost:"+portOf(box.implicit), "bob", bobPW, "cls -l /"))
		if got := lsNames(out); !slices.Equal(got, []string{"Bob", "Public"}) {
			t.Errorf("lftp ftps:// as bob: cls -l / = %q, want [Bob Public]", got)
		}
		script := strings.Replace(lftpFTPS(ca, "ftp://localhost:"+s.Port(), "alice", alicePW, "cls /"), "set ssl:ca-file "+ca, "set ssl:ca-file /dev/null", 1)
		stderr := mustFail(t, "lftp", "-c", script)
		t.Logf("lftp without the CA file: %s", strings.TrimSpace(stderr))
		if !strings.Contains(stderr, "Certificate verification") {
			t.Errorf("lftp without the CA file: %q, want a certificate verification error", stderr)
		}
	})

	t.Run("curl", func(t *testing.T) {
		testtool.Need(t, "curl")
		for _, host := range []string{"localhost", "127.0.0.1"} {
			base := "ftp://" + net.JoinHostPort(host, s.Port())
			args := curlFTPS(ca, "alice", alicePW)
			got := parseList(t, mustRun(t, "curl", append(args, base+"/")...))
			if _, ok := got["Alice"]; !ok || len(got) != 2 || !strings.HasPrefix(got["Public"].perm, "d") {
				t.Errorf("curl %s as alice: LIST / = %v, want the folders Alice and Public", host, got)
			}
			if got := mustRun(t, "curl", append(args, base+"/Public/film.mkv")...); !bytes.Equal(got, film) {
				t.Errorf("curl %s: %d bytes sha256 %s, want the file's %d bytes", host, len(got), sha(got), len(film))
			}
			mark := len(s.Log())
			local := partial(t)
			mustRun(t, "curl", append(args, "-C", "-", "-o", local, base+"/Public/film.mkv")...)
			checkFile(t, "curl "+host+" -C - of a partial file", local)
			sentREST(t, "curl -C -", mark)
		}
		// The session really was TLS, data included: curl -v shows it.
		_, stderr, err := runTool(t, "curl", append(curlFTPS(ca, "alice", alicePW), "-v", "-o", os.DevNull, "ftp://localhost:"+s.Port()+"/Public/film.mkv")...)
		if err != nil || !strings.Contains(stderr, "> AUTH") || !strings.Contains(stderr, "< 200 PROT now Private.") ||
			strings.Count(stderr, "SSL connection using TLSv1.") < 2 {
			t.Errorf("curl -v: %v; want AUTH, PROT P and two TLS connections:\n%s", err, stderr)
		}
	})

	t.Run("curl implicit", func(t *testing.T) {
		testtool.Need(t, "curl")
		base := "ftps://localhost:" + portOf(box.implicit)
		args := curlFTPS(ca, "bob", bobPW)
		got := parseList(t, mustRun(t, "curl", append(args, base+"/")...))
		if _, ok := got["Bob"]; !ok || len(got) != 2 {
			t.Errorf("curl ftps:// as bob: LIST / = %v, want Bob and Public", got)
		}
		if got := mustRun(t, "curl", append(args, base+"/Public/film.mkv")...); !bytes.Equal(got, film) {
			t.Errorf("curl ftps://: %d bytes sha256 %s, want the file's %d bytes", len(got), sha(got), len(film))
		}
		if got := mustRun(t, "curl", append(args, base+"/Bob/Home%20Video.mkv")...); !bytes.Equal(got, box.file("Bob", "Home Video.mkv")) {
			t.Errorf("curl ftps:// /Bob/Home Video.mkv: %d bytes", len(got))
		}
		mark := len(s.Log())
		local := partial(t)
		mustRun(t, "curl", append(args, "-C", "-", "-o", local, base+"/Public/film.mkv")...)
		checkFile(t, "curl ftps:// -C - of a partial file", local)
		sentREST(t, "curl ftps:// -C -", mark)
	})

	t.Run("python ftplib", func(t *testing.T) {
		testtool.Need(t, "/usr/bin/python3")
		mark := len(s.Log())
		var got struct {
			PlainLogin string    `json:"plain_login"`
			PlainProt  string    `json:"plain_prot"`
			PlainNLST  pyAttempt `json:"plain_nlst"`
			PlainRETR  pyAttempt `json:"plain_retr"`
			PlainNOOP  pyAttempt `json:"plain_noop"`
			Login      string    `json:"login"`
			Version    string    `json:"tls_version"`
			Prot       string    `json:"prot"`
			NLST       []string  `json:"nlst"`
			List       string    `json:"list"`
			ListLines  []string  `json:"list_lines"`
			Retr       string    `json:"retr"`
			Len        int       `json:"len"`
			SHA256     string    `json:"sha256"`
			RetrRest   string    `json:"retr_rest"`
			RestLen    int       `json:"rest_len"`
			RestSHA256 string    `json:"rest_sha256"`
		}
		out := mustRun(t, "/usr/bin/python3", "-c", pyFTPS, "localhost", s.Port(), ca, "alice", alicePW, "/Public/film.mkv", strconv.Itoa(restAt))
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		t.Logf("python FTP_TLS with prot_p() and no session reuse: nlst: %s: %s; retrbinary: %s: %s; NOOP after: %s",
			got.PlainNLST.Type, got.PlainNLST.Msg, got.PlainRETR.Type, got.PlainRETR.Msg, got.PlainNOOP.Msg)
		for what, a := range map[string]pyAttempt{"nlst": got.PlainNLST, "retrbinary": got.PlainRETR} {
			if a.Type != "error_perm" || !strings.HasPrefix(a.Msg, "522 ") {
				t.Errorf("plain FTP_TLS %s without session reuse: %s %q, want error_perm 522", what, a.Type, a.Msg)
			}
		}
		if got.PlainNOOP.Type != "ok" || !strings.HasPrefix(got.PlainNOOP.Msg, "200") {
			t.Errorf("NOOP after the refused data connections: %+v, want the session to go on", got.PlainNOOP)
		}
		s.awaitLog(t, mark, "data connection refused: it did not resume the TLS session", 2, "the refused data connections")

		t.Logf("python with session=self.sock.session: %s, %s; nlst %q; LIST %q", got.Version, got.Prot, got.NLST, got.ListLines)
		if !strings.HasPrefix(got.Login, "230") || !strings.HasPrefix(got.Prot, "200") {
			t.Errorf("login %q, prot_p %q", got.Login, got.Prot)
		}
		if slices.Sort(got.NLST); !slices.Equal(got.NLST, []string{"Alice", "Public"}) {
			t.Errorf("nlst('/') = %q, want [Alice Public]", got.NLST)
		}
		listed := parseList(t, []byte(strings.Join(got.ListLines, "\n")))
		if e, ok := listed["film.mkv"]; !strings.HasPrefix(got.List, "226") || len(listed) != 2 || !ok || e.size != int64(len(film)) || !strings.HasPrefix(listed["Season 1"].perm, "d") {
			t.Errorf("retrlines('LIST /Public'): %q %q", got.List, got.ListLines)
		}
		if !strings.HasPrefix(got.Retr, "226") || got.Len != len(film) || got.SHA256 != sha(film) {
			t.Errorf("retrbinary: %q, %d bytes sha256 %s; want %d bytes %s", got.Retr, got.Len, got.SHA256, len(film), sha(film))
		}
		if !strings.HasPrefix(got.RetrRest, "226") || got.RestLen != len(film)-restAt || got.RestSHA256 != sha(film[restAt:]) {
			t.Errorf("retrbinary(rest=%d): %q, %d bytes sha256 %s; want the file's last %d bytes", restAt, got.RetrRest, got.RestLen, got.RestSHA256, len(film)-restAt)
		}
		sentREST(t, "ftplib retrbinary(rest=)", mark)
	})
}

// pyFTPS logs in with ftplib.FTP_TLS twice: as the library comes, whose
// data connections make a full TLS handshake (refused), and with the usual
// subclass whose data connections resume the control connection's
// session. It prints what each call returned, as JSON.
const pyFTPS = `
import ftplib, hashlib, json, ssl, sys

host, port, ca, user, password, path, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7])

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """Data connections resume the control connection's TLS session."""
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size

def attempt(fn):
    try:
        return {"type": "ok", "msg": str(fn())}
    except ftplib.all_errors as e:
        return {"type": type(e).__name__, "msg": str(e)}

ctx = ssl.create_default_context(cafile=ca)
out = {}
plain = ftplib.FTP_TLS(context=ctx)
plain.connect(host, port, timeout=20)
out["plain_login"] = plain.login(user, password)
out["plain_prot"] = plain.prot_p()
out["plain_nlst"] = attempt(lambda: plain.nlst("/"))
out["plain_retr"] = attempt(lambda: plain.retrbinary("RETR " + path, lambda b: None))
out["plain_noop"] = attempt(lambda: plain.voidcmd("NOOP"))
plain.quit()

f = ReusingFTP_TLS(context=ctx)
f.connect(host, port, timeout=20)
out["login"] = f.login(user, password)
out["tls_version"] = f.sock.version()
out["prot"] = f.prot_p()
out["nlst"] = f.nlst("/")
listing = []
out["list"] = f.retrlines("LIST /Public", listing.append)
out["list_lines"] = listing
chunks = []
out["retr"] = f.retrbinary("RETR " + path, chunks.append)
data = b"".join(chunks)
out["len"], out["sha256"] = len(data), hashlib.sha256(data).hexdigest()
chunks = []
out["retr_rest"] = f.retrbinary("RETR " + path, chunks.append, rest=rest)
data = b"".join(chunks)
out["rest_len"], out["rest_sha256"] = len(data), hashlib.sha256(data).hexdigest()
f.quit()
json.dump(out, sys.stdout)
`

// ---------------------------------------------------------------------------
// 5. Throttling, and anonymous: false

// TestLoginThrottle sends 20 wrong passwords from one address with curl:
// the first accounts.MaxFailures-1 get 530, then every one 421, the right
// password too; meanwhile and after, logins from another address go
// through.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	box := newAcctBox(t, "")
	s := box.start(t)
	u := "ftp://127.0.0.1:" + s.Port() + "/"
	login := func(from, user, password string, extra ...string) (out []byte, stderr string, err error) {
		t.Helper()
		args := append(append(curlFTPS(box.ca(), user, password), "-v"), extra...)
		if from != "" {
			args = append(args, "--interface", from)
		}
		return runTool(t, "curl", append(args, u)...)
	}
	var codes []string
	for i := range 20 {
		if i == 10 {
			// Meanwhile, from another address.
			out, stderr, err := login("127.0.0.2", "alice", alicePW)
			if got := lsNames(out); err != nil || !slices.Equal(got, []string{"Alice", "Public"}) {
				t.Errorf("alice from 127.0.0.2 while 127.0.0.1 is locked out: %v, %q\n%s", err, got, stderr)
			}
		}
		start := time.Now()
		// A wrong password's answer may take a while: once an address
		// has failed, its checks are spaced to nine times the length of
		// the last one, which with a race-built server is several
		// seconds; curl's --connect-timeout covers FTP's login.
		_, stderr, err := login("", "bob", fmt.Sprintf("Pq6vBn%02d", i), "--connect-timeout", "60")
		r := lastReply(stderr)
		if err == nil || len(r) < 3 {
			t.Fatalf("wrong password %d: curl %v, last reply %q\n%s", i+1, err, r, stderr)
		}
		t.Logf("wrong password %2d: %q after %v", i+1, r, time.Since(start).Round(10*time.Millisecond))
		codes = append(codes, r[:3])
	}
	var want []string
	for i := range 20 {
		want = append(want, map[bool]string{true: "530", false: "421"}[i < accounts.MaxFailures-1])
	}
	if !slices.Equal(codes, want) {
		t.Errorf("replies to 20 wrong passwords: %q, want %q", codes, want)
	}
	// Locked out: the right password gets 421 too, unchecked.
	if _, stderr, err := login("", "bob", bobPW); err == nil || !strings.HasPrefix(lastReply(stderr), "421 ") {
		t.Errorf("bob's right password from the locked-out address: %v, %q; want 421", err, lastReply(stderr))
	}
	// Another address is not locked out.
	out, stderr, err := login("127.0.0.2", "bob", bobPW)
	if got := lsNames(out); err != nil || !slices.Equal(got, []string{"Bob", "Public"}) {
		t.Errorf("bob from 127.0.0.2: %v, %q\n%s", err, got, stderr)
	}
	s.awaitLog(t, 0, "too many failures from this address", 1, "the lockout")
}

// TestAnonymousOff: with anonymous: false, anonymous logins get 530 over
// plain FTP and over TLS; alice still logs in.
func TestAnonymousOff(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	box := newAcctBox(t, "", "anonymous: false")
	s := box.start(t)
	u := "ftp://localhost:" + s.Port() + "/"
	const refusal = "530 Anonymous login is disabled on this server."
	for _, args := range [][]string{
		{"-sS", "--connect-timeout", "10"},
		curlFTPS(box.ca(), "", ""),
		curlFTPS(box.ca(), "ftp", "guest@example.com"),
	} {
		_, stderr, err := runTool(t, "curl", append(args, "-v", u)...)
		if err == nil || lastReply(stderr) != refusal {
			t.Errorf("curl %s: %v, last reply %q; want %q", quoteArgs(args), err, lastReply(stderr), refusal)
		}
	}
	if testtool.InCI() || hasTool("lftp") {
		// In clear text (lftp would try AUTH TLS first, and refuse the
		// certificate it cannot check), and over TLS.
		for what, script := range map[string]string{
			"in clear text": strings.Replace(lftpScript(s, "cls /"), "open ", "set ftp:ssl-allow no; open ", 1),
			"over TLS":      lftpFTPS(box.ca(), "ftp://localhost:"+s.Port(), "anonymous", "", "cls /"),
		} {
			stderr := mustFail(t, "lftp", "-c", script)
			t.Logf("lftp anonymous %s: %s", what, strings.TrimSpace(stderr))
			if !strings.Contains(stderr, refusal) {
				t.Errorf("lftp anonymous %s: %q, want %q", what, stderr, refusal)
			}
		}
	}
	if got := lsNames(mustRun(t, "curl", append(curlFTPS(box.ca(), "alice", alicePW), "--list-only", u)...)); !slices.Equal(got, []string{"Alice", "Public"}) {
		t.Errorf("alice with anonymous off: NLST / = %q, want [Alice Public]", got)
	}
}

// hasTool reports whether a program is installed, for optional parts of a
// test (testtool.Need would skip the whole test).
func hasTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// ---------------------------------------------------------------------------
// 6. Passwords never in the log

// TestPasswordsNotLogged logs in with right and wrong passwords, over
// explicit and implicit TLS, and sends USER alice and PASS on a clear-text
// connection (530, then 503); with -debug logging every command, no part of
// any password is in the log.
func TestPasswordsNotLogged(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	testtool.Need(t, "lftp")
	box := newAcctBox(t, freeAddr(t))
	s := box.start(t, "-debug")
	ca, u := box.ca(), "ftp://localhost:"+s.Port()+"/"
	wrong := []string{"Ry3kWm8sQa", "Vd6pXe2tLc", "Gn9hBq4zUf"} // below the lockout from one address

	mustRun(t, "curl", append(curlFTPS(ca, "alice", alicePW), u)...)
	if _, stderr, err := runTool(t, "curl", append(curlFTPS(ca, "alice", wrong[0]), "-v", u)...); err == nil || !strings.HasPrefix(lastReply(stderr), "530 ") {
		t.Errorf("alice's wrong password: %v, %q; want 530", err, lastReply(stderr))
	}
	mustRun(t, "curl", append(curlFTPS(ca, "alice", alicePW), "ftps://localhost:"+portOf(box.implicit)+"/")...)
	mustRun(t, "lftp", "-c", lftpFTPS(ca, u, "bob", bobPW, "cls /"))
	stderr := mustFail(t, "lftp", "-c", lftpFTPS(ca, u, "bob", wrong[1], "cls /"))
	if !strings.Contains(stderr, "530") {
		t.Errorf("lftp with bob's wrong password: %q, want 530", stderr)
	}
	if _, stderr, err := runTool(t, "curl", append(curlFTPS(ca, "mallory", wrong[2]), "-v", u)...); err == nil || !strings.HasPrefix(lastReply(stderr), "530 ") {
		t.Errorf("an unknown user: %v, %q; want 530", err, lastReply(stderr))
	}

	// Clear text: USER is refused before the password is sent. curl stops
	// there; a client that sends PASS anyway gets 503.
	_, stderr, err := runTool(t, "curl", "-sS", "-v", "-u", "alice:"+alicePW, u)
	t.Logf("curl without TLS: %v; replies %q", err, curlReplies(stderr))
	if err == nil || !strings.HasPrefix(lastReply(stderr), "530 ") || strings.Contains(stderr, "> PASS") {
		t.Errorf("curl as alice without TLS: %v, replies %q; want 530 at USER and no PASS sent", err, curlReplies(stderr))
	}
	c := dialFTP(t, s.Addr)
	c.cmd(530, "USER alice")
	c.cmd(503, "PASS %s", alicePW)
	c.cmd(530, "USER bob")
	c.cmd(503, "PASS %s", wrong[0])
	c.cmd(221, "QUIT")

	// Everything logged, up to the end of the last session.
	s.awaitLog(t, 0, "named user refused on a clear-text connection", 2, "the clear-text USER commands")
	s.awaitLog(t, 0, "remote="+c.conn.LocalAddr().String()+` user="" duration=`, 1, "the end of the last session")
	log := s.Log()
	for _, want := range []string{"verb=USER arg=alice", "verb=PASS", "named user refused on a clear-text connection", `msg="login failed"`, `account=alice`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q: the test no longer sees what it checks", want)
		}
	}
	for _, pw := range append([]string{alicePW, bobPW}, wrong...) {
		// Any 6 characters of it in a row would be a leak.
		for i := 0; i+6 <= len(pw); i++ {
			if strings.Contains(strings.ToLower(log), strings.ToLower(pw[i:i+6])) {
				t.Errorf("the log shows %q, part of a password", pw[i:i+6])
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 7. SIGHUP

// TestAccountsSIGHUP removes bob (and his share) from the config and sends
// SIGHUP: bob's open session ends, alice's goes on. Then carol is added
// with passwd --user and a SIGHUP, and logs in.
func TestAccountsSIGHUP(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "curl")
	box := newAcctBox(t, "")
	s := box.start(t)
	alice := dialFTPS(t, loopbackDial, s.Addr, box.ca())
	alice.login("alice", alicePW)
	bob := dialFTPS(t, loopbackDial, s.Addr, box.ca())
	bob.login("bob", bobPW)
	if got := bob.nlst("/"); !slices.Equal(got, []string{"Bob", "Public"}) {
		t.Errorf("bob: NLST / = %q", got)
	}

	box.write(t, "alice")
	s.sighup(t, "sessions of changed users ended")
	// bob's session is over: the next command finds the connection closed.
	bob.send("NOOP")
	if code, raw, err := bob.reply(); err == nil {
		t.Errorf("bob's session after he was removed: NOOP got %d %q, want the connection closed", code, raw)
	} else {
		t.Logf("bob's NOOP after the reload: %v", err)
	}
	alice.cmd(200, "NOOP")
	if got := alice.nlst("/"); !slices.Equal(got, []string{"Alice", "Public"}) {
		t.Errorf("alice after the reload: NLST / = %q, want [Alice Public]", got)
	}
	if got := alice.retr("/Alice/Home Video.mkv"); !bytes.Equal(got, box.file("Alice", "Home Video.mkv")) {
		t.Errorf("alice after the reload: RETR got %d bytes", len(got))
	}
	u := "ftp://localhost:" + s.Port() + "/"
	if _, stderr, err := runTool(t, "curl", append(curlFTPS(box.ca(), "bob", bobPW), "-v", u)...); err == nil || !strings.HasPrefix(lastReply(stderr), "530 ") {
		t.Errorf("bob logging in after he was removed: %v, %q; want 530", err, lastReply(stderr))
	}

	box.passwd(t, "carol", carolPW)
	s.sighup(t, "config reloaded")
	if got := lsNames(mustRun(t, "curl", append(curlFTPS(box.ca(), "carol", carolPW), "--list-only", u)...)); !slices.Equal(got, []string{"Public"}) {
		t.Errorf("carol: NLST / = %q, want [Public]", got)
	}
	alice.cmd(200, "NOOP")
	alice.cmd(221, "QUIT")
	s.awaitLog(t, 0, "account=carol", 1, "carol's login")
	log := s.Log()
	for _, want := range []string{`msg="sessions of changed users ended" users=bob ftp_sessions=1`, `users="alice, carol"`, "account=carol"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// ---------------------------------------------------------------------------
// 8. Hostile TLS

// TestFTPSHostile: clear text after AUTH TLS, handshakes that never finish,
// TLS 1.2 renegotiation, data connections from another address and
// without the session: each refused, and the server then serves an FTPS
// download as before, the shares unchanged to the byte.
func TestFTPSHostile(t *testing.T) {
	t.Parallel()
	box := newAcctBox(t, freeAddr(t))
	before, _ := testtool.TreeDigest(t, box.sharesDir)
	s := box.start(t, "-debug")
	ca, film := box.ca(), box.file("Public", "film.mkv")

	plain := func(addr string) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(toolTimeout))
		return c, bufio.NewReader(c)
	}
	readLine := func(r *bufio.Reader) string {
		line, _ := r.ReadString('\n')
		return line
	}
	// closedBy reads until the server closes the connection and returns
	// what it sent; our own deadline is a failure.
	closedBy := func(c net.Conn, r *bufio.Reader) (string, error) {
		rest, err := io.ReadAll(r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return string(rest), fmt.Errorf("the server did not close the connection in %v", toolTimeout)
		}
		return string(rest), nil
	}
	authTLS := func() (net.Conn, *bufio.Reader) {
		c, r := plain(s.Addr)
		if l := readLine(r); !strings.HasPrefix(l, "220 ") {
			t.Fatalf("greeting %q", l)
		}
		io.WriteString(c, "AUTH TLS\r\n")
		if l := readLine(r); l != "234 Proceed with the TLS handshake.\r\n" {
			t.Fatalf("AUTH TLS: %q", l)
		}
		return c, r
	}

	t.Run("clear text sent with AUTH TLS", func(t *testing.T) {
		// A command injected behind AUTH TLS, to be taken as sent under
		// TLS (CVE-2011-0411): 421 and the end.
		c, r := plain(s.Addr)
		readLine(r)
		io.WriteString(c, "AUTH TLS\r\nUSER alice\r\n")
		rest, err := closedBy(c, r)
		if err != nil || rest != "421 Send nothing after AUTH until its reply.\r\n" {
			t.Errorf("AUTH TLS with a command behind it: %q, %v; want 421 and the connection closed", rest, err)
		}
	})

	t.Run("garbage instead of a handshake", func(t *testing.T) {
		c, r := authTLS()
		io.WriteString(c, strings.Repeat("GARBAGE \x00\xff\r\n", 20))
		if rest, err := closedBy(c, r); err != nil || rest != "" {
			t.Errorf("garbage after 234: %q, %v; want the connection closed", rest, err)
		}
		testtool.WaitFor(t, "the failed handshake in the log", func() bool {
			return strings.Contains(s.Log(), "first record does not look like a TLS handshake")
		})
	})

	t.Run("handshakes that never finish", func(t *testing.T) {
		// Three at once, each cut by the server's handshake timeout
		// (ftpd.DefaultHandshakeTimeout, 10 s; there is no flag for it):
		// nothing after AUTH TLS, half a ClientHello after AUTH TLS, and
		// nothing on the implicit FTPS port.
		idle, idleR := authTLS()
		half, halfR := authTLS()
		// A handshake record announcing 512 bytes, of which 24 come.
		half.Write(append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc}, make([]byte, 15)...))
		impl, implR := plain(box.implicit)
		mark := len(s.Log())
		var wg sync.WaitGroup
		for name, c := range map[string]struct {
			c net.Conn
			r *bufio.Reader
		}{"nothing after AUTH TLS": {idle, idleR}, "half a ClientHello": {half, halfR}, "nothing on the implicit port": {impl, implR}} {
			wg.Go(func() {
				if rest, err := closedBy(c.c, c.r); err != nil || rest != "" {
					t.Errorf("%s: %q, %v; want the connection closed", name, rest, err)
				}
			})
		}
		wg.Wait()
		// The log says why each ended (its lines come through a pipe,
		// maybe after the connections closed).
		testtool.WaitFor(t, "three handshakes cut by the timeout in the log", func() bool {
			log := s.Log()[mark:]
			return strings.Count(log, `msg="TLS handshake failed after AUTH"`) == 2 &&
				strings.Count(log, `msg="implicit TLS handshake failed"`) == 1 &&
				strings.Count(log, ` err="TLS handshake: context deadline exceeded"`) == 3
		})
	})

	t.Run("renegotiation", func(t *testing.T) {
		openssl := testtool.Need(t, "openssl")
		// "R" on s_client's input asks for a renegotiation (TLS 1.2; TLS
		// 1.3 has none), over explicit and implicit FTPS.
		for _, tc := range []struct {
			args []string
			wait string // what s_client shows before "R" is sent
		}{
			{[]string{"-connect", s.Addr, "-starttls", "ftp"}, ""},
			// Implicit FTPS: after the greeting, which s_client would
			// otherwise read in the middle of the renegotiation and give
			// up on by itself ("unexpected record").
			{[]string{"-connect", box.implicit}, "220 "},
		} {
			out, err := sClientR(t, openssl, tc.wait, append(tc.args, "-no_tls1_3", "-CAfile", ca, "-verify_return_error", "-servername", "localhost")...)
			t.Logf("openssl s_client %s -no_tls1_3, then R: %v; %q", quoteArgs(tc.args), err, grepLines(out, "New, TLS", "Verify return code", "220 ", "RENEGOTIATING", "alert"))
			if err == nil || !strings.Contains(out, "New, TLSv1.2") || !strings.Contains(out, "Verify return code: 0 (ok)") ||
				!strings.Contains(out, "RENEGOTIATING") || !strings.Contains(out, "alert unexpected message") {
				t.Errorf("openssl s_client %s: %v; want a verified TLS 1.2 session, then the server's unexpected message alert to R:\n%s", quoteArgs(tc.args), err, out)
			}
		}
	})

	t.Run("data connection from another address", func(t *testing.T) {
		c := dialFTPS(t, loopbackDial, s.Addr, ca)
		c.login("alice", alicePW)
		c.cmd(200, "TYPE I")
		msg := c.cmd(229, "EPSV")
		port := epsvRE.FindStringSubmatch(msg)[1]
		thief, err := (&net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("dialing the passive port from 127.0.0.2: %v", err)
		}
		defer thief.Close()
		thief.SetDeadline(time.Now().Add(toolTimeout))
		c.cmd(150, "RETR /Public/film.mkv")
		// The server accepts the thief first, and closes it at once.
		if got, err := io.ReadAll(thief); len(got) != 0 || err != nil {
			t.Errorf("the connection from 127.0.0.2 got %d bytes, %v; want it closed with nothing", len(got), err)
		}
		// The client's own connection still gets the file.
		dc, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 10*time.Second)
		if err != nil {
			t.Fatalf("the client's data connection after the thief's: %v", err)
		}
		defer dc.Close()
		dc.SetDeadline(time.Now().Add(toolTimeout))
		tc := tls.Client(dc, c.tlsConf)
		got, err := io.ReadAll(tc)
		tc.Close()
		if err != nil || !bytes.Equal(got, film) {
			t.Errorf("RETR after the thief: %v, %d bytes sha256 %s", err, len(got), sha(got))
		}
		c.expect(226, "RETR after the thief")
		s.awaitLog(t, 0, `msg="data connection from a foreign address refused" session=`, 1, "the refused data connection")
		if !strings.Contains(s.Log(), "from=127.0.0.2") {
			t.Error("the log does not show the refused data connection from 127.0.0.2")
		}

		// From the client's own address but without the session (a
		// stolen port on a shared machine, or a client that does not
		// resume): the handshake is made, then refused with 522.
		dc2 := c.dialData()
		defer dc2.Close()
		c.cmd(150, "RETR /Public/film.mkv")
		stranger := tls.Client(dc2, &tls.Config{ServerName: "localhost", RootCAs: c.tlsConf.RootCAs})
		got, err = io.ReadAll(stranger)
		stranger.Close()
		if len(got) != 0 {
			t.Errorf("a data connection without the session got %d bytes", len(got))
		}
		t.Logf("a data connection without the session: %d bytes, %v", len(got), err)
		if r := c.expect(522, "RETR over a data connection without the session"); r != "522 Data connections must resume the TLS session of the control connection.\r\n" {
			t.Errorf("reply %q", r)
		}
		c.cmd(200, "NOOP")
		c.cmd(221, "QUIT")
	})

	// Still serving, as before: curl's FTPS download, byte for byte.
	if testtool.InCI() || hasTool("curl") {
		if got := mustRun(t, "curl", append(curlFTPS(ca, "alice", alicePW), "ftp://localhost:"+s.Port()+"/Public/film.mkv")...); !bytes.Equal(got, film) {
			t.Errorf("curl after the hostile clients: %d bytes sha256 %s", len(got), sha(got))
		}
	}
	c := dialFTPS(t, loopbackDial, s.Addr, ca)
	c.login("bob", bobPW)
	if got := c.retr("/Bob/Home Video.mkv"); !bytes.Equal(got, box.file("Bob", "Home Video.mkv")) {
		t.Errorf("RETR after the hostile clients: %d bytes", len(got))
	}
	if after, lines := testtool.TreeDigest(t, box.sharesDir); after != before {
		t.Errorf("the shares changed:\n%s", strings.Join(lines, "\n"))
	}
}

// sClientR runs openssl s_client with args and, once it has shown a line
// starting with wait (at once if wait is ""), sends "R", which asks for a
// renegotiation, and ends its input. It returns what s_client printed.
func sClientR(t *testing.T, openssl, wait string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, append([]string{"s_client"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	send := func() {
		io.WriteString(stdin, "R\n")
		stdin.Close()
	}
	if wait == "" {
		send()
	}
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if wait != "" && strings.HasPrefix(sc.Text(), wait) {
			send()
			wait = ""
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("openssl s_client %s: timed out after %v\n%s", quoteArgs(args), toolTimeout, out.String())
	}
	return out.String(), err
}

// awaitLog waits until the server's log after mark holds want at least n
// times: its lines come through a pipe, maybe after the client has had
// its answer.
func (s *server) awaitLog(t *testing.T, mark int, want string, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.Log()[mark:], want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the log does not show %q %d times:\n%s", what, want, n, s.Log()[mark:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// grepLines returns the lines of out that contain any of the words.
func grepLines(out string, words ...string) []string {
	var got []string
	for l := range strings.SplitSeq(out, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				got = append(got, strings.TrimSpace(l))
				break
			}
		}
	}
	return got
}
