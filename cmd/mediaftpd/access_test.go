package main

// The access matrix end to end: the binary with DLNA and the status page
// on, in a network namespace of its own (lo only: SSDP finds no interface
// to announce on, and multicast never leaves the namespace); anonymous,
// alice and bob each look through FTP (curl, lftp, and a Go FTPS client for
// the bytes of each reply), DLNA (ContentDirectory over SOAP with curl)
// and HTTP (curl, logged in to the status page with a user's name and
// password).

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The server's addresses inside its namespace.
const (
	matrixFTP      = "127.0.0.1:2121"
	matrixImplicit = "127.0.0.1:2990"
	matrixWeb      = "127.0.0.1:8021"
	matrixDLNA     = "127.0.0.1:8200"
)

// nsTool runs an outside program in namespace ns (skipping the test if it
// is missing) and returns its standard output, standard error and error.
func nsTool(t *testing.T, ns, name string, args ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	path := testtool.Need(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, path}, args...)...)
	cmd.Env = toolEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v\nstderr:\n%s", name, quoteArgs(args), toolTimeout, e.String())
	}
	return o.Bytes(), e.String(), err
}

// nsMustRun is nsTool for a run that must succeed.
func nsMustRun(t *testing.T, ns, name string, args ...string) []byte {
	t.Helper()
	out, stderr, err := nsTool(t, ns, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, quoteArgs(args), err, stderr)
	}
	return out
}

// httpAnswer is an HTTP answer as curl got it.
type httpAnswer struct {
	status int
	body   string
}

// nsHTTP sends an HTTP request with curl from namespace ns (args are
// curl's, before the URL) and returns the status and body.
func nsHTTP(t *testing.T, ns, u string, args ...string) httpAnswer {
	t.Helper()
	out := nsMustRun(t, ns, "curl", append(append([]string{"-sS", "--connect-timeout", "10", "-w", "\n%{http_code}"}, args...), u)...)
	i := bytes.LastIndexByte(out, '\n')
	status, err := strconv.Atoi(string(out[i+1:]))
	if i < 0 || err != nil {
		t.Fatalf("curl %s: no status at the end of %q", u, out)
	}
	body := string(out[:i])
	return httpAnswer{status, body}
}

// soapBrowse asks the ContentDirectory with curl for an object's children
// (or its metadata) and returns the answer.
func soapBrowse(t *testing.T, ns, action, args string) httpAnswer {
	t.Helper()
	return nsHTTP(t, ns, "http://"+matrixDLNA+"/control/ContentDirectory",
		"-X", "POST", "-H", `Content-Type: text/xml; charset="utf-8"`,
		"-H", `SOAPACTION: "urn:schemas-upnp-org:service:ContentDirectory:1#`+action+`"`,
		"--data-binary", soapEnvelope(action, args))
}

func browseArgs(id, flag string) string {
	return "<ObjectID>" + id + "</ObjectID><BrowseFlag>" + flag + "</BrowseFlag><Filter>*</Filter>" +
		"<StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>"
}

// guessCommands are the FTP commands that take a path.
var guessCommands = []string{"CWD", "SIZE", "MDTM", "MLST", "STAT", "RETR", "LIST", "NLST", "MLSD"}

// refusal sends verb with arg, which must be refused with 550 (for the
// commands that send data, with a data connection made, so that a wrong
// 150 would show), and returns the reply's bytes.
func (c *ftpsConn) refusal(verb, arg string) string {
	c.t.Helper()
	switch verb {
	case "RETR", "LIST", "NLST", "MLSD":
		dc := c.dialData()
		defer dc.Close()
		raw := c.cmd(550, "%s %s", verb, arg)
		c.cmd(225, "ABOR") // frees the passive port
		return raw
	}
	return c.cmd(550, "%s %s", verb, arg)
}

// TestAccessMatrix: anonymous, alice and bob each see exactly their shares
// through FTP, DLNA (public shares only: it has no login) and HTTP, and a
// path guessed into a share they may not see is answered as a missing
// one, byte for byte.
func TestAccessMatrix(t *testing.T) {
	lab := netlab.New(t, "acct")
	testtool.Need(t, "curl")
	ns := lab.NS("srv")
	box := newAcctBox(t, matrixImplicit)
	p := lab.Start("mediaftpd", ns, serverEnv(), mediaftpdBin, "-config", box.cfg, "-state-dir", box.state,
		"-listen", matrixFTP, "-web", matrixWeb, "-dlna", matrixDLNA, "-mdns=false", "-name", "Access Test")
	indexed := 0
	p.Await(t, "line", startTimeout, func(ev netlab.Event) bool {
		if strings.Contains(ev.Line, `msg="share indexed"`) {
			indexed++
		}
		return indexed == len(box.shares)
	})
	ca := box.ca()
	who := []struct {
		name, user, password string
		see                  []string
	}{
		{"anonymous", "", "", []string{"Public"}},
		{"alice", "alice", alicePW, []string{"Alice", "Public"}},
		{"bob", "bob", bobPW, []string{"Bob", "Public"}},
	}

	t.Run("FTP", func(t *testing.T) {
		for _, w := range who {
			u := "ftp://" + matrixFTP + "/"
			args := curlFTPS(ca, w.user, w.password)
			if got := lsNames(nsMustRun(t, ns, "curl", append(args, "--list-only", u)...)); !slices.Equal(got, w.see) {
				t.Errorf("curl as %s: NLST / = %q, want %q", w.name, got, w.see)
			}
			if got := lsNames(nsMustRun(t, ns, "curl", append(args, u)...)); !slices.Equal(got, w.see) {
				t.Errorf("curl as %s: LIST / = %q, want %q", w.name, got, w.see)
			}
			user := w.user
			if user == "" {
				user = "anonymous"
			}
			if got := lsNames(nsMustRun(t, ns, "lftp", "-c", lftpFTPS(ca, "ftp://"+matrixFTP, user, w.password, "cls -l /"))); !slices.Equal(got, w.see) {
				t.Errorf("lftp as %s: cls -l / = %q, want %q", w.name, got, w.see)
			}
			if got := lsNames(nsMustRun(t, ns, "curl", append(args, "ftps://"+matrixImplicit+"/")...)); !slices.Equal(got, w.see) {
				t.Errorf("curl ftps:// as %s: LIST / = %q, want %q", w.name, got, w.see)
			}
		}
		// Anonymous in clear text too.
		if got := lsNames(nsMustRun(t, ns, "curl", "-sS", "--list-only", "ftp://"+matrixFTP+"/")); !slices.Equal(got, []string{"Public"}) {
			t.Errorf("curl anonymous without TLS: NLST / = %q, want [Public]", got)
		}
		// Each reads their own share.
		for _, w := range who[1:] {
			sh := w.see[0]
			got := nsMustRun(t, ns, "curl", append(curlFTPS(ca, w.user, w.password), "ftp://"+matrixFTP+"/"+sh+"/Home%20Video.mkv")...)
			if !bytes.Equal(got, box.file(sh, "Home Video.mkv")) {
				t.Errorf("curl as %s: /%s/Home Video.mkv: %d bytes", w.name, sh, len(got))
			}
		}
	})

	t.Run("FTP guessing", func(t *testing.T) {
		dial := lab.DialIn(t, ns)
		for _, g := range []struct {
			name, user, password, share string
		}{
			{"anonymous", "anonymous", "guest@example.com", "Alice"},
			{"anonymous", "anonymous", "guest@example.com", "Bob"},
			{"bob", "bob", bobPW, "Alice"},
			{"alice", "alice", alicePW, "Bob"},
		} {
			c := dialFTPS(t, dial, matrixFTP, ca)
			c.login(g.user, g.password)
			n := 0
			for _, rel := range []string{"", "/", "/Home Video.mkv", "/Sub", "/Sub/deep.mkv", "/missing.mkv"} {
				for _, verb := range guessCommands {
					private, missing := c.refusal(verb, "/"+g.share+rel), c.refusal(verb, "/Nope"+rel)
					if private != missing {
						t.Errorf("%s: %s /%s%s got %q; a missing share gets %q", g.name, verb, g.share, rel, private, missing)
					}
					n++
				}
			}
			// Relative, and percent-encoded as players send URLs' paths.
			for _, pair := range [][2]string{
				{g.share + "/Home Video.mkv", "Nope/Home Video.mkv"},
				{"/%" + fmt.Sprintf("%02X", g.share[0]) + g.share[1:] + "/Home%20Video.mkv", "/Nope/Home%20Video.mkv"},
			} {
				for _, verb := range []string{"SIZE", "RETR", "CWD"} {
					if a, b := c.refusal(verb, pair[0]), c.refusal(verb, pair[1]); a != b {
						t.Errorf("%s: %s %s got %q; a missing share gets %q", g.name, verb, pair[0], a, b)
					}
					n++
				}
			}
			t.Logf("%s guessing /%s: %d commands, each answered as for /Nope; e.g. CWD: %q", g.name, g.share, n, c.refusal("CWD", "/"+g.share))
			c.cmd(221, "QUIT")
		}
		// curl as bob, asking for alice's film: the same replies and the
		// same error as for a share that does not exist.
		args := append(curlFTPS(ca, "bob", bobPW), "-v")
		_, private, perr := nsTool(t, ns, "curl", append(args, "ftp://"+matrixFTP+"/Alice/Home%20Video.mkv")...)
		_, missing, merr := nsTool(t, ns, "curl", append(args, "ftp://"+matrixFTP+"/Nope/Home%20Video.mkv")...)
		pr, mr := curlReplies(private), curlReplies(missing)
		t.Logf("curl as bob: /Alice/Home Video.mkv: %v, last reply %q; /Nope/...: %v, %q", perr, lastReply(private), merr, lastReply(missing))
		if perr == nil || fmt.Sprint(perr) != fmt.Sprint(merr) || !slices.Equal(pr, mr) || !strings.HasPrefix(lastReply(private), "550 ") {
			t.Errorf("curl as bob: /Alice/...: %v %q; /Nope/...: %v %q", perr, pr, merr, mr)
		}
	})

	t.Run("DLNA", func(t *testing.T) {
		// DLNA has no login: everyone sees what anonymous sees.
		root := soapBrowse(t, ns, "Browse", browseArgs("0", "BrowseDirectChildren"))
		page, err := parseSOAPAnswer([]byte(root.body), root.status)
		if err != nil {
			t.Fatalf("Browse 0: %v", err)
		}
		var shares []string
		for _, o := range page.Objects {
			if rest, ok := strings.CutPrefix(o.ID, "0/"); ok {
				shares = append(shares, rest)
			}
		}
		t.Logf("Browse 0: %q", titlesOf(page.Objects))
		if !slices.Equal(shares, []string{"Public"}) {
			t.Errorf("Browse 0: shares %q, want [Public]", shares)
		}
		// Nothing of the private shares anywhere: the root's other
		// containers (recently added) and a search of every item.
		seen := map[string]bool{}
		var walk func(id string)
		walk = func(id string) {
			a := soapBrowse(t, ns, "Browse", browseArgs(id, "BrowseDirectChildren"))
			page, err := parseSOAPAnswer([]byte(a.body), a.status)
			if err != nil {
				t.Fatalf("Browse %s: %v", id, err)
			}
			for _, o := range page.Objects {
				if seen[o.ID] {
					continue
				}
				seen[o.ID] = true
				if o.Container {
					walk(o.ID)
				}
			}
		}
		walk("0")
		search := soapBrowse(t, ns, "Search", "<ContainerID>0</ContainerID><SearchCriteria>upnp:class derivedfrom &quot;object.item&quot;</SearchCriteria>"+
			"<Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount><SortCriteria></SortCriteria>")
		found, err := parseSOAPAnswer([]byte(search.body), search.status)
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		var items []string
		for _, o := range found.Objects {
			items = append(items, o.ID)
			for _, r := range o.Res {
				items = append(items, r.URL)
			}
		}
		t.Logf("Browse walk: %d objects; Search of every item: %q", len(seen), items)
		for id := range seen {
			if strings.Contains(id, "Alice") || strings.Contains(id, "Bob") {
				t.Errorf("Browse shows %s", id)
			}
		}
		if len(found.Objects) == 0 {
			t.Error("Search found nothing: the test no longer sees the public share's items")
		}
		for _, s := range items {
			if strings.Contains(s, "Alice") || strings.Contains(s, "Bob") {
				t.Errorf("Search shows %s", s)
			}
		}
		// Guessed object IDs and media URLs: answered as missing ones.
		for _, id := range []string{"0/Alice", "0/Alice/Home Video.mkv", "0/Bob/Sub"} {
			missing := "0/Nope" + strings.TrimPrefix(strings.TrimPrefix(id, "0/Alice"), "0/Bob")
			for _, flag := range []string{"BrowseMetadata", "BrowseDirectChildren"} {
				a, b := soapBrowse(t, ns, "Browse", browseArgs(id, flag)), soapBrowse(t, ns, "Browse", browseArgs(missing, flag))
				if a != b || a.status != 500 || !strings.Contains(a.body, "<errorCode>701</errorCode>") {
					t.Errorf("Browse %s %s: %d %q; %s gets %d %q", flag, id, a.status, a.body, missing, b.status, b.body)
				}
			}
		}
		for _, rel := range []string{"Home%20Video.mkv", "Sub/deep.mkv"} {
			a := nsHTTP(t, ns, "http://"+matrixDLNA+"/m/Alice/"+rel)
			b := nsHTTP(t, ns, "http://"+matrixDLNA+"/m/Nope/"+rel)
			if a != b || a.status != 404 {
				t.Errorf("GET /m/Alice/%s: %d %q; /m/Nope/%s gets %d %q", rel, a.status, a.body, rel, b.status, b.body)
			}
		}
		if a := nsHTTP(t, ns, "http://"+matrixDLNA+"/m/Public/film.mkv", "-o", "/dev/null"); a.status != 200 {
			t.Errorf("GET /m/Public/film.mkv: %d", a.status)
		}
	})

	t.Run("HTTP", func(t *testing.T) {
		// bob is logged in over FTP meanwhile: only he (and the admin)
		// may see his session's names on the page.
		bob := dialFTPS(t, lab.DialIn(t, ns), matrixFTP, ca)
		bob.login("bob", bobPW)
		for _, w := range who {
			testHTTPAccess(t, ns, box, w.user, w.password, w.see)
		}
		bob.cmd(221, "QUIT")
	})

	// A clean stop, and no race or panic in the server.
	if !p.Stop(syscall.SIGTERM) || p.Cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("mediaftpd after SIGTERM: %v", p.Cmd.ProcessState)
	}
	if out := p.Output(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic") {
		t.Errorf("mediaftpd logged a data race or a panic:\n%s", out)
	}
}

func titlesOf(objs []cdsObject) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Title
	}
	return out
}

// pageStatus is what the access matrix reads of /api/status.
type pageStatus struct {
	TLSFingerprint string `json:"tls_fingerprint"`
	Viewer         struct {
		Admin bool   `json:"admin"`
		User  string `json:"user"`
	} `json:"viewer"`
	Shares []struct {
		Name    string `json:"name"`
		Private bool   `json:"private"`
	} `json:"shares"`
	Sessions []pageSession `json:"sessions"`
	Recent   []struct {
		Share string `json:"share"`
	} `json:"recent"`
}

// pageSession is an FTP session in /api/status.
type pageSession struct {
	User    string `json:"user"`
	Account string `json:"account"`
	TLS     bool   `json:"tls"`
}

// testHTTPAccess checks the status page for one viewer, logged in with
// user's name and password (a visitor when user is ""): the page and
// /api/status show the shares in see and nothing of the others, and a
// path into another's share, through /files, /play and /api/items, gets
// what a path into a missing share gets.
func testHTTPAccess(t *testing.T, ns string, box *acctBox, user, password string, see []string) {
	t.Helper()
	base := "http://" + matrixWeb
	who := cmp.Or(user, "anonymous")
	jar := filepath.Join(t.TempDir(), "cookies")
	session := []string{"-b", jar, "-c", jar}
	if user != "" {
		body, _ := json.Marshal(map[string]string{"user": user, "password": password})
		login := nsHTTP(t, ns, base+"/api/login", append(session, "-H", "Content-Type: application/json", "--data-binary", string(body))...)
		if login.status != 200 {
			t.Fatalf("POST /api/login as %s: %d %q", user, login.status, login.body)
		}
	}
	st := nsHTTP(t, ns, base+"/api/status", session...)
	var status pageStatus
	if err := json.Unmarshal([]byte(st.body), &status); err != nil || st.status != 200 {
		t.Fatalf("GET /api/status as %s: %d %v", who, st.status, err)
	}
	var names []string
	for _, sh := range status.Shares {
		names = append(names, sh.Name)
		if sh.Private != (sh.Name != "Public") {
			t.Errorf("GET /api/status as %s: share %s private=%v", who, sh.Name, sh.Private)
		}
	}
	slices.Sort(names)
	t.Logf("GET /api/status as %s: viewer %+v, shares %q, %d sessions", who, status.Viewer, names, len(status.Sessions))
	if !slices.Equal(names, see) || status.Viewer.User != user || status.Viewer.Admin {
		t.Errorf("GET /api/status as %s: viewer %+v, shares %q; want user %q and %q", who, status.Viewer, names, user, see)
	}
	for _, r := range status.Recent {
		if !slices.Contains(see, r.Share) {
			t.Errorf("GET /api/status as %s: a recent file of %s", who, r.Share)
		}
	}
	for _, se := range status.Sessions {
		if (se.User != "" || se.Account != "") && user != "bob" {
			t.Errorf("GET /api/status as %s shows an FTP session's names: %+v", who, se)
		}
	}
	if user == "bob" && !slices.ContainsFunc(status.Sessions, func(se pageSession) bool { return se.Account == "bob" && se.TLS }) {
		t.Errorf("GET /api/status as bob does not show his FTPS session: %+v", status.Sessions)
	}
	if want := certFingerprint(t, box.ca()); status.TLSFingerprint != want {
		t.Errorf("GET /api/status: tls_fingerprint %q, the certificate's is %q", status.TLSFingerprint, want)
	}
	page := nsHTTP(t, ns, base+"/", session...)
	for _, sh := range []string{"Alice", "Bob"} {
		if slices.Contains(see, sh) {
			continue
		}
		for what, body := range map[string]string{"/api/status": st.body, "/": page.body} {
			for _, leak := range []string{`"` + sh + `"`, ">" + sh + "<", "/" + sh + "/", filepath.Join(box.sharesDir, sh)} {
				if strings.Contains(body, leak) {
					t.Errorf("GET %s as %s shows %q", what, who, leak)
				}
			}
		}
		for _, route := range []string{"/files/", "/play/", "/api/items/"} {
			for _, rel := range []string{"", "Home%20Video.mkv", "Sub/", "Sub/deep.mkv"} {
				a, b := nsHTTP(t, ns, base+route+sh+"/"+rel, session...), nsHTTP(t, ns, base+route+"Nope/"+rel, session...)
				if a != b || a.status != 404 {
					t.Errorf("GET %s%s/%s as %s: %d %.200q; %sNope/%s gets %d %.200q", route, sh, rel, who, a.status, a.body, route, rel, b.status, b.body)
				}
			}
		}
	}
	for _, sh := range see {
		rel := "Home Video.mkv"
		if sh == "Public" {
			rel = "film.mkv"
		}
		if got := nsHTTP(t, ns, base+"/files/"+sh+"/"+strings.ReplaceAll(rel, " ", "%20"), session...); got.status != 200 || got.body != string(box.file(sh, rel)) {
			t.Errorf("GET /files/%s/%s as %s: %d, %d bytes", sh, rel, who, got.status, len(got.body))
		}
	}
}

// certFingerprint is the SHA-256 fingerprint of the certificate in a PEM
// file, as openssl prints it: "AB:CD:...".
func certFingerprint(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM block in %s", path)
	}
	sum := sha256.Sum256(block.Bytes)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hexes, ":")
}
