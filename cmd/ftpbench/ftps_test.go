package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseCurl(t *testing.T) {
	verbose := `*   Trying 127.0.0.1:30022...
< 234 Proceed with the TLS handshake.
* SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256
< 229 Entering Extended Passive Mode (|||30655|).
* SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256
< 226 Transfer complete.
`
	r, err := parseCurl("1073741824 2.516332 426709124\n", verbose)
	if err != nil {
		t.Fatal(err)
	}
	if r.size != 1<<30 || r.seconds != 2.516332 || r.speed != 426709124 {
		t.Errorf("got %+v", r)
	}
	if len(r.negotiated) != 1 || r.negotiated[0] != "TLSv1.3 / TLS_AES_128_GCM_SHA256" {
		t.Errorf("negotiated %q, want the one suite once", r.negotiated)
	}
	for _, bad := range []string{"", "1 2", "x 2 3", "1 2 3 4"} {
		if _, err := parseCurl(bad, verbose); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBcryptCost(t *testing.T) {
	conf := "users:\n  - name: benchuser\n    password_hash: \"$2a$10$S1alI2WpxZXi6lF8xBrEheBDsqYFd2ApAiz7tq49eElreaaYjB/M2\"\n"
	if c, err := bcryptCost(conf); err != nil || c != 10 {
		t.Errorf("got %d %v, want 10", c, err)
	}
	if _, err := bcryptCost("users: []\n"); err == nil {
		t.Error("no hash: no error")
	}
}

func TestTLSConfigs(t *testing.T) {
	c := &benchCert{certFile: "/w/tls-cert.pem", keyFile: "/w/tls-key.pem"}
	vp, _ := portsFor(30000)
	conf := vsftpdConfig(tree{root: "/srv/bench/root"}, vp, append(vsftpdTLSLines(c), "ssl_ciphers=ECDHE"))
	for _, want := range []string{
		"ssl_enable=YES\n", "rsa_cert_file=/w/tls-cert.pem\n", "rsa_private_key_file=/w/tls-key.pem\n",
		"allow_anon_ssl=YES\n", "force_anon_data_ssl=YES\n", "require_ssl_reuse=YES\n", "ssl_ciphers=HIGH\n",
		"listen_address=127.0.0.1\n", "background=NO\n", "seccomp_sandbox=NO\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("vsftpd config lacks %q:\n%s", want, conf)
		}
	}
	if !strings.HasSuffix(conf, "ssl_ciphers=ECDHE\n") {
		t.Errorf("-vsftpd-opt lines must come last, to win:\n%s", conf)
	}
	m := mediaftpdTLSConfig(c)
	for _, want := range []string{"tls:\n  cert: /w/tls-cert.pem\n  key: /w/tls-key.pem\n", "max_per_ip: 1000\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("mediaftpd config lacks %q:\n%s", want, m)
		}
	}
}

func TestAddresses(t *testing.T) {
	if a := loginAddr(0); a != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("first login address %v", a)
	}
	seen := map[netip.Addr]bool{}
	for n := 1; n <= 3; n++ {
		for i := range floodAddrs {
			a := floodAddr(n, i)
			if !a.IsLoopback() || seen[a] || a == loginAddr(0) {
				t.Errorf("flood address %v: not loopback, or used twice", a)
			}
			seen[a] = true
		}
	}
}

func TestProgressRate(t *testing.T) {
	p := &progress{}
	// 100 bytes per second for 4 s, then 50 per second for 4 s.
	for s := 0; s <= 8; s++ {
		n := int64(100 * min(s, 4))
		if s > 4 {
			n += int64(50 * (s - 4))
		}
		p.at = append(p.at, time.Duration(s)*time.Second)
		p.bytes = append(p.bytes, n)
	}
	for _, tc := range []struct {
		from, to time.Duration
		want     float64
		ok       bool
	}{
		{0, 4 * time.Second, 100, true},
		{4 * time.Second, 8 * time.Second, 50, true},
		{4 * time.Second, time.Hour, 50, true}, // clipped to the last record
		{2500 * time.Millisecond, 6500 * time.Millisecond, (525 - 250) / 4.0, true},
		{0, 8 * time.Second, 75, true},
		{7800 * time.Millisecond, 9 * time.Second, 0, false}, // too short once clipped
	} {
		got, ok := p.rate(tc.from, tc.to)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("rate(%v, %v) = %v %v, want %v %v", tc.from, tc.to, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := (&progress{}).rate(0, time.Second); ok {
		t.Error("no records: a rate")
	}
}

func TestItemLabel(t *testing.T) {
	for in, want := range map[string]string{
		"9. FTPS download":  "figure 9, FTPS download",
		"13. stream":        "figure 13, stream",
		"    CPU per login": "CPU per login",
		"v1.2. not figures": "v1.2. not figures",
	} {
		if got := itemLabel(in); got != want {
			t.Errorf("itemLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFTPSReport(t *testing.T) {
	res := results{}
	res.add(nameMediaftpd, []sample{{mFTPSSingle, 800}, {mFTPSCPUPerGiB, 0.7}, {mLogins1, 16}, {mStreamPlain, 2000}, {mStreamPlainFlood, 1000}, {mFloodLocked, 400}})
	res.add(nameVsftpd, []sample{{mFTPSSingle, 400}, {mFTPSCPUPerGiB, 1.5}})
	info := &ftpsInfo{
		Cert:       "ECDSA P-256",
		Cost:       10,
		Negotiated: map[string]string{nameVsftpd: "TLS 1.3, b", nameMediaftpd: "TLS 1.3, a"},
		Resumed:    map[string][2]int{nameMediaftpd: {6, 6}},
		Others:     -1,
		Flood:      true,
		Window:     10 * time.Second,
	}
	var b bytes.Buffer
	judged, missed := writeFTPSReport(&b, info, res)
	out := b.String()
	if judged != 3 || missed != 1 {
		t.Errorf("judged %d, missed %d; want 3 and 1\n%s", judged, missed, out)
	}
	for _, want := range []string{
		"mediaftpd TLS 1.3, a; vsftpd TLS 1.3, b",
		"mediaftpd 6 of 6",
		"bcrypt cost 10",
		"| 9. FTPS download of a 1 GiB file, one stream (PROT P) (MiB/s) ",
		" 2.00 | ratio ≥ 1.0 ",
		" 0.47 | ratio ≤ 1.0 ",
		"| with flood | alone |",
		" 0.50 | ratio ≥ 0.95 | **no** ",
		"as fast as the server answers",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FTPS stream") {
		t.Errorf("a row without samples is shown:\n%s", out)
	}
	b.Reset()
	writeFTPSRuns(&b, res)
	for _, want := range []string{
		"- figure 9, FTPS download of a 1 GiB file, one stream (PROT P) (MiB/s): mediaftpd 800; vsftpd 400\n",
		"- figure 13, anonymous stream over plain FTP (MiB/s): with flood 1000; alone 2000\n",
		"- wrong passwords answered 421 (address locked out) (1/s): with flood 400\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("runs lack %q:\n%s", want, b.String())
		}
	}
}

func TestParseArgsFTPS(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseArgs([]string{"-quick", "-only", "ftps-single,flood", "-flood-rate", "50"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.selected()) != 0 || len(o.selectedFTPS()) != 2 || o.window != quickWindow || o.floodRate != 50 {
		t.Errorf("got %+v", o)
	}
	if o, _ := parseArgs(nil, &stderr); o.window != defaultWindow || len(o.selectedFTPS()) != len(ftpsSteps) {
		t.Errorf("defaults: window %v, %d FTPS steps", o.window, len(o.selectedFTPS()))
	}
	if o, _ := parseArgs([]string{"-quick", "-window", "3s"}, &stderr); o.window != 3*time.Second {
		t.Errorf("-window after -quick: %v", o.window)
	}
	for _, bad := range [][]string{{"-window", "10ms"}, {"-flood-rate", "-1"}, {"-only", "ftps"}} {
		if _, err := parseArgs(bad, &stderr); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
