package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/childproc"
	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// The FTPS figures of issue 15. After the plain workloads the bench
// starts a second pair of servers on the same ports: vsftpd with
// ssl_enable=YES and mediaftpd with tls.cert/tls.key and one named user,
// both presenting the one certificate the bench makes (ftpscert.go). Then:
//
//   - ftps-sessions: anonymous FTPS sessions per second on both (AUTH TLS,
//     login, QUIT): what a TLS handshake costs each server.
//   - logins: a named user's FTPS logins per second on mediaftpd (AUTH TLS,
//     USER, PASS, QUIT), one client, then 4 clients from 4 loopback
//     addresses. Passwords are bcrypt hashes, checked one at a time.
//     vsftpd's named users are system accounts checked through PAM, which
//     the bench would have to create on the machine: not measured.
//   - ftps-single, ftps-parallel: the downloads of figures 1-3 over FTPS
//     (PROT P, data connections resuming the control session), on both.
//   - flood, flood-ftps: on mediaftpd, an anonymous stream over plain FTP
//     (or FTPS) for a fixed window, alone and while a flood of wrong
//     passwords runs from fresh loopback addresses.

// ftpsStep is one FTPS workload.
type ftpsStep struct {
	name string
	both bool // run on vsftpd as well as mediaftpd; else mediaftpd alone
	run  func(p *ftpsBench, ctx context.Context, s *server, run int) ([]sample, error)
}

// ftpsSteps in the order they run: the flood last, as it leaves addresses
// locked out.
var ftpsSteps = []ftpsStep{
	{"ftps-sessions", true, (*ftpsBench).anonSessions},
	{"logins", false, (*ftpsBench).logins},
	{"ftps-single", true, func(p *ftpsBench, ctx context.Context, s *server, run int) ([]sample, error) {
		return p.download(ctx, s, "ftps-single", run, 1)
	}},
	{"ftps-parallel", true, func(p *ftpsBench, ctx context.Context, s *server, run int) ([]sample, error) {
		return p.download(ctx, s, "ftps-parallel", run, parallelStreams)
	}},
	{"ftps-curl", true, (*ftpsBench).curl},
	{"flood", false, func(p *ftpsBench, ctx context.Context, s *server, run int) ([]sample, error) {
		return p.flood(ctx, s, "flood", run, false)
	}},
	{"flood-ftps", false, func(p *ftpsBench, ctx context.Context, s *server, run int) ([]sample, error) {
		return p.flood(ctx, s, "flood-ftps", run, true)
	}},
}

// ftpsStepNames are the names -only accepts for the FTPS workloads.
func ftpsStepNames() []string {
	names := make([]string, len(ftpsSteps))
	for i, s := range ftpsSteps {
		names[i] = s.name
	}
	return names
}

// selectedFTPS returns the FTPS workloads -only chose.
func (o *options) selectedFTPS() []ftpsStep {
	var steps []ftpsStep
	for _, s := range ftpsSteps {
		if slices.Contains(o.only, s.name) {
			steps = append(steps, s)
		}
	}
	return steps
}

// Sizes of the FTPS workloads.
const (
	benchUser       = "benchuser"
	loginClients    = 4 // parallel logins, each from its own address
	floodAddrs      = 8 // fresh loopback addresses per flood run
	floodPerAddr    = 4 // connections from each
	wrongPassword   = "not the password"
	firstLoginAddr  = 2  // 127.0.0.2 ...
	floodAddrPrefix = 77 // flood run n uses 127.77.n.1 ...
)

// ftpsBench runs the FTPS workloads.
type ftpsBench struct {
	*bench
	cert        *benchCert
	password    string        // benchUser's, made for the run
	window      time.Duration // of each stream of the flood workloads
	floodRate   int           // wrong passwords per second offered; 0: as fast as answered
	floodInProc bool          // the flooders are goroutines of the bench, not a process at nice 19
	floods      int           // flood runs so far: each gets fresh addresses
	info        *ftpsInfo
}

// ftpsInfo is what the report says about the FTPS run besides figures.
type ftpsInfo struct {
	Cert        string
	Cost        int               // bcrypt cost, 0 if no login workload
	Negotiated  map[string]string // server: "TLS 1.3, TLS_AES_128_GCM_SHA256, X25519"
	Resumed     map[string][2]int // server: data connections resumed, of made
	Curl        map[string]string // server: what curl -v said it negotiated
	Window      time.Duration
	FloodRate   int     // -flood-rate
	FloodInProc bool    // -flood-inproc
	Flood       bool    // a flood workload ran
	Others      float64 // share of the CPUs other processes used, -1 unknown
	Acct        string
}

// compareFTPS starts the FTPS server pair and runs steps on it.
func (b *bench) compareFTPS(ctx context.Context, o *options, steps []ftpsStep, moduleRoot, vsftpdBin string) (*ftpsInfo, error) {
	vPorts, mPorts := portsFor(o.portBase)
	for _, p := range []int{vPorts.control, mPorts.control} {
		if err := checkFree(p); err != nil {
			return nil, err
		}
	}
	work, err := os.MkdirTemp("", "ftpbench-ftps-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		defer fmt.Fprintf(b.progress, "ftpbench: FTPS configs, logs and binary kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	t, err := ensureTree(o.dir, b.progress)
	if err != nil {
		return nil, err
	}
	bin, prof, err := b.mediaftpdBinary(ctx, o, work, moduleRoot)
	if err != nil {
		return nil, err
	}
	cert, err := makeCert(work)
	if err != nil {
		return nil, err
	}
	p := &ftpsBench{bench: b, cert: cert, window: o.window, floodRate: o.floodRate, floodInProc: o.floodInProc, info: &ftpsInfo{
		Cert:        cert.desc,
		Negotiated:  map[string]string{},
		Resumed:     map[string][2]int{},
		Curl:        map[string]string{},
		Window:      o.window,
		FloodRate:   o.floodRate,
		FloodInProc: o.floodInProc,
		Others:      -1,
	}}
	conf, err := p.writeMediaftpdConfig(ctx, bin, work)
	if err != nil {
		return nil, err
	}

	mcg, vcg, acct := cgroups(o.noCgroup, "-ftps", b.progress)
	p.info.Acct = acct
	if mcg != nil {
		defer mcg.remove()
		defer vcg.remove()
	}
	ms, err := startMediaftpdWith(ctx, bin, conf, work, t, mPorts, prof, mcg)
	if err != nil {
		return nil, err
	}
	defer ms.stop()
	vs, err := startVsftpd(ctx, vsftpdBin, work, t, vPorts, append(vsftpdTLSLines(cert), o.vsftpdOpts...), vcg)
	if err != nil {
		return nil, err
	}
	defer vs.stop()
	if err := awaitDetails(ctx, ms); err != nil {
		return nil, err
	}
	both := []*server{ms, vs}
	for _, s := range both {
		if p.info.Negotiated[s.Name], err = p.negotiated(ctx, s); err != nil {
			return nil, fmt.Errorf("FTPS to %s: %w", s.Name, errors.Join(err, s.Exited()))
		}
	}

	load := startLoad(both)
	for _, st := range steps {
		servers := both
		if !st.both {
			servers = []*server{ms}
		}
		for i := range o.runs {
			for _, s := range servers {
				ss, err := st.run(p, ctx, s, i)
				if err != nil {
					return nil, fmt.Errorf("%s, run %d, %s: %w", st.name, i+1, s.Name, errors.Join(err, s.Exited()))
				}
				b.res.add(s.Name, ss)
				b.logf("%s run %d/%d, %s: %s", st.name, i+1, o.runs, s.Name, formatSamples(ss))
			}
		}
	}
	p.info.Others = load.others(both)
	vs.stop()
	ms.stop()
	return p.info, errors.Join(ms.exitErr(), vs.exitErr())
}

// awaitDetails waits until mediaftpd has probed the media details of its
// share (it logs "media details ready") and is idle again: the probing of
// the 20,000 small files after a start would otherwise be counted in the
// first workload's CPU.
func awaitDetails(ctx context.Context, s *server) error {
	err := s.Await(ctx, time.Minute, 50*time.Millisecond, func() (bool, error) {
		b, err := os.ReadFile(s.LogFile)
		return err == nil && strings.Contains(string(b), "media details ready"), nil
	})
	if errors.Is(err, childproc.ErrTimeout) {
		fmt.Fprintf(os.Stderr, "ftpbench: mediaftpd logged no %q within a minute; going on\n", "media details ready")
	} else if err != nil {
		return err
	}
	return s.awaitIdle(ctx)
}

// mediaftpdBinary returns the mediaftpd binary to run, built into work
// from the checkout unless -mediaftpd gave one, with the profiler when
// -pprof asks for profiles.
func (b *bench) mediaftpdBinary(ctx context.Context, o *options, work, moduleRoot string) (string, *profiler, error) {
	bin := o.mediaftpd
	var prof *profiler
	if o.pprofDir == "" && bin != "" {
		return bin, nil, nil
	}
	var flags []string
	if o.pprofDir != "" {
		overlay := ""
		var err error
		if prof, overlay, err = newProfiler(o.pprofDir, work, moduleRoot); err != nil {
			return "", nil, err
		}
		flags = []string{"-overlay", overlay}
	}
	bin = filepath.Join(work, "mediaftpd")
	b.logf("building mediaftpd from %s", moduleRoot)
	if err := childproc.Build(ctx, moduleRoot, bin, "./cmd/mediaftpd", flags...); err != nil {
		return "", nil, err
	}
	return bin, prof, nil
}

// vsftpdTLSLines are the lines that make the bench's vsftpd config an FTPS
// one: explicit FTPS with cert, anonymous sessions allowed over TLS and
// their data connections forced to it, data connections required to
// resume the control connection's session (vsftpd's default, written out),
// and OpenSSL's HIGH ciphers for TLS 1.2 (TLS 1.3's suites are OpenSSL's
// defaults: vsftpd does not set them).
func vsftpdTLSLines(c *benchCert) []string {
	return []string{
		"ssl_enable=YES",
		"rsa_cert_file=" + c.certFile,
		"rsa_private_key_file=" + c.keyFile,
		"allow_anon_ssl=YES",
		"force_anon_data_ssl=YES",
		"require_ssl_reuse=YES",
		"ssl_ciphers=HIGH",
	}
}

// mediaftpdTLSConfig is the config of the FTPS mediaftpd, before
// `mediaftpd passwd --user` adds the user.
func mediaftpdTLSConfig(c *benchCert) string {
	return mediaftpdConfig + fmt.Sprintf("tls:\n  cert: %s\n  key: %s\n", c.certFile, c.keyFile)
}

// writeMediaftpdConfig writes the FTPS mediaftpd's config into work and
// adds benchUser with a new password through `mediaftpd passwd --user`,
// as an admin would. It returns the config file.
func (p *ftpsBench) writeMediaftpdConfig(ctx context.Context, bin, work string) (string, error) {
	conf := filepath.Join(work, "mediaftpd-ftps.yaml")
	if err := os.WriteFile(conf, []byte(mediaftpdTLSConfig(p.cert)), 0o600); err != nil {
		return "", err
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	p.password = hex.EncodeToString(pw)
	cmd := exec.CommandContext(ctx, bin, "passwd", "--user", benchUser, "-config", conf)
	cmd.Stdin = strings.NewReader(p.password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mediaftpd passwd --user %s: %w\n%s", benchUser, err, out)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		return "", err
	}
	if p.info.Cost, err = bcryptCost(string(b)); err != nil {
		return "", fmt.Errorf("%s after mediaftpd passwd: %w", conf, err)
	}
	return conf, nil
}

var bcryptRe = regexp.MustCompile(`\$2[abxy]?\$(\d\d)\$`)

// bcryptCost returns the cost of the first bcrypt hash in a config file.
func bcryptCost(conf string) (int, error) {
	m := bcryptRe.FindStringSubmatch(conf)
	if m == nil {
		return 0, errors.New("no bcrypt hash")
	}
	return strconv.Atoi(m[1])
}

// negotiated logs in anonymously over FTPS, fetches a small file over a
// PROT P data connection, and describes what the control connection
// negotiated.
func (p *ftpsBench) negotiated(ctx context.Context, s *server) (string, error) {
	f, err := p.anonLogin(ctx, s, netip.Addr{})
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.protect(); err != nil {
		return "", err
	}
	d, err := f.OpenData(ctx)
	if err != nil {
		return "", err
	}
	tc, err := f.startRetr(ctx, "RETR "+smallName, d)
	if err != nil {
		d.Close()
		return "", err
	}
	_, err = drainTLS(tc, make([]byte, 64<<10))
	tc.Close()
	if err == nil {
		_, err = f.Expect(226)
	}
	if err == nil {
		err = f.Quit()
	}
	return describeTLS(f.State), err
}

// describeTLS names a connection's version, cipher suite and key exchange.
func describeTLS(cs tls.ConnectionState) string {
	return fmt.Sprintf("%s, %s, %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), cs.CurveID)
}

// anonLogin connects over FTPS from local and logs in anonymously.
func (p *ftpsBench) anonLogin(ctx context.Context, s *server, local netip.Addr) (*ftpsConn, error) {
	f, err := dialFTPS(ctx, s.addr, local, ftpsClientConfig(p.cert.roots))
	if err != nil {
		return nil, err
	}
	if err := f.LoginAs("anonymous", "ftpbench@"); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// download is figure 1 or 2 over FTPS: streams clients fetch big.bin at
// once over PROT P, each on its own session, its data connection made
// before the clock starts; the TLS handshake of the data connection
// (resuming the control session) is timed, as part of the transfer.
func (p *ftpsBench) download(ctx context.Context, s *server, name string, run, streams int) ([]sample, error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	if err := s.begin(ctx, profName(name, run)); err != nil {
		return nil, err
	}
	cpu0, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	self0 := procstat.SelfCPU()
	clients := make([]*ftpsConn, streams)
	data := make([]*net.TCPConn, streams)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range clients {
		c, err := p.anonLogin(ctx, s, netip.Addr{})
		if err != nil {
			return nil, err
		}
		clients[i] = c
		if err := c.protect(); err != nil {
			return nil, err
		}
		if _, err := c.CmdExpect("TYPE I", 200); err != nil {
			return nil, err
		}
		if data[i], err = c.OpenData(ctx); err != nil {
			return nil, err
		}
	}
	got := make([]int64, streams)
	errs := make([]error, streams)
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range clients {
		wg.Go(func() {
			defer data[i].Close()
			tc, err := c.startRetr(ctx, "RETR "+bigName, data[i])
			if err != nil {
				errs[i] = err
				return
			}
			got[i], errs[i] = drainTLS(tc, make([]byte, 1<<20))
			tc.Close() // the server may wait for it before its 226
			if errs[i] == nil {
				_, errs[i] = c.Expect(226)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	self1 := procstat.SelfCPU()
	r := p.info.Resumed[s.Name]
	for i := range clients {
		r[1]++
		if !errors.Is(errs[i], errNotResumed) {
			r[0]++
		}
	}
	p.info.Resumed[s.Name] = r
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, c := range clients {
		if got[i] != bigSize {
			return nil, fmt.Errorf("download %d got %d bytes of %d", i+1, got[i], bigSize)
		}
		err := c.Quit()
		clients[i] = nil
		if err != nil {
			return nil, err
		}
	}
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	cpu1, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	if err := s.end(ctx, profName(name, run)); err != nil {
		return nil, err
	}
	total := float64(streams) * bigSize
	m := mFTPSSingle
	if streams > 1 {
		m = mFTPSParallel
	}
	return []sample{
		{m, total / mib / elapsed.Seconds()},
		{mFTPSCPUPerGiB, (cpu1 - cpu0).Seconds() / (total / gib)},
		{mFTPSClientPerGiB, (self1 - self0).Seconds() / (total / gib)},
	}, nil
}

// sessionLoop runs clients loops of one session each, for the session
// time, and returns the sessions made per second and the server's CPU per
// session.
func (p *ftpsBench) sessionLoop(ctx context.Context, s *server, name string, run, clients int, session func(i int) error) (rate float64, cpuPer time.Duration, err error) {
	if err := s.awaitQuiet(ctx); err != nil {
		return 0, 0, err
	}
	if err := s.begin(ctx, profName(name, run)); err != nil {
		return 0, 0, err
	}
	cpu0, err := s.cpuTime()
	if err != nil {
		return 0, 0, err
	}
	counts := make([]int, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(p.sessionTime)
	for i := range clients {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				if errs[i] = session(i); errs[i] != nil {
					return
				}
				counts[i]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return 0, 0, err
	}
	if err := s.awaitQuiet(ctx); err != nil {
		return 0, 0, err
	}
	cpu1, err := s.cpuTime()
	if err != nil {
		return 0, 0, err
	}
	if err := s.end(ctx, profName(name, run)); err != nil {
		return 0, 0, err
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("%s: no session finished in %v", name, p.sessionTime)
	}
	return float64(n) / elapsed.Seconds(), (cpu1 - cpu0) / time.Duration(n), nil
}

// anonSessions has sessionClients clients each run whole anonymous FTPS
// sessions, one after the other: connect, AUTH TLS (a full handshake),
// login, QUIT.
func (p *ftpsBench) anonSessions(ctx context.Context, s *server, run int) ([]sample, error) {
	rate, cpu, err := p.sessionLoop(ctx, s, "ftps-sessions", run, sessionClients, func(int) error {
		f, err := p.anonLogin(ctx, s, netip.Addr{})
		if err != nil {
			return err
		}
		return f.Quit()
	})
	if err != nil {
		return nil, err
	}
	return []sample{{mFTPSSessions, rate}, {mCPUPerFTPSSession, float64(cpu.Microseconds())}}, nil
}

// logins has one client, then loginClients clients each from its own
// loopback address, log in as benchUser over FTPS again and again: AUTH
// TLS, USER, PASS, QUIT.
func (p *ftpsBench) logins(ctx context.Context, s *server, run int) ([]sample, error) {
	login := func(i int) error {
		f, err := dialFTPS(ctx, s.addr, loginAddr(i), ftpsClientConfig(p.cert.roots))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.LoginAs(benchUser, p.password); err != nil {
			return err
		}
		return f.Quit()
	}
	one, cpu1, err := p.sessionLoop(ctx, s, "logins-1", run, 1, login)
	if err != nil {
		return nil, err
	}
	many, cpuN, err := p.sessionLoop(ctx, s, "logins-"+strconv.Itoa(loginClients), run, loginClients, login)
	if err != nil {
		return nil, err
	}
	return []sample{
		{mLogins1, one},
		{mLoginsN, many},
		{mCPUPerLogin, float64((cpu1+cpuN)/2) / float64(time.Millisecond)},
	}, nil
}

// loginAddr is the address of login client i: 127.0.0.2 on.
func loginAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, 0, byte(firstLoginAddr + i)})
}

// floodAddr is the address of flooder i of flood run n: 127.77.n.(i+1),
// fresh for each run, as the throttle remembers an address's failures.
func floodAddr(n, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, floodAddrPrefix, byte(n), byte(i + 1)})
}
