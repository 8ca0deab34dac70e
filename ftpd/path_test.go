package ftpd

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

func TestResolvePath(t *testing.T) {
	long := strings.Repeat("a/", maxPathLen/2) + "b" // maxPathLen+1 bytes
	tests := []struct {
		cwd   vpath
		arg   string
		want  vpath
		err   error
		share string // want.split()
		rel   string
	}{
		// Absolute and relative.
		{cwd: "/", arg: "/Media/Films/a.mkv", want: "/Media/Films/a.mkv", share: "Media", rel: "Films/a.mkv"},
		{cwd: "/Media/Films", arg: "/Media", want: "/Media", share: "Media", rel: "."},
		{cwd: "/", arg: "Media", want: "/Media", share: "Media", rel: "."},
		{cwd: "/Media", arg: "Films/a.mkv", want: "/Media/Films/a.mkv", share: "Media", rel: "Films/a.mkv"},
		{cwd: "/Media/Films", arg: "", want: "/Media/Films", share: "Media", rel: "Films"},
		{cwd: "/", arg: "", want: "/", share: "", rel: "."},
		{cwd: "/", arg: "/", want: "/", share: "", rel: "."},
		{cwd: "/Media", arg: ".", want: "/Media", share: "Media", rel: "."},
		{cwd: "/Media", arg: "./Films/./a.mkv", want: "/Media/Films/a.mkv", share: "Media", rel: "Films/a.mkv"},

		// ".." never climbs above "/".
		{cwd: "/Media/Films", arg: "..", want: "/Media", share: "Media", rel: "."},
		{cwd: "/Media/Films", arg: "../..", want: "/", share: "", rel: "."},
		{cwd: "/Media/Films", arg: "../../..", want: "/", share: "", rel: "."},
		{cwd: "/", arg: "..", want: "/", share: "", rel: "."},
		{cwd: "/", arg: "../secret", want: "/secret", share: "secret", rel: "."},
		{cwd: "/Media", arg: "../../../etc/passwd", want: "/etc/passwd", share: "etc", rel: "passwd"},
		{cwd: "/", arg: "/../secret", want: "/secret", share: "secret", rel: "."},
		{cwd: "/", arg: "/Media/../../etc", want: "/etc", share: "etc", rel: "."},
		{cwd: "/Media/Films", arg: "/Media/Films/../../Media/x", want: "/Media/x", share: "Media", rel: "x"},

		// Trailing and doubled slashes.
		{cwd: "/", arg: "/Media/", want: "/Media", share: "Media", rel: "."},
		{cwd: "/", arg: "/Media/Films///", want: "/Media/Films", share: "Media", rel: "Films"},
		{cwd: "/", arg: "//double", want: "/double", share: "double", rel: "."},
		{cwd: "/Media", arg: "Films//a.mkv", want: "/Media/Films/a.mkv", share: "Media", rel: "Films/a.mkv"},

		// Dotfiles anywhere are hidden.
		{cwd: "/Media", arg: ".hidden", err: errHidden},
		{cwd: "/", arg: "/Media/.hidden", err: errHidden},
		{cwd: "/Media", arg: "a/.git/config", err: errHidden},
		{cwd: "/", arg: "/.Media", err: errHidden},
		{cwd: "/Media", arg: "...", err: errHidden},
		{cwd: "/Media", arg: "a/..b", err: errHidden},
		{cwd: "/Media", arg: "Films/.hidden/../a.mkv", want: "/Media/Films/a.mkv", share: "Media", rel: "Films/a.mkv"},

		// Bytes that cannot be in a path, and lengths.
		{cwd: "/Media", arg: "a\x00b", err: errBadPath},
		{cwd: "/Media", arg: "a\rb", err: errBadPath},
		{cwd: "/Media", arg: "a\nb", err: errBadPath},
		{cwd: "/Media", arg: "\x00", err: errBadPath},
		{cwd: "/Media", arg: long, err: errBadPath},
		{cwd: "/Media", arg: long[:maxPathLen], want: vpath("/Media/" + strings.TrimSuffix(long[:maxPathLen], "/")), share: "Media", rel: strings.TrimSuffix(long[:maxPathLen], "/")},

		// Backslashes and URL escapes are names, not separators or dots.
		{cwd: "/Media", arg: `..\secret`, err: errHidden},
		{cwd: "/Media", arg: `a\..\..\secret`, want: `/Media/a\..\..\secret`, share: "Media", rel: `a\..\..\secret`},
		{cwd: "/Media", arg: "%2e%2e/secret", want: "/Media/%2e%2e/secret", share: "Media", rel: "%2e%2e/secret"},
		{cwd: "/", arg: "%2e%2e%2fsecret", want: "/%2e%2e%2fsecret", share: "%2e%2e%2fsecret", rel: "."},

		// Spaces and UTF-8 are kept as they are.
		{cwd: "/Media", arg: " lead and trail ", want: "/Media/ lead and trail ", share: "Media", rel: " lead and trail "},
		{cwd: "/", arg: "Média/Фильм;1.mkv", want: "/Média/Фильм;1.mkv", share: "Média", rel: "Фильм;1.mkv"},
	}
	for _, tt := range tests {
		got, err := resolvePath(tt.cwd, tt.arg, library.Visible)
		name := string(tt.cwd) + " + " + trunc(tt.arg)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("resolvePath(%s) = %q, %v; want error %v", name, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolvePath(%s) = %q, %v; want %q", name, trunc(string(got)), err, trunc(string(tt.want)))
			continue
		}
		share, rel := got.split()
		if share != tt.share || rel != tt.rel {
			t.Errorf("%q.split() = %q, %q; want %q, %q", trunc(string(got)), share, trunc(rel), tt.share, trunc(tt.rel))
		}
	}
}

// trunc shortens a long string for a failure message.
func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func TestVpathBase(t *testing.T) {
	for p, want := range map[vpath]string{"/": "/", "/Media": "Media", "/Media/Films/a b.mkv": "a b.mkv"} {
		if got := p.base(); got != want {
			t.Errorf("%q.base() = %q, want %q", p, got, want)
		}
	}
}

// FuzzResolvePath checks that whatever the client sends, a resolved path is
// absolute, clean, visible and free of line-breaking bytes.
func FuzzResolvePath(f *testing.F) {
	for _, s := range [][2]string{
		{"/", "../../etc/passwd"},
		{"/Media/Films", "../../../.."},
		{"/Media", "/Media/../../etc"},
		{"/", "//double//slash/"},
		{"/Media", "a/.git/config"},
		{"/Media", `..\secret`},
		{"/Media", "%2e%2e/secret"},
		{"Media", "a\x00b"},
		{"/Media", " .x"},
		{"/Media", "x/./..."},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cwdArg, arg string) {
		// Any cwd a session can have comes from resolvePath itself.
		cwd, err := resolvePath("/", cwdArg, library.Visible)
		if err != nil {
			return
		}
		checkVpath(t, "cwd "+string(cwd), cwd)
		r, err := resolvePath(cwd, arg, library.Visible)
		if err != nil {
			if !errors.Is(err, errBadPath) && !errors.Is(err, errHidden) {
				t.Fatalf("resolvePath(%q, %q): unexpected error %v", cwd, arg, err)
			}
			return
		}
		checkVpath(t, "resolvePath("+string(cwd)+", "+arg+")", r)
		share, rel := r.split()
		if (share == "") != (r == "/") || strings.Contains(share, "/") {
			t.Fatalf("%q.split() share = %q", r, share)
		}
		if rel != "." && (path.IsAbs(rel) || path.Clean(rel) != rel || strings.HasPrefix(rel, "..")) {
			t.Fatalf("%q.split() rel = %q", r, rel)
		}
		if rel != "." {
			for _, elem := range strings.Split(rel, "/") {
				if elem == "" || elem == "." || elem == ".." {
					t.Fatalf("%q.split() rel = %q has element %q", r, rel, elem)
				}
			}
		}
	})
}

func checkVpath(t *testing.T, what string, p vpath) {
	t.Helper()
	s := string(p)
	if !strings.HasPrefix(s, "/") {
		t.Fatalf("%s = %q: not absolute", what, s)
	}
	if path.Clean(s) != s {
		t.Fatalf("%s = %q: not clean", what, s)
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		t.Fatalf("%s = %q: contains NUL, CR or LF", what, s)
	}
	for _, elem := range strings.Split(s[1:], "/") {
		if strings.HasPrefix(elem, ".") {
			t.Fatalf("%s = %q: component %q starts with a dot", what, s, elem)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct{ line, verb, arg string }{
		{"USER anonymous\r\n", "USER", "anonymous"},
		{"user anonymous\r\n", "USER", "anonymous"},
		{"PASS\r\n", "PASS", ""},
		{"PASS \r\n", "PASS", ""},
		{"NOOP\n", "NOOP", ""},
		{"RETR  two leading.mkv \r\n", "RETR", " two leading.mkv "},
		{"RETR a\rb.mkv\r\n", "RETR", "a\rb.mkv"},
		{"CWD /Media/Фильмы\r\n", "CWD", "/Media/Фильмы"},
		{"\r\n", "", ""},
		{"\n", "", ""},
		// Telnet IP and Synch before ABOR (RFC 959 4.1.3); IAC IAC is 0xFF.
		{"\xff\xf4\xff\xf2ABOR\r\n", "ABOR", ""},
		{"RETR a\xff\xffb\r\n", "RETR", "a\xffb"},
		// Garbage verbs are cut to 8 bytes, and only ASCII is upper-cased.
		{"ABCDEFGHIJKL x\r\n", "ABCDEFGH", "x"},
		{"\xf2\xf2\xf2\xf2\xf2\xf2\xf2\xf2\xf2 x\r\n", "\xf2\xf2\xf2\xf2\xf2\xf2\xf2\xf2", "x"},
		{"ȿȿȿȿ\r\n", "ȿȿȿȿ", ""},
		{"retré x\r\n", "RETRé", "x"},
		// Spaces before the verb are skipped: the line still gets a reply.
		{" NOOP\r\n", "NOOP", ""},
		{"  RETR  a \r\n", "RETR", " a "},
		{"   \r\n", "", ""},
	}
	for _, tt := range tests {
		verb, arg := parseCommand([]byte(tt.line))
		if verb != tt.verb || arg != tt.arg {
			t.Errorf("parseCommand(%q) = %q, %q; want %q, %q", tt.line, verb, arg, tt.verb, tt.arg)
		}
	}
}

// FuzzParseCommand checks that parseCommand takes any line: the verb is a
// short upper-case word and the argument of a well-formed line comes back
// byte for byte.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"USER anonymous\r\n",
		"RETR  spaces around.mkv  \r\n",
		"\xff\xf4\xff\xf2ABOR\r\n",
		"cwd /Media/Фильмы\r\n",
		"\x00\x01\x02\r\n",
		"\r\n",
		"LIST -la /Media/dir\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		verb, arg := parseCommand(line)
		if len(verb) > 8 {
			t.Fatalf("parseCommand(%q): verb %q longer than 8 bytes", line, verb)
		}
		if strings.Contains(verb, " ") {
			t.Fatalf("parseCommand(%q): verb %q has a space", line, verb)
		}
		if strings.ContainsFunc(verb, func(r rune) bool { return 'a' <= r && r <= 'z' }) {
			t.Fatalf("parseCommand(%q): verb %q is not upper-case", line, verb)
		}
		// An empty verb is ignored without a reply, so it must come only
		// from a blank line (Telnet commands aside).
		body := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if verb == "" && bytes.IndexByte(body, 0xff) < 0 && len(bytes.Trim(body, " ")) != 0 {
			t.Fatalf("parseCommand(%q): no verb, argument %q: the line would get no reply", line, arg)
		}

		// A printable verb, one space, any argument without Telnet IAC
		// bytes: the argument comes back exactly.
		v, a, ok := bytes.Cut(line, []byte(" "))
		if !ok || len(v) == 0 || bytes.IndexByte(a, 0xff) >= 0 {
			return
		}
		for _, b := range v {
			if b <= ' ' || b > '~' {
				return
			}
		}
		full := append(bytes.Clone(line), "\r\n"...)
		verb, arg = parseCommand(full)
		if want := strings.ToUpper(string(v[:min(len(v), 8)])); verb != want {
			t.Fatalf("parseCommand(%q): verb %q, want %q", full, verb, want)
		}
		if arg != string(a) {
			t.Fatalf("parseCommand(%q): arg %q, want %q", full, arg, a)
		}
	})
}

// leakWords are pieces of Go and OS error text that must never reach a
// client: they tell an attacker about the host.
var leakWords = []string{
	"no such file", "permission denied", "openat", "lstat", "stat ",
	"escapes", "not a directory", "too many levels", "invalid argument",
	"name too long", "root", "/tmp", "os.", "syscall",
}

// checkNoLeak fails if a reply shows the host folder or Go error text.
func checkNoLeak(t testing.TB, raw, hostDir string) {
	t.Helper()
	if strings.Contains(raw, hostDir) {
		t.Errorf("reply %q shows the host path %s", raw, hostDir)
	}
	low := strings.ToLower(raw)
	for _, w := range leakWords {
		if strings.Contains(low, w) {
			t.Errorf("reply %q contains %q", raw, w)
		}
	}
}

// escapeTree fills a share with the files the escape tests aim at, and puts
// a secret file next to the share folder, outside it.
func escapeTree(t *testing.T, dir string) (secret string) {
	t.Helper()
	secret = filepath.Join(filepath.Dir(dir), "secret")
	if err := os.WriteFile(secret, []byte("TOP SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "sub/film.mkv", "FILM")
	writeFile(t, dir, "folder/inner.txt", "INNER")
	writeFile(t, dir, ".hidden", "HIDDEN")
	writeFile(t, dir, ".git/config", "GITCONFIG")
	writeFile(t, dir, "sub/.hidden", "HIDDEN")
	for link, target := range map[string]string{
		"link-file":      "sub/film.mkv",
		"link-dir":       "folder",
		"abs-secret":     secret,
		"sub/rel-secret": "../../secret",
		"up":             "..",
		"abs-up":         filepath.Dir(dir),
		"loop1":          "loop2",
		"loop2":          "loop1",
		"self":           "self",
		"dangling":       "nothing-here",
		"fifo-link":      "fifo",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return secret
}

// refused sends a command that must fail on a path and checks the reply:
// 550, or 501 for a malformed path, with nothing about the host in it.
func refused(t *testing.T, c *ctrl, line, hostDir string, codes ...int) {
	t.Helper()
	c.send(line)
	code, raw := c.reply()
	if !slices.Contains(codes, code) {
		t.Errorf("%q: got %q, want code %v", trunc(line), raw, codes)
	}
	checkNoLeak(t, raw, hostDir)
}

// pathCommands are the commands that take a path. LIST and MLSD are sent
// after EPSV, so that only the path can make them fail.
var pathCommands = []string{"RETR", "SIZE", "MDTM", "CWD", "MLST", "LIST", "NLST", "MLSD"}

func TestEscapesRefused(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	secret := escapeTree(t, dir)
	host := filepath.Dir(dir)

	escapes := []string{
		"../secret", "/../secret", "/Media/../../secret", "Media/../../secret",
		"../../secret", "../../../../../../secret", `..\secret`, `..\..\secret`,
		"%2e%2e/secret", "%2e%2e%2fsecret", "/Media/%2e%2e/secret", secret,
		"/Media/" + secret, "Media/.hidden", "/Media/.git/config", "/Media/.git",
		"/Media/sub/.hidden", "/Media/abs-secret", "/Media/sub/rel-secret",
		"/Media/up/secret", "/Media/abs-up/secret", "/Media/up", "/Media/abs-up",
		"/Media/loop1", "/Media/self", "/Media/dangling",
	}
	c := login(t, ts.Addr)
	for _, cwd := range []string{"/", "/Media", "/Media/sub"} {
		c.cmd("CWD "+cwd, 250)
		for _, p := range escapes {
			for _, verb := range pathCommands {
				if verb == "LIST" || verb == "NLST" || verb == "MLSD" {
					c.epsv()
				}
				refused(t, c, verb+" "+p, host, 550)
			}
		}
		c.cmd("PWD", 257)
	}

	// Hidden names in the current folder.
	c.cmd("CWD /Media", 250)
	for _, p := range []string{".hidden", ".git", ".git/config", "./.hidden", "sub/../.hidden"} {
		for _, verb := range pathCommands {
			if verb == "LIST" || verb == "NLST" || verb == "MLSD" {
				c.epsv()
			}
			refused(t, c, verb+" "+p, host, 550)
		}
	}

	// A NUL, CR inside the argument, or an overlong path: 501 (or 550).
	nul := "../\x00/../secret"
	over := strings.Repeat("../", 1700) + "secret" // 5 KB: over maxPathLen, under the line limit
	for _, p := range []string{nul, "a\x00b", "../secret\rX", over} {
		for _, verb := range pathCommands {
			if verb == "LIST" || verb == "NLST" || verb == "MLSD" {
				c.epsv()
			}
			refused(t, c, verb+" "+p, host, 501, 550)
		}
	}
	c.cmd("PWD", 257)
	c.cmd("NOOP", 200)

	// A 10 KB path is longer than any command line may be: 500, and the
	// session ends without serving anything.
	c2 := login(t, ts.Addr)
	c2.send("RETR " + strings.Repeat("../", 3400) + "secret")
	if raw := c2.expect(500); strings.Contains(raw, "SECRET") {
		t.Errorf("reply %q", raw)
	}
	if _, raw, err := c2.tryReply(); err == nil {
		t.Errorf("after an overlong line the session goes on: %q", raw)
	}
}

func TestSymlinksAndSpecialFiles(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	escapeTree(t, dir)
	host := filepath.Dir(dir)
	c := login(t, ts.Addr)

	// Only visible files and folders, and symlinks that stay inside the
	// share, are listed; symlinks show as their target's type.
	list := c.list("LIST /Media")
	lines := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSuffix(list, "\r\n"), "\r\n") {
		f := strings.Fields(line)
		lines[f[len(f)-1]] = line
	}
	if got, want := slices.Sorted(maps.Keys(lines)), []string{"folder", "link-dir", "link-file", "sub"}; !slices.Equal(got, want) {
		t.Errorf("LIST /Media shows %q, want %q:\n%s", got, want, list)
	}
	if l := lines["link-dir"]; !strings.HasPrefix(l, "dr-xr-xr-x ") {
		t.Errorf("symlink to a folder listed as %q", l)
	}
	if l := lines["link-file"]; !strings.HasPrefix(l, "-r--r--r-- 1 ftp ftp 4 ") {
		t.Errorf("symlink to a 4-byte file listed as %q", l)
	}
	mlsd := c.list("MLSD /Media")
	if !strings.Contains(mlsd, "type=dir;") || !strings.Contains(mlsd, ";perm=el; link-dir\r\n") ||
		!strings.Contains(mlsd, "type=file;size=4;") || !strings.Contains(mlsd, ";perm=r; link-file\r\n") {
		t.Errorf("MLSD /Media:\n%s", mlsd)
	}
	for line := range strings.SplitSeq(mlsd, "\r\n") {
		if strings.HasSuffix(line, " link-dir") && !strings.HasPrefix(line, "type=dir;") {
			t.Errorf("MLSD shows symlink to a folder as %q", line)
		}
	}
	nlst := c.list("NLST /Media")
	if want := "folder\r\nlink-dir\r\nlink-file\r\nsub\r\n"; nlst != want {
		t.Errorf("NLST /Media = %q, want %q", nlst, want)
	}
	if got := c.list("NLST /Media/sub"); got != "film.mkv\r\n" {
		t.Errorf("NLST /Media/sub = %q: the symlink leaving the share is listed", got)
	}

	// Symlinks inside the share work.
	if got := c.retr("/Media/link-file"); got != "FILM" {
		t.Errorf("RETR link-file = %q", got)
	}
	if got := c.retr("/Media/link-dir/inner.txt"); got != "INNER" {
		t.Errorf("RETR link-dir/inner.txt = %q", got)
	}
	c.cmd("SIZE /Media/link-file", 213)
	c.cmd("CWD /Media/link-dir", 250)
	if got := c.list("NLST"); got != "inner.txt\r\n" {
		t.Errorf("NLST in link-dir = %q", got)
	}

	// Everything else is refused, at once (a FIFO must not block the open).
	for _, p := range []string{
		"abs-secret", "sub/rel-secret", "loop1", "loop2", "self", "dangling",
		"fifo", "fifo-link", "up", "abs-up",
	} {
		for _, verb := range []string{"RETR", "SIZE", "MDTM", "CWD", "MLST"} {
			refused(t, c, verb+" /Media/"+p, host, 550)
		}
		c.epsv()
		refused(t, c, "LIST /Media/"+p, host, 550)
	}
	// CWD into a file.
	refused(t, c, "CWD /Media/sub/film.mkv", host, 550)
	refused(t, c, "CWD /Media/link-file", host, 550)
	c.cmd("PWD", 257)
	c.cmd("QUIT", 221)
}

func TestReadOnly(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "Films/film.mkv", "FILM")
	writeFile(t, dir, "Films/Old/old.avi", "OLD")
	writeFile(t, dir, "notes.txt", "NOTES")
	if err := os.Chmod(filepath.Join(dir, "notes.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The secret outside the share is in the digest too: a write must not
	// land next to the share either.
	host := filepath.Dir(dir)
	escapeSecret := filepath.Join(host, "secret")
	if err := os.WriteFile(escapeSecret, []byte("TOP SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := testtool.TreeDigest(t, host)

	const denied = "550 Permission denied.\r\n"
	c := login(t, ts.Addr)
	c.cmd("CWD /Media/Films", 250)
	for _, line := range []string{
		"STOR new.mkv", "STOR /Media/new.mkv", "STOR ../../secret", "STOR film.mkv",
		"STOU", "STOU film.mkv",
		"APPE film.mkv", "APPE /Media/notes.txt",
		"DELE film.mkv", "DELE /Media/notes.txt", "DELE ../../secret",
		"MKD New", "MKD /Media/New", "XMKD New",
		"RMD Old", "RMD /Media/Films", "XRMD Old",
		"RNFR film.mkv", "RNTO renamed.mkv",
		"RNFR /Media/Films", "RNTO /Media/Moved",
		"SITE CHMOD 777 film.mkv", "SITE CHMOD 777 /Media/notes.txt",
		"SITE EXEC rm -rf /", "SITE UTIME 20000101000000 film.mkv", "SITE",
		"SMNT /", "REIN",
		"stor lower.mkv", "dele film.mkv",
	} {
		c.send(line)
		if _, raw := c.reply(); raw != denied {
			t.Errorf("%s: got %q, want %q", line, raw, denied)
		}
	}
	// REIN changed nothing: still logged in, in the same folder.
	if raw := c.cmd("PWD", 257); !strings.Contains(raw, `"/Media/Films"`) {
		t.Errorf("PWD after REIN: %q", raw)
	}

	// STOR with a data connection open and bytes waiting on it.
	for _, line := range []string{"STOR upload.mkv", "APPE film.mkv", "STOU"} {
		d := dialData(t, c.epsv())
		if _, err := d.Write(bytes.Repeat([]byte("upload "), 10000)); err != nil {
			t.Fatal(err)
		}
		c.send(line)
		if _, raw := c.reply(); raw != denied {
			t.Errorf("%s with data waiting: got %q, want %q", line, raw, denied)
		}
		d.Close()
	}
	c.cmd("NOOP", 200)
	if got := c.retr("film.mkv"); got != "FILM" {
		t.Errorf("RETR film.mkv = %q", got)
	}
	c.cmd("QUIT", 221)
	waitFor(t, "the session to end", func() bool { return ts.sessionCount() == 0 })

	if after, lines := testtool.TreeDigest(t, host); after != before {
		t.Errorf("the shared tree changed; now:\n%s", strings.Join(lines, "\n"))
	}
}
