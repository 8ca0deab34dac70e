package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// architectureExample is the config example from ARCHITECTURE.md.
const architectureExample = `name: Living Room Media
ftp:
  listen: ":21"
  passive_ports: 50000-50100
  max_clients: 200
  max_per_ip: 16
  idle_timeout: 5m
shares:
  - name: Movies
    path: /media/usb/Movies
web:
  listen: ":8021"
  password_hash: "$2a$10$..."     # written by ` + "`mediaftpd passwd`" + `
  share_roots: [/media, /mnt, /srv]  # where the browser may create shares
mdns:
  enabled: true
`

func ptr[T any](v T) *T { return &v }

func TestParseFull(t *testing.T) {
	got, err := Parse("config.yaml", []byte(architectureExample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Name: "Living Room Media",
		FTP: FTP{
			Listen:       ":21",
			PassivePorts: PortRange{50000, 50100},
			MaxClients:   200,
			MaxPerIP:     16,
			IdleTimeout:  5 * time.Minute,
		},
		Shares: []Share{{Name: "Movies", Path: "/media/usb/Movies", Line: 9}},
		Web: Web{
			Listen:       ":8021",
			PasswordHash: "$2a$10$...",
			ShareRoots:   []string{"/media", "/mnt", "/srv"},
		},
		MDNS: MDNS{Enabled: ptr(true)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadExampleFile(t *testing.T) {
	c, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shares) != 4 || len(c.Users) != 2 || c.Shares[3].Access.Public() || c.Shares[2].RescanInterval != 10*time.Minute || c.FTP.PassivePorts != (PortRange{50000, 50100}) {
		t.Errorf("example.yaml parsed as %+v", c)
	}
	for _, s := range c.Shares {
		if s.Line == 0 {
			t.Errorf("share %q has no line", s.Name)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{
		"",
		"\n\n",
		"# only\n  # comments\n",
		"---\n",
		"~\n",
		"name: x\n---\n", // a trailing document marker leaves an empty document
	} {
		c, err := Parse("config.yaml", []byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if in == "name: x\n---\n" {
			continue
		}
		if !reflect.DeepEqual(c, &Config{}) {
			t.Errorf("Parse(%q) = %+v, want an empty config", in, c)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(*Config) bool
	}{
		{"duration", "ftp: {idle_timeout: 5m}", func(c *Config) bool { return c.FTP.IdleTimeout == 5*time.Minute }},
		{"compound duration", "ftp: {idle_timeout: 1h30m}", func(c *Config) bool { return c.FTP.IdleTimeout == 90*time.Minute }},
		{"quoted duration", `ftp: {idle_timeout: "90s"}`, func(c *Config) bool { return c.FTP.IdleTimeout == 90*time.Second }},
		{"zero duration without unit", "shares: [{name: a, path: /a, rescan_interval: 0}]", func(c *Config) bool { return c.Shares[0].RescanInterval == 0 }},
		{"quoted number", `ftp: {max_clients: "20"}`, func(c *Config) bool { return c.FTP.MaxClients == 20 }},
		{"single port", "ftp: {passive_ports: 50000}", func(c *Config) bool { return c.FTP.PassivePorts == PortRange{50000, 50000} }},
		{"web off", "web: {listen: off}", func(c *Config) bool { return c.Web.Listen == "off" }},
		{"listen unquoted", "ftp:\n  listen: :2121\n", func(c *Config) bool { return c.FTP.Listen == ":2121" }},
		{"listen on an address", `ftp: {listen: "[::1]:2121"}`, func(c *Config) bool { return c.FTP.Listen == "[::1]:2121" }},
		{"mdns off", "mdns: {enabled: false}", func(c *Config) bool { return !c.MDNS.On() }},
		{"mdns no", "mdns: {enabled: no}", func(c *Config) bool { return !c.MDNS.On() }},
		{"null section", "ftp:\nweb: ~\n", func(c *Config) bool { return reflect.DeepEqual(c, &Config{}) }},
		{"unicode share name", "shares: [{name: Фильмы, path: /media/f}]", func(c *Config) bool { return c.Shares[0].Name == "Фильмы" }},
		{"CRLF line ends", "name: x\r\nftp:\r\n  max_clients: 3\r\n", func(c *Config) bool { return c.FTP.MaxClients == 3 }},
		{"byte order mark", "\ufeffname: x\n", func(c *Config) bool { return c.Name == "x" }},
		{"merge keys, written keys win", `
shares:
  - &nfs {name: A, path: /mnt/a, rescan_interval: 10m}
  - <<: *nfs
    name: B
    path: /mnt/b
`, func(c *Config) bool {
			return len(c.Shares) == 2 && c.Shares[1].Name == "B" && c.Shares[1].Path == "/mnt/b" &&
				c.Shares[1].RescanInterval == 10*time.Minute && c.Shares[1].Line == 4
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%q) = %+v", tt.in, c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // the error's lines, exactly
		is   error
	}{
		{"unknown key", `name: x
shares:
  - name: Movies
    path: /media/Movies
ftp:
  max_clients: 10
  listn: ":21"
`, []string{`config.yaml:7: unknown key "listn" in ftp (known keys: listen, passive_ports, max_clients, max_per_ip, idle_timeout)`}, ErrUnknownKey},
		{"unknown top-level key", "name: x\nsharez: []\n",
			[]string{`config.yaml:2: unknown key "sharez" (known keys: name, ftp, shares, users, anonymous, tls, web, mdns, dlna, state_dir, thumbnails)`}, ErrUnknownKey},
		{"unknown share key", "shares:\n  - name: a\n    pth: /a\n", []string{
			`config.yaml:2: path: missing: every share needs the folder to share, like /media/usb/Movies`,
			`config.yaml:3: unknown key "pth" in shares (known keys: name, path, rescan_interval, access)`,
		}, ErrUnknownKey},
		{"key twice", "ftp:\n  listen: \":21\"\n  listen: \":2121\"\n",
			[]string{`config.yaml:3: key "listen" appears twice in ftp (first at line 2)`}, ErrUnknownKey},
		{"section is a value", "ftp: yes\n",
			[]string{`config.yaml:1: ftp: must be a section with the keys listen, passive_ports, max_clients, max_per_ip, idle_timeout, not "yes"`}, ErrInvalid},
		{"file is a list", "- a\n- b\n",
			[]string{`config.yaml:1: the file must be a section with the keys name, ftp, shares, users, anonymous, tls, web, mdns, dlna, state_dir, thumbnails, not a list`}, ErrInvalid},
		{"syntax error", "name: x\nftp:\n  listen: x\n  max_clients: 3\n    bad: 1\n",
			[]string{`config.yaml:5: mapping values are not allowed in this context`}, ErrSyntax},
		{"syntax error inside a block", "name: x\nftp:\n  listen: x\n  max_clients: 4\n  - x\nshares: []\n",
			[]string{`config.yaml:5: did not find expected key (in the block that starts at line 2)`}, ErrSyntax},
		{"unclosed list", "name: x\nftp:\n  listen: [\nshares: []\n",
			[]string{`config.yaml:4: did not find expected ',' or ']' (in the block that starts at line 2)`}, ErrSyntax},
		{"list over two lines, error after it", "shares: [\n  {name: a, path: /a}]\nftp:\n  listen: x\n  - y\n",
			[]string{`config.yaml:5: did not find expected key (in the block that starts at line 3)`}, ErrSyntax},
		{"quote left open", "name: \"x\nftp:\n  max_clients: 4\n",
			[]string{`config.yaml:1: found unexpected end of stream (noticed at line 4)`}, ErrSyntax},
		{"syntax error yaml gives no line for", "name: x\nshares: *x\n",
			[]string{`config.yaml:2: unknown anchor 'x' referenced`}, ErrSyntax},
		{"tab", "ftp:\n\tlisten: \":21\"\n",
			[]string{`config.yaml:2: found character that cannot start any token (this line has a tab: indent with spaces)`}, ErrSyntax},
		{"two documents", "name: a\n---\nname: b\n",
			[]string{`config.yaml:2: a second YAML document starts here; a config file holds one (remove the "---" line)`}, ErrSyntax},
		{"name too long", "name: " + strings.Repeat("x", 64) + "\n",
			[]string{`config.yaml:1: name: "` + strings.Repeat("x", 64) + `" is 64 bytes long; mDNS allows at most 63`}, ErrInvalid},
		{"name is a list", "name: [a]\n",
			[]string{`config.yaml:1: name: must be a single value, not a list`}, ErrInvalid},

		{"listen without port", "ftp:\n  listen: \"21\"\n",
			[]string{`config.yaml:2: listen: "21" is not host:port (did you mean ":21"?)`}, ErrInvalid},
		{"listen host only", "ftp:\n  listen: localhost\n",
			[]string{`config.yaml:2: listen: "localhost" is not host:port (like ":21" for every address, or "192.168.1.10:21")`}, ErrInvalid},
		{"listen port too big", "ftp:\n  listen: \":65536\"\n",
			[]string{`config.yaml:2: listen: ":65536": port "65536" is not a number from 0 to 65535`}, ErrInvalid},
		{"web listen", "web:\n  listen: of\n",
			[]string{`config.yaml:2: listen: "of" is not host:port (like ":8021" for every address, "192.168.1.10:8021", or "off" to turn it off)`}, ErrInvalid},
		{"port range syntax", "ftp:\n  passive_ports: 50000-\n",
			[]string{`config.yaml:2: passive_ports: "50000-" is not a port range (use a form like 50000-50100)`}, ErrInvalid},
		{"port range zero", "ftp:\n  passive_ports: 0-100\n",
			[]string{`config.yaml:2: passive_ports: port 0 is out of range (ports are 1 to 65535)`}, ErrInvalid},
		{"port range too high", "ftp:\n\n  passive_ports: 70000\n",
			[]string{`config.yaml:3: passive_ports: port 70000 is out of range (ports are 1 to 65535)`}, ErrInvalid},
		{"port range backwards", "ftp:\n  passive_ports: 50100-50000\n",
			[]string{`config.yaml:2: passive_ports: 50100-50000 goes backwards (write the lower port first: 50000-50100)`}, ErrInvalid},
		{"port range list", "ftp:\n  passive_ports: [1, 2]\n",
			[]string{`config.yaml:2: passive_ports: must be a port range like 50000-50100, not a list`}, ErrInvalid},
		{"not a number", "ftp:\n  listen: \":21\"\n  max_clients: lots\n",
			[]string{`config.yaml:3: max_clients: "lots" is not a number`}, ErrInvalid},
		{"not a whole number", "ftp:\n  max_clients: 1.5\n",
			[]string{`config.yaml:2: max_clients: "1.5" is not a whole number`}, ErrInvalid},
		{"number too large", "ftp:\n  max_clients: 99999999999999999999\n",
			[]string{`config.yaml:2: max_clients: "99999999999999999999" is too large`}, ErrInvalid},
		{"tagged not a number", "ftp:\n  max_clients: !!int x\n",
			[]string{`config.yaml:2: max_clients: "x" is not a number`}, ErrInvalid},
		{"negative max_clients", "ftp:\n  max_clients: -1\n",
			[]string{`config.yaml:2: max_clients: -1 is negative (0 means the default, 200)`}, ErrInvalid},
		{"negative max_per_ip", "ftp:\n  max_per_ip: -1\n",
			[]string{`config.yaml:2: max_per_ip: -1 is negative (0 means the default, 16)`}, ErrInvalid},
		{"max_per_ip over max_clients", "ftp:\n  max_per_ip: 20\n  max_clients: 10\n",
			[]string{`config.yaml:2: max_per_ip: 20 is more than max_clients (10)`}, ErrInvalid},
		{"not a duration", "ftp:\n  listen: \":21\"\n\n  idle_timeout: 5 minutes\n",
			[]string{`config.yaml:4: idle_timeout: "5 minutes" is not a duration (use a form like 30s, 5m, 1h)`}, ErrInvalid},
		{"integer duration", "ftp:\n  idle_timeout: 300\n",
			[]string{`config.yaml:2: idle_timeout: "300" is not a duration: a number needs a unit (use a form like 300s, 5m, 1h)`}, ErrInvalid},
		{"negative duration", "ftp:\n  idle_timeout: -5m\n",
			[]string{`config.yaml:2: idle_timeout: -5m0s is negative (0 means the default, 5m0s)`}, ErrInvalid},
		{"bool", "mdns:\n  enabled: maybe\n",
			[]string{`config.yaml:2: enabled: "maybe" is not true or false`}, ErrInvalid},

		{"share without name", "shares:\n  - path: /a\n",
			[]string{`config.yaml:2: name: missing: every share needs a name, the folder clients see`}, ErrInvalid},
		{"share empty name", "shares:\n  - path: /a\n    name: \"\"\n",
			[]string{`config.yaml:3: name: missing: every share needs a name, the folder clients see`}, ErrInvalid},
		{"share name slash", "shares:\n  - {name: a/b, path: /a}\n",
			[]string{`config.yaml:2: name: "a/b" contains a slash; a share name is a single folder name`}, ErrInvalid},
		{"share name backslash", "shares:\n  - {name: 'a\\b', path: /a}\n",
			[]string{`config.yaml:2: name: "a\\b" contains a slash; a share name is a single folder name`}, ErrInvalid},
		{"share name dot", "shares:\n  - {name: ., path: /a}\n",
			[]string{`config.yaml:2: name: "." is not allowed as a share name`}, ErrInvalid},
		{"share name dot dot", "shares:\n  - {name: .., path: /a}\n",
			[]string{`config.yaml:2: name: ".." is not allowed as a share name`}, ErrInvalid},
		{"share name hidden", "shares:\n  - {name: .git, path: /a}\n",
			[]string{`config.yaml:2: name: ".git" starts with a dot, which hides it from most clients`}, ErrInvalid},
		{"share name control", "shares:\n  - {name: \"a\\x01b\", path: /a}\n",
			[]string{`config.yaml:2: name: "a\x01b" contains a control character`}, ErrInvalid},
		{"share name space", "shares:\n  - {name: ' Movies', path: /a}\n",
			[]string{`config.yaml:2: name: " Movies" starts or ends with a space`}, ErrInvalid},
		{"share names equal ignoring case", "shares:\n  - name: Movies\n    path: /a\n  - name: movies\n    path: /b\n",
			[]string{`config.yaml:4: name: "movies" is already the name of the share at line 2 (names are compared ignoring case)`}, ErrDuplicateShare},
		{"share without path", "shares:\n  - name: a\n",
			[]string{`config.yaml:2: path: missing: every share needs the folder to share, like /media/usb/Movies`}, ErrInvalid},
		{"share relative path", "shares:\n  - name: a\n    path: media/a\n",
			[]string{`config.yaml:3: path: "media/a" is not an absolute path (write it from /, like /media/usb/Movies)`}, ErrInvalid},
		{"share negative rescan", "shares:\n  - name: a\n    path: /a\n    rescan_interval: -1m\n",
			[]string{`config.yaml:4: rescan_interval: -1m0s is negative (0 watches the folder for changes; an interval like 10m rescans it that often)`}, ErrInvalid},
		{"share is a value", "shares:\n  - Movies\n",
			[]string{`config.yaml:2: shares: must be a section with the keys name, path, rescan_interval, access, not "Movies"`}, ErrInvalid},
		{"shares is a value", "shares: /media\n",
			[]string{`config.yaml:1: shares: must be a list (one "- item" per line, or [a, b]), not "/media"`}, ErrInvalid},
		{"share root relative", "web:\n  share_roots:\n    - /media\n    - mnt\n",
			[]string{`config.yaml:4: share_roots: "mnt" is not an absolute path (write it from /, like /media)`}, ErrInvalid},
		{"merge of a value", "ftp:\n  <<: 5\n",
			[]string{`config.yaml:2: <<: can merge only sections of keys, like <<: *defaults, not "5"`}, ErrInvalid},
		{"merge into itself", "ftp: &f\n  <<: *f\n",
			[]string{`config.yaml:1: ftp: merges a section into itself`}, ErrInvalid},

		{"several at once", `name: Living Room
ftp:
  listen: "21"
  max_clients: lots
  idle_timeout: 300
  bogus: 1
shares:
  - name: Movies
    path: /media/Movies
  - name: MOVIES
    path: media/Music
  - name: ../x
web:
  listen: ":8021"
  share_roots: [media]
`, []string{
			`config.yaml:3: listen: "21" is not host:port (did you mean ":21"?)`,
			`config.yaml:4: max_clients: "lots" is not a number`,
			`config.yaml:5: idle_timeout: "300" is not a duration: a number needs a unit (use a form like 300s, 5m, 1h)`,
			`config.yaml:6: unknown key "bogus" in ftp (known keys: listen, passive_ports, max_clients, max_per_ip, idle_timeout)`,
			`config.yaml:10: name: "MOVIES" is already the name of the share at line 8 (names are compared ignoring case)`,
			`config.yaml:11: path: "media/Music" is not an absolute path (write it from /, like /media/usb/Movies)`,
			`config.yaml:12: name: "../x" contains a slash; a share name is a single folder name`,
			`config.yaml:12: path: missing: every share needs the folder to share, like /media/usb/Movies`,
			`config.yaml:15: share_roots: "media" is not an absolute path (write it from /, like /media)`,
		}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with an error: %+v", c)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Parse(%q) error:\n%s\nwant:\n%s", tt.in, got, want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist naming the file", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ftp:\n  listn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Errorf("Load(bad) = %v, want an error starting %q", err, bad+":2: ")
	}

	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(empty); err != nil || !reflect.DeepEqual(c, &Config{}) {
		t.Errorf("Load(empty) = %+v, %v", c, err)
	}
}

func TestValidate(t *testing.T) {
	valid := Config{
		Name:   "Media",
		FTP:    FTP{Listen: "127.0.0.1:0", PassivePorts: PortRange{50000, 50000}, MaxClients: 4, MaxPerIP: 4},
		Shares: []Share{{Name: "Movies", Path: "/media/Movies"}, {Name: "Music", Path: "/srv/music", RescanInterval: time.Minute}},
		Web:    Web{Listen: Off, ShareRoots: []string{"/media"}},
	}
	tests := []struct {
		name string
		edit func(*Config)
		want []string
		is   error
	}{
		{"valid", func(*Config) {}, nil, nil},
		{"zero config", func(c *Config) { *c = Config{} }, nil, nil},
		{"listen", func(c *Config) { c.FTP.Listen = "21" }, []string{`ftp.listen: "21" is not host:port (did you mean ":21"?)`}, ErrInvalid},
		{"port range half set", func(c *Config) { c.FTP.PassivePorts = PortRange{Hi: 10} },
			[]string{`ftp.passive_ports: port 0 is out of range (ports are 1 to 65535)`}, ErrInvalid},
		{"share path", func(c *Config) { c.Shares[1].Path = "music" },
			[]string{`share "Music": path: "music" is not an absolute path (write it from /, like /media/usb/Movies)`}, ErrInvalid},
		{"share name", func(c *Config) { c.Shares[1].Name = "" },
			[]string{`shares[1].name: missing: every share needs a name, the folder clients see`}, ErrInvalid},
		{"duplicate", func(c *Config) { c.Shares[1].Name = "MOVIES" },
			[]string{`shares[1].name: "MOVIES" is already the name of share "Movies" (names are compared ignoring case)`}, ErrDuplicateShare},
		{"duplicate with lines", func(c *Config) { c.Shares[0].Line, c.Shares[1].Line, c.Shares[1].Name = 3, 5, "movies" },
			[]string{`line 5: name: "movies" is already the name of the share at line 3 (names are compared ignoring case)`}, ErrDuplicateShare},
		{"web listen", func(c *Config) { c.Web.Listen = "Off" },
			[]string{`web.listen: "Off" is not host:port (like ":8021" for every address, "192.168.1.10:8021", or "off" to turn it off)`}, ErrInvalid},
		{"interface", func(c *Config) { c.MDNS.Interfaces = []string{"eth0", ""} },
			[]string{`mdns.interfaces[1]: an interface name is empty`}, ErrInvalid},
		{"name", func(c *Config) { c.Name = "a\nb" }, []string{`name: "a\nb" contains a control character`}, ErrInvalid},
		{"share name invalid UTF-8", func(c *Config) { c.Shares[0].Name = "a\xffb" },
			[]string{`shares[0].name: "a\xffb" is not valid UTF-8`}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			c.Shares = slices.Clone(valid.Shares)
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Validate() error:\n%s\nwant:\n%s", got, want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestCheckShareName(t *testing.T) {
	for _, name := range []string{"Movies", "TV Shows", "a.b", "Фильмы", "映画", "x..y", "Kids' Films"} {
		if err := CheckShareName(name); err != nil {
			t.Errorf("CheckShareName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "a/b", `a\b`, ".", "..", ".x", "a\tb", "a\x7fb", "x ", " x", "\xff", "a\u0085b"} {
		if err := CheckShareName(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckShareName(%q) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	defer func(h func() (string, error)) { hostname = h }(hostname)
	hostname = func() (string, error) { return "pi.lan", nil }
	t.Setenv("STATE_DIRECTORY", "/var/lib/mediaftpd")

	var zero Config
	got := zero.WithDefaults()
	want := Config{
		Name: "Media on pi",
		FTP: FTP{
			Listen:      ":21",
			MaxClients:  200,
			MaxPerIP:    16,
			IdleTimeout: 5 * time.Minute,
		},
		Web:       Web{Listen: ":8021", ShareRoots: []string{"/media", "/mnt", "/srv"}},
		MDNS:      MDNS{Enabled: ptr(true)},
		DLNA:      DLNA{Enabled: ptr(true), Listen: ":8200", NotifyInterval: time.Minute},
		StateDir:  "/var/lib/mediaftpd",
		Anonymous: ptr(true),
		TLS:       TLS{RequireForUsers: ptr(true)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithDefaults:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}

	// Set values are kept, and the receiver is not modified.
	c, err := Parse("config.yaml", []byte(architectureExample+"  interfaces: [eth0]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.MDNS.Enabled = ptr(false)
	c.FTP.MaxClients, c.FTP.MaxPerIP = 8, 0
	before := *c
	before.Shares = slices.Clone(c.Shares)
	before.Web.ShareRoots = slices.Clone(c.Web.ShareRoots)
	before.MDNS.Interfaces = slices.Clone(c.MDNS.Interfaces)
	before.MDNS.Enabled = ptr(*c.MDNS.Enabled)

	d := c.WithDefaults()
	if d.Name != "Living Room Media" || d.FTP.MaxClients != 8 || d.MDNS.On() {
		t.Errorf("WithDefaults replaced set values: %+v", d)
	}
	if d.FTP.MaxPerIP != 8 {
		t.Errorf("MaxPerIP = %d, want the default clamped to MaxClients, 8", d.FTP.MaxPerIP)
	}
	d.Shares[0].Name = "changed"
	d.Web.ShareRoots[0] = "/changed"
	d.MDNS.Interfaces[0] = "changed"
	*d.MDNS.Enabled = true
	if !reflect.DeepEqual(*c, before) {
		t.Errorf("WithDefaults or its result modified the receiver:\n got %+v\nwant %+v", *c, before)
	}
}

func TestDefaultName(t *testing.T) {
	defer func(h func() (string, error)) { hostname = h }(hostname)
	tests := []struct {
		host string
		err  error
		want string
	}{
		{"nas", nil, "Media on nas"},
		{"nas.example.com", nil, "Media on nas"},
		{"", nil, "Media server"},
		{"x", errors.New("no hostname"), "Media server"},
		{strings.Repeat("é", 40), nil, "Media on " + strings.Repeat("é", 27)},
	}
	for _, tt := range tests {
		hostname = func() (string, error) { return tt.host, tt.err }
		if got := (Config{}).WithDefaults().Name; got != tt.want {
			t.Errorf("hostname %q, %v: name %q, want %q", tt.host, tt.err, got, tt.want)
		}
	}
}

func TestMDNSOn(t *testing.T) {
	var nilMDNS *MDNS
	for _, tt := range []struct {
		m    *MDNS
		want bool
	}{
		{nilMDNS, true},
		{&MDNS{}, true},
		{&MDNS{Enabled: ptr(true)}, true},
		{&MDNS{Enabled: ptr(false)}, false},
	} {
		if got := tt.m.On(); got != tt.want {
			t.Errorf("%+v.On() = %v, want %v", tt.m, got, tt.want)
		}
	}
}

// TestYAMLRejectsIntegerDuration pins the yaml.v3 behaviour that the
// integer-duration message exists for: it will not decode 300 as a
// time.Duration (300ns would be a surprise).
func TestYAMLRejectsIntegerDuration(t *testing.T) {
	var v struct{ D time.Duration }
	if err := yaml.Unmarshal([]byte("d: 300"), &v); err == nil {
		t.Errorf("yaml.v3 decoded an integer duration as %v", v.D)
	}
	if err := yaml.Unmarshal([]byte("d: 5m"), &v); err != nil || v.D != 5*time.Minute {
		t.Errorf("yaml.v3 decoded 5m as %v, %v", v.D, err)
	}
}

// TestMarshalRoundTrip checks that a config written back out, as the
// status page does when shares change, reads back the same, and that
// unset keys are left out.
func TestMarshalRoundTrip(t *testing.T) {
	c, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Shares = append(c.Shares, Share{Name: "Added", Path: "/media/added"})
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse("written.yaml", out)
	if err != nil {
		t.Fatalf("re-reading:\n%s\n%v", out, err)
	}
	if !equalIgnoringLines(c, c2) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v\nfile:\n%s", c2, c, out)
	}

	out, err = yaml.Marshal(&Config{Shares: []Share{{Name: "a", Path: "/a", Line: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "shares:\n    - name: a\n      path: /a\n"; string(out) != want {
		t.Errorf("Marshal wrote:\n%s\nwant:\n%s", out, want)
	}
}

// equalIgnoringLines reports whether a and b are equal apart from
// Share.Line and User.Line, treating empty and nil slices alike.
func equalIgnoringLines(a, b *Config) bool {
	return reflect.DeepEqual(withoutLines(a), withoutLines(b))
}

func withoutLines(c *Config) Config {
	d := *c
	d.Shares = nil
	for _, s := range c.Shares {
		s.Line = 0
		d.Shares = append(d.Shares, s)
	}
	d.Users = nil
	for _, u := range c.Users {
		u.Line = 0
		d.Users = append(d.Users, u)
	}
	d.Web.ShareRoots = append([]string(nil), c.Web.ShareRoots...)
	d.MDNS.Interfaces = append([]string(nil), c.MDNS.Interfaces...)
	return d
}

// TestAliasExpansion checks that merges nested in each other, which
// expand exponentially, are refused quickly rather than walked.
func TestAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("shares:\n  - &a0 {name: x, path: /x}\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "  - &a%d {<<: [*a%d, *a%d]}\n", i, i-1, i-1)
	}
	_, err := Parse("config.yaml", []byte(b.String()))
	want := "the file expands to too many values (are aliases nested in each other?)"
	if err == nil || !strings.HasPrefix(err.Error(), "config.yaml:") || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("Parse = %v, want one error ending %q", err, want)
	}
}

func TestParseDLNA(t *testing.T) {
	got, err := Parse("config.yaml", []byte("dlna:\n  listen: \"192.168.1.2:8200\"\n  notify_interval: 30s\n"+
		"  allow: [192.168.1.0/24, 10.0.0.7, \"fd00::/8\"]\n  interfaces: [eth0]\nstate_dir: /var/lib/mediaftpd\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DLNA{Listen: "192.168.1.2:8200", NotifyInterval: 30 * time.Second,
		Allow: []string{"192.168.1.0/24", "10.0.0.7", "fd00::/8"}, Interfaces: []string{"eth0"}}
	if !reflect.DeepEqual(got.DLNA, want) || got.StateDir != "/var/lib/mediaftpd" || !got.DLNA.On() {
		t.Errorf("dlna %+v, state_dir %q", got.DLNA, got.StateDir)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"dlna:\n  listen: 8200\n", `config.yaml:2: listen: "8200" is not host:port (did you mean ":8200"?)`},
		{"dlna:\n  notify_interval: 1s\n", "config.yaml:2: notify_interval: 1s is not between 10s and 15m0s"},
		{"dlna:\n  allow: [192.168.1.0/33]\n", `config.yaml:2: allow: "192.168.1.0/33" is neither an address nor a prefix`},
		{"dlna:\n  enabled: maybe\n", "config.yaml:2: enabled:"},
		{"state_dir: var/lib\n", `config.yaml:1: state_dir: "var/lib" is not an absolute path`},
		{"dlna:\n  lisen: x\n", `config.yaml:2: unknown key "lisen" in dlna`},
		{"thumbnails: ffprobe\n", `config.yaml:1: thumbnails: "ffprobe" is not "ffmpeg"`},
	} {
		_, err := Parse("config.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	for _, tc := range []struct {
		d  DLNA
		on bool
	}{{DLNA{}, true}, {DLNA{Listen: "off"}, false}, {DLNA{Enabled: ptr(false)}, false}, {DLNA{Enabled: ptr(true), Listen: ":1"}, true}} {
		if tc.d.On() != tc.on {
			t.Errorf("%+v.On() = %v", tc.d, !tc.on)
		}
	}
}
