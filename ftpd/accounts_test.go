package ftpd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// fakeAccounts is an Accounts with passwords in clear, counting failures
// per address as the app's throttle does, without its delays.
type fakeAccounts struct {
	mu        sync.Mutex
	anonymous bool
	users     map[string]string // name -> password
	lockAfter int               // failures from one address before LoginLockedOut; 0: never
	failures  map[netip.Addr]int
	logins    []string // the names Login was asked about
	// hold, when set, makes Login send on entered and then wait for a
	// value on hold before it checks the password, as a slow bcrypt
	// check does meanwhile.
	hold, entered chan struct{}
	abandoned     int // Logins whose ctx ended while held
}

func newFakeAccounts(users ...string) *fakeAccounts {
	a := &fakeAccounts{anonymous: true, users: map[string]string{}, failures: map[netip.Addr]int{}}
	for i := 0; i+1 < len(users); i += 2 {
		a.users[users[i]] = users[i+1]
	}
	return a
}

func (a *fakeAccounts) Anonymous() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.anonymous
}

func (a *fakeAccounts) HasUsers() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.users) > 0
}

func (a *fakeAccounts) Login(ctx context.Context, name, password string, from netip.Addr) LoginResult {
	a.mu.Lock()
	hold, entered := a.hold, a.entered
	a.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			a.mu.Lock()
			a.abandoned++
			a.mu.Unlock()
			return LoginFailed
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.logins = append(a.logins, name)
	if a.lockAfter > 0 && a.failures[from] >= a.lockAfter {
		return LoginLockedOut
	}
	if pw, ok := a.users[name]; ok && pw == password {
		a.failures[from] = 0
		return LoginOK
	}
	a.failures[from]++
	return LoginFailed
}

func (a *fakeAccounts) LockedOut(from netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lockAfter > 0 && a.failures[from] >= a.lockAfter
}

// set changes the accounts, as a reload does.
func (a *fakeAccounts) set(change func(*fakeAccounts)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	change(a)
}

// loginCalls returns the names Login was asked about.
func (a *fakeAccounts) loginCalls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.logins)
}

// Passwords of the tests' accounts: no log line may contain them.
const (
	alicePassword = "alice-Pa55word-9f3k"
	bobPassword   = "bob-Pa55word-27zq"
)

// accountsServer is a test server with the accounts alice and bob and
// four shares: Media (public), Home (alice), Work (bob) and Family (alice
// and bob). Its log is captured at debug level.
func accountsServer(t *testing.T, configure func(*Server)) (*testServer, *fakeAccounts, *logCapture) {
	t.Helper()
	accts := newFakeAccounts("alice", alicePassword, "bob", bobPassword)
	logs := &logCapture{t: t}
	ts, dir := newTestServer(t, func(s *Server) {
		s.Accounts = accts
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if configure != nil {
			configure(s)
		}
	})
	writeFile(t, dir, "public.mkv", "public")
	for _, sh := range []struct {
		name   string
		access []string
	}{{"Home", []string{"alice"}}, {"Work", []string{"bob"}}, {"Family", []string{"alice", "bob"}}} {
		d := t.TempDir()
		writeFile(t, d, "file.mkv", "in "+sh.name)
		writeFile(t, d, "Sub/deep.mkv", "deep in "+sh.name)
		if err := ts.Set.Add(library.Share{Name: sh.name, Path: d, Access: sh.access}); err != nil {
			t.Fatal(err)
		}
	}
	return ts, accts, logs
}

// loginAs logs in as user (anonymous for "") over a clear-text connection.
func loginAs(t *testing.T, addr, user, password string) *ctrl {
	t.Helper()
	if user == "" {
		return login(t, addr)
	}
	c := dialCtrl(t, addr)
	c.cmd("USER "+user, 331)
	c.cmd("PASS "+password, 230)
	return c
}

// passVerbRe finds a logged verb that starts with PASS, and what follows.
var passVerbRe = regexp.MustCompile(`verb="?PASS([^ "]*)`)

// checkNoPassword fails the test if a log line shows a password.
func checkNoPassword(t *testing.T, logs *logCapture, passwords ...string) {
	t.Helper()
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, line := range logs.lines {
		for _, pw := range passwords {
			// Any 6 characters of it in a row would be a leak.
			for i := 0; i+6 <= len(pw); i++ {
				if strings.Contains(strings.ToLower(line), strings.ToLower(pw[i:i+6])) {
					t.Errorf("log line %q shows part of a password", line)
				}
			}
		}
	}
}

// privatePathCommands are the commands that take a path, and how a
// refusal is read: LIST, NLST, MLSD and RETR with a data connection made,
// so that a wrong 150 would show.
var privatePathCommands = []string{"CWD", "SIZE", "MDTM", "MLST", "STAT", "RETR", "LIST", "NLST", "MLSD"}

// refusal returns the reply to verb with arg, which must be a refusal.
func refusal(t *testing.T, c *ctrl, verb, arg string) string {
	t.Helper()
	switch verb {
	case "RETR", "LIST", "NLST", "MLSD":
		dialData(t, c.epsv())
		c.send(verb + " " + arg)
		code, raw := c.reply()
		if code != 550 {
			t.Fatalf("%s %s: got %q, want 550 before any 150", verb, arg, raw)
		}
		c.cmd("ABOR", 225) // frees the passive port
		return raw
	}
	c.send(verb + " " + arg)
	code, raw := c.reply()
	if code != 550 {
		t.Fatalf("%s %s: got %q, want 550", verb, arg, raw)
	}
	return raw
}

// TestAccountsSeeTheirShares logs in as anonymous, alice and bob: each
// sees in "/" exactly the shares allowed to them and can read them, and
// every command into a share they may not see gets the very reply a
// missing share gets.
func TestAccountsSeeTheirShares(t *testing.T) {
	ts, _, logs := accountsServer(t, nil)
	for _, tc := range []struct {
		user, password string
		see            []string
	}{
		{"", "", []string{"Media"}},
		{"alice", alicePassword, []string{"Family", "Home", "Media"}},
		{"bob", bobPassword, []string{"Family", "Media", "Work"}},
	} {
		who := tc.user
		if who == "" {
			who = "anonymous"
		}
		t.Run(who, func(t *testing.T) {
			c := loginAs(t, ts.Addr, tc.user, tc.password)
			got := names(c.list("NLST /"))
			slices.Sort(got)
			if !slices.Equal(got, tc.see) {
				t.Errorf("NLST /: got %q, want %q", got, tc.see)
			}
			mlsd := c.list("MLSD /")
			list := c.list("LIST /")
			stat := c.cmd("STAT /", 213)
			for _, sh := range []string{"Home", "Work", "Family"} {
				allowed := slices.Contains(tc.see, sh)
				for what, out := range map[string]string{"MLSD": mlsd, "LIST": list, "STAT": stat} {
					if strings.Contains(out, " "+sh+"\r\n") != allowed {
						t.Errorf("%s / shows %s: %v, want %v (%q)", what, sh, !allowed, allowed, out)
					}
				}
				if allowed {
					if got := c.retr("/" + sh + "/file.mkv"); got != "in "+sh {
						t.Errorf("RETR /%s/file.mkv: got %q", sh, got)
					}
					c.cmd("CWD /"+sh+"/Sub", 250)
					c.cmd("CWD /", 250)
					continue
				}
				// Every way in is answered as for a share that is not there.
				for _, rel := range []string{"", "/file.mkv", "/Sub", "/Sub/deep.mkv", "/missing.mkv"} {
					for _, verb := range privatePathCommands {
						private := refusal(t, c, verb, "/"+sh+rel)
						missing := refusal(t, c, verb, "/Nope"+rel)
						if private != missing {
							t.Errorf("%s /%s%s: got %q, a missing share gets %q", verb, sh, rel, private, missing)
						}
					}
				}
				// Relative and percent-encoded paths too.
				if a, b := refusal(t, c, "SIZE", sh+"/file.mkv"), refusal(t, c, "SIZE", "Nope/file.mkv"); a != b {
					t.Errorf("SIZE %s/file.mkv: got %q, a missing share gets %q", sh, a, b)
				}
				if a, b := refusal(t, c, "RETR", fmt.Sprintf("/%%%02X%s/file.mkv", sh[0], sh[1:])), refusal(t, c, "RETR", "/Nope/file.mkv"); a != b {
					t.Errorf("RETR of an encoded path into %s: got %q, want %q", sh, a, b)
				}
			}
			c.cmd("QUIT", 221)
		})
	}
	checkNoPassword(t, logs, alicePassword, bobPassword)
}

// TestAccessChangeSeenAtNextCommand changes a share's access while
// sessions are logged in, one of them inside the share: the next command
// of each sees the change.
func TestAccessChangeSeenAtNextCommand(t *testing.T) {
	ts, _, _ := accountsServer(t, nil)
	anon := login(t, ts.Addr)
	alice := loginAs(t, ts.Addr, "alice", alicePassword)
	alice.cmd("CWD /Home/Sub", 250)

	anon.cmd("SIZE /Home/file.mkv", 550)
	if err := ts.Set.SetAccess("Home", nil); err != nil { // public now
		t.Fatal(err)
	}
	anon.cmd("SIZE /Home/file.mkv", 213)
	anon.cmd("CWD /Home/Sub", 250)
	if got := names(anon.list("NLST /")); !slices.Contains(got, "Home") {
		t.Errorf("NLST / after Home was made public: %q", got)
	}

	if err := ts.Set.SetAccess("Home", []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*ctrl{anon, alice} {
		c.cmd("SIZE deep.mkv", 550)
		c.cmd("SIZE /Home/file.mkv", 550)
		refusal(t, c, "NLST", "")
		if got := names(c.list("NLST /")); slices.Contains(got, "Home") {
			t.Errorf("NLST / after Home was given to bob: %q", got)
		}
	}
}

// TestAnonymousDisabled turns anonymous logins off: "anonymous" and "ftp"
// are refused at PASS, as vsftpd does, while accounts log in; with no
// accounts at all every name is anonymous and so refused.
func TestAnonymousDisabled(t *testing.T) {
	ts, accts, _ := accountsServer(t, nil)
	accts.set(func(a *fakeAccounts) { a.anonymous = false })
	const want = "530 Anonymous login is disabled on this server.\r\n"
	for _, name := range []string{"anonymous", "ftp", "FTP", "Anonymous"} {
		c := dialCtrl(t, ts.Addr)
		c.cmd("USER "+name, 331)
		if got := c.cmd("PASS guest@", 530); got != want {
			t.Errorf("PASS of %s: got %q, want %q", name, got, want)
		}
		c.cmd("PASS guest@", 503)
		c.cmd("NLST", 530)
	}
	loginAs(t, ts.Addr, "alice", alicePassword).cmd("NOOP", 200)
	if got := accts.loginCalls(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("Login was asked about %q, want only alice", got)
	}

	// Without accounts, any name is anonymous: refused too.
	accts.set(func(a *fakeAccounts) { a.users = map[string]string{} })
	c := dialCtrl(t, ts.Addr)
	c.cmd("USER alice", 331)
	if got := c.cmd("PASS "+alicePassword, 530); got != want {
		t.Errorf("PASS of alice without accounts: got %q, want %q", got, want)
	}
}

// TestAnyNameWithoutAccounts: with Accounts set but no account, any name
// logs in anonymously (macOS Fetch sends the Mac login name); with
// accounts, a name that is not one is checked like one, and refused with
// the same replies as a wrong password.
func TestAnyNameWithoutAccounts(t *testing.T) {
	ts, accts, logs := accountsServer(t, nil)
	c := dialCtrl(t, ts.Addr)
	known := c.cmd("USER alice", 331)
	c.cmd("PASS wrong", 530)
	unknown := c.cmd("USER mallory", 331)
	if known != unknown {
		t.Errorf("USER of an unknown name: got %q, a known one gets %q", unknown, known)
	}
	if got, want := c.cmd("PASS wrong", 530), "530 Login incorrect.\r\n"; got != want {
		t.Errorf("PASS of an unknown name: got %q, want %q", got, want)
	}
	c.cmd("PASS again", 503)
	c.cmd("USER alice", 331)
	if got, want := c.cmd("PASS "+bobPassword, 530), "530 Login incorrect.\r\n"; got != want {
		t.Errorf("wrong PASS of alice: got %q, want %q", got, want)
	}

	accts.set(func(a *fakeAccounts) { a.users = map[string]string{} })
	c = dialCtrl(t, ts.Addr)
	c.cmd("USER fetch-user", 331)
	c.cmd("PASS anything", 230)
	if got := names(c.list("NLST /")); !slices.Equal(got, []string{"Media"}) {
		t.Errorf("anonymous with any name sees %q, want only the public share", got)
	}
	checkNoPassword(t, logs, alicePassword, bobPassword)
}

// TestLoginLockout: after failures from one address, Login says locked
// out, and the session gets 421 and ends.
func TestLoginLockout(t *testing.T) {
	ts, accts, logs := accountsServer(t, nil)
	accts.set(func(a *fakeAccounts) { a.lockAfter = 3 })
	c := dialCtrl(t, ts.Addr)
	for range 3 {
		c.cmd("USER alice", 331)
		c.cmd("PASS guess", 530)
	}
	c.cmd("USER alice", 331)
	c.send("PASS " + alicePassword)
	if code, raw := c.reply(); code != 421 {
		t.Fatalf("PASS after 3 failures: got %q, want 421", raw)
	}
	expectEOF(t, c)
	waitFor(t, "the locked-out session to end", func() bool { return ts.sessionCount() == 0 })
	checkNoPassword(t, logs, alicePassword)

	// While locked out, the address's connections get the 421 before any
	// greeting, after the hold of a tarpit: a flood of guesses costs next
	// to nothing.
	raw, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(raw)
	if want := "421 " + lockedOutReply + "\r\n"; string(got) != want {
		t.Errorf("a new connection from the locked-out address got %q, want %q", got, want)
	}
	if n := len(accts.loginCalls()); n != 4 {
		t.Errorf("Login was asked %d times, want 4 (none for the refused connection)", n)
	}
}

// TestRequireTLSForUsers: a named user on a clear-text connection is
// refused at USER, so the PASS that follows gets 503 and is never checked
// nor logged, even mistyped; over TLS the account logs in; anonymous may
// use either.
func TestRequireTLSForUsers(t *testing.T) {
	cert := newTestCert(t)
	ts, accts, logs := accountsServer(t, func(s *Server) {
		s.TLSConfig = cert.serverConfig()
		s.RequireTLSForUsers = true
	})
	c := dialCtrl(t, ts.Addr)
	if got, want := c.cmd("USER alice", 530), "530 Non-anonymous sessions must use encryption (AUTH TLS).\r\n"; got != want {
		t.Errorf("USER alice in clear text: got %q, want %q", got, want)
	}
	c.cmd("PASS "+alicePassword, 503)
	c.cmd("USER mallory", 530) // unknown names alike
	c.cmd("PASS "+alicePassword, 503)
	c.cmd("pass "+alicePassword, 503)
	c.cmd("PASS\t"+alicePassword, 500) // no such verb, and not logged either
	c.cmd("PASS"+alicePassword, 500)
	c.cmd("PAS "+alicePassword, 500) // a typo: the argument of an unknown verb
	c.cmd("NLST", 530)
	if got := accts.loginCalls(); len(got) != 0 {
		t.Errorf("Login was called for %q", got)
	}
	// Anonymous in clear text.
	c.cmd("USER anonymous", 331)
	c.cmd("PASS guest@", 230)
	c.cmd("QUIT", 221)

	conf := cert.clientConfig(tls.VersionTLS13, true)
	c = dialTLSCtrl(t, ts.Addr, conf)
	c.cmd("USER alice", 331)
	c.cmd("PASS "+alicePassword, 230)
	c.cmd("PBSZ 0", 200)
	c.cmd("PROT P", 200)
	if got := c.transferTLS("RETR /Home/file.mkv", conf); got != "in Home" {
		t.Errorf("RETR over TLS as alice: got %q", got)
	}
	stat := c.cmd("STAT", 211)
	if !strings.Contains(stat, " Logged in as alice\r\n") {
		t.Errorf("STAT %q does not say who is logged in", stat)
	}
	var info SessionInfo
	for _, si := range ts.Sessions() {
		if si.Account != "" {
			info = si
		}
	}
	if info.Account != "alice" || info.User != "alice" || !info.TLS || !info.DataTLS {
		t.Errorf("session info %+v: want alice over TLS with PROT P", info)
	}
	loginTLS(t, ts.Addr, conf).cmd("NOOP", 200) // anonymous over TLS
	checkNoPassword(t, logs, alicePassword)
	// A mistyped PASS line is an unknown verb of up to 8 bytes, which
	// could hold the start of the password: logged as PASS alone.
	logs.mu.Lock()
	for _, line := range logs.lines {
		if m := passVerbRe.FindStringSubmatch(line); m != nil && m[1] != "" {
			t.Errorf("log line %q shows more than the verb PASS", line)
		}
	}
	logs.mu.Unlock()
	if logs.count("named user refused on a clear-text connection", "user=alice") != 1 {
		t.Error("the refusal of alice in clear text is not logged")
	}
}

// TestEndSessions ends the sessions of the accounts keep rejects, a
// running transfer included, and leaves the others.
func TestEndSessions(t *testing.T) {
	ts, _, _ := accountsServer(t, nil)
	alice := loginAs(t, ts.Addr, "alice", alicePassword)
	alice2 := loginAs(t, ts.Addr, "alice", alicePassword)
	bob := loginAs(t, ts.Addr, "bob", bobPassword)
	anon := login(t, ts.Addr)
	pending := dialCtrl(t, ts.Addr)
	pending.cmd("USER alice", 331)

	// alice2 streams a film from her share, and stops reading.
	home := ""
	for _, sh := range ts.Set.List() {
		if sh.Name == "Home" {
			home = sh.Path
		}
	}
	sparseFile(t, home, "big.mkv", stallSize)
	d := startStalled(t, alice2, "/Home/big.mkv")

	if n := ts.EndSessions(func(user string) bool { return user != "alice" }); n != 2 {
		t.Errorf("EndSessions ended %d sessions, want alice's 2", n)
	}
	expectEOF(t, alice)
	awaitClosed(t, d)
	for _, c := range []*ctrl{bob, anon} {
		c.cmd("NOOP", 200)
	}
	pending.cmd("PASS "+alicePassword, 230) // not logged in then: kept
	if n := ts.EndSessions(func(string) bool { return false }); n != 2 {
		t.Errorf("EndSessions of every account ended %d, want bob's and the new alice's", n)
	}
	expectEOF(t, bob)
	anon.cmd("NOOP", 200)
	waitFor(t, "the ended sessions to go", func() bool { return ts.sessionCount() == 1 })
}

// TestEndSessionsDuringLogin calls EndSessions while a login's password
// check is under way: a login of an account that keep rejects is refused
// though the password it checked was right then, one that keep accepts
// goes through, and one during two calls is refused.
func TestEndSessionsDuringLogin(t *testing.T) {
	ts, accts, _ := accountsServer(t, nil)
	hold, entered := make(chan struct{}), make(chan struct{})
	accts.set(func(a *fakeAccounts) { a.hold, a.entered = hold, entered })
	for _, tc := range []struct {
		name  string
		calls []func(string) bool
		want  int
	}{
		{"rejected", []func(string) bool{func(u string) bool { return u != "alice" }}, 530},
		{"kept", []func(string) bool{func(u string) bool { return u != "bob" }}, 230},
		{"two calls", []func(string) bool{func(string) bool { return true }, func(string) bool { return true }}, 530},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialCtrl(t, ts.Addr)
			c.cmd("USER alice", 331)
			c.send("PASS " + alicePassword)
			<-entered
			for _, keep := range tc.calls {
				ts.EndSessions(keep)
			}
			hold <- struct{}{}
			c.expect(tc.want)
			if tc.want == 530 {
				c.cmd("NLST", 530)
			} else {
				c.cmd("NOOP", 200)
				if n := ts.EndSessions(func(u string) bool { return u != "alice" }); n != 1 {
					t.Errorf("EndSessions after the login ended %d sessions, want 1", n)
				}
			}
		})
	}
}

// TestLoginHangUp: a client that hangs up while its password waits for
// its check ends the wait (a guesser's queued guesses are dropped, not
// checked), while a client that sent its next command ahead and waits
// keeps its place.
func TestLoginHangUp(t *testing.T) {
	ts, accts, logs := accountsServer(t, nil)
	hold, entered := make(chan struct{}), make(chan struct{})
	accts.set(func(a *fakeAccounts) { a.hold, a.entered = hold, entered })

	c := dialCtrl(t, ts.Addr)
	c.cmd("USER alice", 331)
	c.send("PASS wrong")
	<-entered
	c.c.Close()
	testtool.WaitFor(t, "the login to be abandoned", func() bool {
		accts.mu.Lock()
		defer accts.mu.Unlock()
		return accts.abandoned == 1
	})
	testtool.WaitFor(t, "the log line", func() bool { return logs.count("login abandoned: the client hung up", "user=alice") == 1 })
	if got := accts.loginCalls(); len(got) != 0 {
		t.Errorf("a password was checked for %q", got)
	}

	// PASS and NOOP in one packet, then a wait longer than the poll.
	c = dialCtrl(t, ts.Addr)
	c.cmd("USER alice", 331)
	c.send("PASS " + alicePassword + "\r\nNOOP")
	<-entered
	time.Sleep(3 * hangupPoll)
	hold <- struct{}{}
	c.expect(230)
	c.expect(200)
	accts.mu.Lock()
	defer accts.mu.Unlock()
	if accts.abandoned != 1 {
		t.Errorf("%d logins abandoned, want 1", accts.abandoned)
	}
}
