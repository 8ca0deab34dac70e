package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTableJudgesTargets(t *testing.T) {
	res := results{}
	res.add(nameMediaftpd, []sample{{mSingle, 900}, {mSessions, 5000}, {mPSSIdle, 12}, {mIndexTime, 0.4}})
	res.add(nameVsftpd, []sample{{mSingle, 1000}, {mSessions, 1000}, {mPSSIdle, 3}})
	var b bytes.Buffer
	judged, missed := writeTable(&b, res)
	if judged != 3 || missed != 1 {
		t.Errorf("judged %d, missed %d; want 3 and 1\n%s", judged, missed, b.String())
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2+4 {
		t.Fatalf("want a header, a rule and 4 rows:\n%s", b.String())
	}
	for _, want := range []string{" 0.90 | ratio ≥ 1.0 ", "**no**", " 5.00 | ratio ≥ 2.0 ", "mediaftpd ≤ 20 MiB", "| yes "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	// Every line has the same width: the columns are padded.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("line %q is not as wide as the header %q", l, lines[0])
		}
	}
}

func TestVsftpdConfig(t *testing.T) {
	vp, mp := portsFor(30000)
	if vp.control == mp.control || vp.pasvHi >= mp.pasvLo {
		t.Fatalf("ports overlap: %+v %+v", vp, mp)
	}
	conf := vsftpdConfig(tree{root: "/srv/bench/root"}, vp, []string{"isolate_network=NO"})
	for _, want := range []string{
		"listen=YES\n", "listen_address=127.0.0.1\n", "listen_port=30021\n", "background=NO\n",
		"anonymous_enable=YES\n", "no_anon_password=YES\n", "write_enable=NO\n",
		"anon_root=/srv/bench/root\n", "pasv_min_port=30100\n", "pasv_max_port=30599\n",
		"seccomp_sandbox=NO\n", "secure_chroot_dir=/var/run/vsftpd/empty\n", "use_sendfile=YES\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if !strings.HasSuffix(conf, "isolate_network=NO\n") {
		t.Errorf("extra lines must come last, to win:\n%s", conf)
	}
}

func TestParseArgs(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseArgs([]string{"-quick", "-only", "seek,index", "-vsftpd-opt", "isolate=NO"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.runs != 1 || len(o.selected()) != 1 || o.selected()[0].name != "seek" || o.vsftpdOpts[0] != "isolate=NO" {
		t.Errorf("got %+v", o)
	}
	if o, _ := parseArgs([]string{"-quick", "-runs", "3"}, &stderr); o.runs != 3 {
		t.Errorf("-runs after -quick: %d runs, want 3", o.runs)
	}
	for _, bad := range [][]string{{"-only", "nope"}, {"-runs", "0"}, {"-vsftpd-opt", "novalue"}, {"extra"}, {"-ports", "80"}} {
		if _, err := parseArgs(bad, &stderr); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
