package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CountFDs returns the number of open descriptors of a process: the
// entries of /proc/PID/fd.
func CountFDs(pid int) (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(fds), err
}

// FDTargets returns what the open descriptors of a process point at, as
// /proc/PID/fd/N links say: a path for a file, "socket:[INODE]" for a
// socket, "pipe:[INODE]" and the like. Descriptors closed while it reads
// are left out.
func FDTargets(pid int) ([]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd/", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	targets := make([]string, 0, len(entries))
	for _, e := range entries {
		if t, err := os.Readlink(dir + e.Name()); err == nil {
			targets = append(targets, t)
		}
	}
	return targets, nil
}

// SocketInode returns the inode of a descriptor target that is a socket
// ("socket:[INODE]"), and whether it is one.
func SocketInode(target string) (string, bool) {
	inode, ok := strings.CutPrefix(target, "socket:[")
	if !ok || !strings.HasSuffix(inode, "]") {
		return "", false
	}
	return strings.TrimSuffix(inode, "]"), true
}

// Socket is a TCP socket of /proc/PID/net/tcp or tcp6.
type Socket struct {
	LocalPort int
	// State is the kernel's name for the TCP state, such as
	// "ESTABLISHED" or "LISTEN"; empty for a code it does not know.
	State string
}

// tcpStates are the states of /proc/net/tcp, by their hex code.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}

// TCPSockets returns the TCP sockets (IPv4 and IPv6) of the network
// namespace of a process, by inode, to be matched with SocketInode of its
// descriptors. A table that cannot be read is left out.
func TCPSockets(pid int) map[string]Socket {
	sockets := map[string]Socket{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err == nil {
			parseTCP(string(b), sockets)
		}
	}
	return sockets
}

// parseTCP adds the sockets of a /proc/net/tcp table to sockets. Lines
// it cannot read are skipped.
func parseTCP(table string, sockets map[string]Socket) {
	lines := strings.Split(table, "\n")
	for _, line := range lines[1:] { // the first is the header
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		_, port, _ := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		sockets[f[9]] = Socket{LocalPort: int(p), State: tcpStates[f[3]]}
	}
}
