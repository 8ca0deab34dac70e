package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
)

// The FTPS figures (issue 15), numbered on from the plain ones.
const (
	mFTPSSingle        metric = "ftps-single"          // MiB/s
	mFTPSParallel      metric = "ftps-parallel"        // MiB/s, all streams together
	mFTPSCPUPerGiB     metric = "ftps-cpu-per-gib"     // CPU seconds per GiB sent
	mFTPSClientPerGiB  metric = "ftps-client-per-gib"  // the bench's CPU seconds per GiB received
	mCurlSingle        metric = "ftps-curl"            // MiB/s, curl --ssl-reqd
	mFTPSSessions      metric = "ftps-sessions"        // anonymous FTPS sessions per second
	mCPUPerFTPSSession metric = "ftps-cpu-per-session" // CPU µs per session
	mLogins1           metric = "logins-1"             // named-user logins per second, 1 client
	mLoginsN           metric = "logins-n"             // the same, loginClients clients
	mCPUPerLogin       metric = "cpu-per-login"        // CPU ms per login

	mStreamPlain         metric = "stream-plain"           // MiB/s, alone
	mStreamPlainFlood    metric = "stream-plain-flood"     // MiB/s, during the flood
	mStreamTLS           metric = "stream-tls"             // MiB/s, alone
	mStreamTLSFlood      metric = "stream-tls-flood"       // MiB/s, during the flood
	mStreamPlainChecking metric = "stream-plain-checking"  // MiB/s, until the flood's last 530
	mStreamPlainLocked   metric = "stream-plain-locked"    // MiB/s, after it
	mStreamTLSChecking   metric = "stream-tls-checking"    //
	mStreamTLSLocked     metric = "stream-tls-locked"      //
	mStreamCPUPlain      metric = "stream-cpu-plain"       // server CPU, % of one CPU
	mStreamCPUPlainFlood metric = "stream-cpu-plain-flood" //
	mStreamCPUTLS        metric = "stream-cpu-tls"         //
	mStreamCPUTLSFlood   metric = "stream-cpu-tls-flood"   //
	mSelfCPUPlain        metric = "self-cpu-plain"         // the bench's CPU, % of one CPU
	mSelfCPUPlainFlood   metric = "self-cpu-plain-flood"   //
	mSelfCPUTLS          metric = "self-cpu-tls"           //
	mSelfCPUTLSFlood     metric = "self-cpu-tls-flood"     //
	mFloodWrong          metric = "flood-530"              // wrong passwords answered 530 per second
	mFloodLocked         metric = "flood-421"              // guesses answered 421 per second
	mFloodConns          metric = "flood-conns"            // flood connections per second
	mFloodChecking       metric = "flood-checking"         // s from the flood's start to its last 530
	mFlooderCPU          metric = "flooder-cpu"            // the flooder process's CPU, % of one CPU
)

// ftpsRows are the FTPS figures of both servers.
var ftpsRows = []row{
	{mFTPSSingle, "9. FTPS download of a 1 GiB file, one stream (PROT P)", "MiB/s", benchreport.RatioAtLeast(1)},
	{mFTPSParallel, "10. FTPS, 8 downloads at once, together", "MiB/s", benchreport.RatioAtLeast(1)},
	{mFTPSCPUPerGiB, "11. server CPU per GiB sent over FTPS (figures 9 and 10)", "s", benchreport.RatioAtMost(1)},
	{mFTPSClientPerGiB, "    bench client CPU per GiB received over FTPS", "s", benchreport.Target{}},
	{mCurlSingle, "    curl --ssl-reqd, one stream (cross-check of 9)", "MiB/s", benchreport.Target{}},
	{mFTPSSessions, "    anonymous FTPS sessions per second, 4 clients (AUTH TLS, login, QUIT)", "1/s", benchreport.Target{}},
	{mCPUPerFTPSSession, "    server CPU per anonymous FTPS session", "µs", benchreport.Target{}},
	{mLogins1, "12. user logins per second over FTPS (AUTH TLS, USER, PASS, QUIT), 1 client", "1/s", benchreport.Target{}},
	{mLoginsN, "12. the same, 4 clients from 4 addresses", "1/s", benchreport.Target{}},
	{mCPUPerLogin, "    server CPU per user login", "ms", benchreport.Target{}},
}

// floodRow is a figure of mediaftpd during the flood, beside the same
// figure without it (none: a figure of the flood itself).
type floodRow struct {
	with, alone metric
	label, unit string
	target      benchreport.Target
}

// floodRows are mediaftpd's figures with and without the flood.
var floodRows = []floodRow{
	{mStreamPlainFlood, mStreamPlain, "13. anonymous stream over plain FTP", "MiB/s", benchreport.RatioAtLeast(0.95)},
	{mStreamTLSFlood, mStreamTLS, "13. anonymous stream over FTPS", "MiB/s", benchreport.RatioAtLeast(0.95)},
	{mStreamPlainChecking, mStreamPlain, "    plain FTP stream while passwords are checked (until the last 530)", "MiB/s", benchreport.Target{}},
	{mStreamPlainLocked, mStreamPlain, "    plain FTP stream once every flood address is locked out", "MiB/s", benchreport.Target{}},
	{mStreamTLSChecking, mStreamTLS, "    FTPS stream while passwords are checked (until the last 530)", "MiB/s", benchreport.Target{}},
	{mStreamTLSLocked, mStreamTLS, "    FTPS stream once every flood address is locked out", "MiB/s", benchreport.Target{}},
	{mStreamCPUPlainFlood, mStreamCPUPlain, "    mediaftpd CPU, plain stream", "% of a CPU", benchreport.Target{}},
	{mStreamCPUTLSFlood, mStreamCPUTLS, "    mediaftpd CPU, FTPS stream", "% of a CPU", benchreport.Target{}},
	{mSelfCPUPlainFlood, mSelfCPUPlain, "    bench CPU (stream client; flooders with -flood-inproc), plain stream", "% of a CPU", benchreport.Target{}},
	{mSelfCPUTLSFlood, mSelfCPUTLS, "    bench CPU (stream client; flooders with -flood-inproc), FTPS stream", "% of a CPU", benchreport.Target{}},
	{mFlooderCPU, "", "    flooder process CPU, at nice 19", "% of a CPU", benchreport.Target{}},
	{mFloodWrong, "", "    wrong passwords answered 530 (checked with bcrypt)", "1/s", benchreport.Target{}},
	{mFloodLocked, "", "    wrong passwords answered 421 (address locked out)", "1/s", benchreport.Target{}},
	{mFloodConns, "", "    flood connections made", "1/s", benchreport.Target{}},
	{mFloodChecking, "", "    from the flood's start to its last 530", "s", benchreport.Target{}},
}

// writeFTPSReport prints what the FTPS run negotiated and its two tables.
// It returns how many targets were judged and how many were missed.
func writeFTPSReport(w io.Writer, info *ftpsInfo, res results) (judged, missed int) {
	fmt.Fprintf(w, "\nFTPS (issue 15). Certificate: %s, the same files for both servers. The bench's client speaks TLS 1.3 only.\n", info.Cert)
	if len(info.Negotiated) > 0 {
		fmt.Fprintf(w, "Negotiated with the bench's Go client (version, cipher suite, key exchange): %s.\n", byServer(info.Negotiated))
	}
	if len(info.Resumed) > 0 {
		parts := map[string]string{}
		for s, r := range info.Resumed {
			parts[s] = fmt.Sprintf("%d of %d", r[0], r[1])
		}
		fmt.Fprintf(w, "Download data connections that resumed the control connection's TLS session: %s.\n", byServer(parts))
	}
	if len(info.Curl) > 0 {
		fmt.Fprintf(w, "curl negotiated: %s.\n", byServer(info.Curl))
	}
	if info.Acct != "" {
		fmt.Fprintf(w, "Server CPU from %s.\n", info.Acct)
	}
	if info.Others >= 0 {
		fmt.Fprintf(w, "Other processes kept the CPUs %.0f%% busy during the FTPS workloads.\n", 100*info.Others)
	}
	if info.Cost > 0 {
		fmt.Fprintf(w, "User logins: bcrypt cost %d, as `mediaftpd passwd --user` wrote the hash; vsftpd's users are system accounts checked through PAM, not measured.\n", info.Cost)
	}
	if info.Flood {
		pace := "as fast as the server answers"
		if info.FloodRate > 0 {
			pace = fmt.Sprintf("at most %d per second in all", info.FloodRate)
		}
		where := "from a process of their own at nice 19 (the guesser's own CPU then comes after the stream's, as on another machine)"
		if info.FloodInProc {
			where = "from goroutines of the bench's process, beside the stream's client, at its priority"
		}
		fmt.Fprintf(w, "Flood: mediaftpd alone; each run streams for %v alone and %v while %d connections from %d new loopback addresses send wrong passwords over FTPS, %s, %s.\n",
			info.Window, info.Window, floodAddrs*floodPerAddr, floodAddrs, pace, where)
	}
	fmt.Fprintln(w)
	var table []benchreport.Row
	for _, r := range ftpsRows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		table = append(table, benchreport.Row{Label: r.label, Unit: r.unit, Measured: ms, Compared: vs, Target: r.target})
	}
	if len(table) > 0 {
		j, m := benchreport.WriteTable(w, [3]string{"FTPS workload", nameMediaftpd, nameVsftpd}, table)
		judged, missed = judged+j, missed+m
		fmt.Fprintln(w)
	}
	table = nil
	for _, r := range floodRows {
		with, alone := res[nameMediaftpd][r.with], res[nameMediaftpd][r.alone]
		if len(with) == 0 {
			continue
		}
		table = append(table, benchreport.Row{Label: r.label, Unit: r.unit, Measured: with, Compared: alone, Target: r.target})
	}
	if len(table) > 0 {
		j, m := benchreport.WriteTable(w, [3]string{"mediaftpd during a flood of wrong passwords", "with flood", "alone"}, table)
		judged, missed = judged+j, missed+m
	}
	return judged, missed
}

// byServer writes a value per server, mediaftpd first.
func byServer(m map[string]string) string {
	names := make([]string, 0, len(m))
	for s := range m {
		names = append(names, s)
	}
	slices.SortFunc(names, func(a, b string) int {
		if a == nameMediaftpd {
			return -1
		}
		if b == nameMediaftpd {
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, s := range names {
		parts[i] = s + " " + m[s]
	}
	return strings.Join(parts, "; ")
}

// writeFTPSRuns prints every sample of the FTPS rows, in the order taken.
func writeFTPSRuns(w io.Writer, res results) {
	for _, r := range ftpsRows {
		ms, vs := res[nameMediaftpd][r.m], res[nameVsftpd][r.m]
		if len(ms) == 0 && len(vs) == 0 {
			continue
		}
		fmt.Fprintf(w, "- %s (%s): %s %s", itemLabel(r.label), r.unit, nameMediaftpd, benchreport.Nums(ms))
		if len(vs) > 0 {
			fmt.Fprintf(w, "; %s %s", nameVsftpd, benchreport.Nums(vs))
		}
		fmt.Fprintln(w)
	}
	for _, r := range floodRows {
		with, alone := res[nameMediaftpd][r.with], res[nameMediaftpd][r.alone]
		if len(with) == 0 {
			continue
		}
		fmt.Fprintf(w, "- %s (%s): with flood %s", itemLabel(r.label), r.unit, benchreport.Nums(with))
		if len(alone) > 0 {
			fmt.Fprintf(w, "; alone %s", benchreport.Nums(alone))
		}
		fmt.Fprintln(w)
	}
}

// itemLabel is benchreport.ItemLabel for figure numbers of any length:
// "10. FTPS..." becomes "figure 10, FTPS...".
func itemLabel(label string) string {
	label = strings.TrimSpace(label)
	n, rest, ok := strings.Cut(label, ". ")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return label
	}
	return "figure " + n + ", " + rest
}

// The stream window of the flood workloads: long enough to outlast the
// checking phase (every flood address locked out after its few checked
// guesses, 3-6 s here) by as much again.
const (
	defaultWindow = 10 * time.Second
	quickWindow   = 4 * time.Second
)
