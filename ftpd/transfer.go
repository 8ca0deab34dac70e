package ftpd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// timeNow is the clock of listings; tests replace it.
var timeNow = time.Now

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func (s *session) cmdRETR(arg string) error {
	offset := s.rest
	s.rest = 0
	var f *os.File
	var fi os.FileInfo
	p, err := s.resolveArg(arg, func(p vpath) (err error) {
		f, fi, err = s.openFile(p)
		return err
	})
	if err != nil {
		s.problem(p, err)
		return s.errorReply(err, "Failed to open file.")
	}
	size := fi.Size()
	if offset > size {
		f.Close()
		return s.reply.reply(codeBadRestart, fmt.Sprintf("Restart offset %d is beyond the end of the file (%d bytes).", offset, size))
	}
	remaining := size - offset
	opening := fmt.Sprintf("Opening BINARY mode data connection for %s (%d bytes).", p.base(), remaining)
	t := &transfer{path: p, offset: offset, size: remaining, src: f}
	return s.startTransfer(t, opening, func(t *transfer, conn net.Conn) (int64, error) {
		if tc, ok := conn.(*net.TCPConn); ok {
			return s.sendFile(t, tc, f, offset, remaining)
		}
		return s.copyFile(t, conn, f, offset, remaining) // TLS
	})
}

// openFile opens a regular file for reading through its share's root. The
// root is closed before it returns: only the open file, while it is being
// sent, keeps the share's disk busy.
func (s *session) openFile(p vpath) (*os.File, os.FileInfo, error) {
	n, err := s.open(p)
	if err != nil {
		return nil, nil, err
	}
	if n.root == nil {
		return nil, nil, errNotRegular
	}
	defer n.close()
	return s.srv.Shares.OpenAt(n.root, n.rel)
}

// sendCall is the most one sendfile(2) call may send. Progress for STAT and
// the status page is recorded after each call.
const sendCall = 16 << 20

// sendFile sends n bytes of f, from offset, to conn with sendfile(2), as
// vsftpd does: Nagle on, the socket in blocking mode, and up to sendCall
// bytes per call. A non-blocking socket would return from each call as soon
// as its buffer filled, and each return pushes a short segment; that halves
// what a sendfile call carries and costs a third more CPU per GiB.
//
// The first call goes out on the socket as Go made it, non-blocking with
// TCP_NODELAY: what fits in the socket buffer leaves at once, before any
// system call to reconfigure the socket, so a player that seeks sees its
// first byte sooner, and a file that fits costs no reconfiguration at all.
//
// A blocking call holds its OS thread while it waits for the client, as a
// vsftpd process does. The socket's SO_SNDTIMEO is the stall timeout: a
// call that can send nothing for StallTimeout returns EAGAIN, and the
// transfer ends, so only a client that takes nothing for that long is
// dropped, however long the film. transfer.abort shuts the socket down
// before closing it, which wakes a blocked call at once.
func (s *session) sendFile(t *transfer, conn *net.TCPConn, f *os.File, offset, n int64) (int64, error) {
	sc, err := conn.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errDataWrite, err)
	}
	fc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errFileRead, err)
	}
	var sent int64
	blocking := false
	for sent < n {
		var c int
		var werr, rerr error
		err := fc.Control(func(ffd uintptr) {
			werr = sc.Control(func(sfd uintptr) {
				off := offset + sent
				c, rerr = syscall.Sendfile(int(sfd), int(ffd), &off, int(min(sendCall, n-sent)))
			})
		})
		// Outside Control: abort, holding session.mu, may be waiting in
		// Close for the call above to return.
		if c > 0 {
			sent += int64(c)
			s.addSent(t, int64(c))
		}
		switch {
		case err != nil:
			return sent, fmt.Errorf("%w: %w", errFileRead, err)
		case werr != nil:
			return sent, fmt.Errorf("%w: %w", errDataWrite, werr)
		case errors.Is(rerr, syscall.EINTR):
		case errors.Is(rerr, syscall.EAGAIN) && blocking:
			return sent, fmt.Errorf("%w: %w", errDataWrite, errStalled)
		case errors.Is(rerr, syscall.EAGAIN):
			// The first call found the socket buffer full.
		case isReadError(rerr):
			return sent, fmt.Errorf("%w: %w", errFileRead, os.NewSyscallError("sendfile", rerr))
		case rerr != nil:
			return sent, fmt.Errorf("%w: %w", errDataWrite, os.NewSyscallError("sendfile", rerr))
		case c == 0:
			// The file shrank while being sent.
			return sent, fmt.Errorf("%w: %w", errFileRead, io.ErrUnexpectedEOF)
		}
		if !blocking && sent < n {
			// The socket buffer is full: wait in the kernel from now on.
			var serr error
			stall := orDefault(s.srv.StallTimeout, DefaultStallTimeout)
			if err := sc.Control(func(fd uintptr) { serr = blockingSend(int(fd), stall) }); err != nil || serr != nil {
				return sent, fmt.Errorf("%w: %w", errDataWrite, errors.Join(err, serr))
			}
			blocking = true
		}
	}
	return sent, nil
}

// errStalled means the client took nothing for StallTimeout.
var errStalled = errors.New("client took no data for the stall timeout")

// tlsBuffer is the size of the reads of a file sent over TLS: the bytes
// go through user space to be encrypted, so sendfile(2) cannot be used.
// BenchmarkTLSRetr, 16 alternating runs of each size on a 2-core amd64:
// 1 MiB reads gave a median 1093 MB/s and 1413 ms of CPU per GiB, 256 KiB
// reads 1017 MB/s and 1536 ms (1 MiB faster in 12 of the 16 pairs). Each
// TLS transfer holds one such buffer, from a pool.
const tlsBuffer = 1 << 20

// tlsBuffers holds the read buffers of TLS transfers, of the size in
// force (*[]byte).
var tlsBuffers sync.Pool

// copyFile sends n bytes of f, from offset, to conn, a TLS data connection,
// in reads of the Server's TLS buffer size. Each write must go through
// within StallTimeout, so only a client that takes nothing for that long
// is dropped; transfer.abort closes the TCP connection under conn, which
// ends a write at once. Progress is recorded after each write.
func (s *session) copyFile(t *transfer, conn net.Conn, f *os.File, offset, n int64) (int64, error) {
	size := orDefault(s.srv.tlsBufferSize, tlsBuffer)
	bp, _ := tlsBuffers.Get().(*[]byte)
	if bp == nil || len(*bp) != size {
		b := make([]byte, size)
		bp = &b
	}
	defer tlsBuffers.Put(bp)
	buf := *bp
	stall := orDefault(s.srv.StallTimeout, DefaultStallTimeout)
	var sent int64
	for sent < n {
		want := int(min(int64(len(buf)), n-sent))
		r, rerr := f.ReadAt(buf[:want], offset+sent)
		if r > 0 {
			conn.SetWriteDeadline(time.Now().Add(stall))
			w, werr := conn.Write(buf[:r])
			sent += int64(w)
			s.addSent(t, int64(w))
			var ne net.Error
			switch {
			case errors.As(werr, &ne) && ne.Timeout():
				return sent, fmt.Errorf("%w: %w", errDataWrite, errStalled)
			case werr != nil:
				return sent, fmt.Errorf("%w: %w", errDataWrite, werr)
			}
		}
		switch {
		case r == want:
			// ReadAt may say io.EOF with the last bytes of the file.
		case rerr == nil || errors.Is(rerr, io.EOF):
			// The file shrank while being sent.
			return sent, fmt.Errorf("%w: %w", errFileRead, io.ErrUnexpectedEOF)
		default:
			return sent, fmt.Errorf("%w: %w", errFileRead, rerr)
		}
	}
	return sent, nil
}

// blockingSend puts the socket fd in blocking mode, with Nagle on and
// timeout as SO_SNDTIMEO. Go's TCP connections start with TCP_NODELAY on
// and O_NONBLOCK set; the runtime's poller is not used for this socket
// again, since only sendFile writes to it and Close comes after.
func blockingSend(fd int, timeout time.Duration) error {
	tv := syscall.NsecToTimeval(timeout.Nanoseconds())
	return errors.Join(
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 0),
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv),
		syscall.SetNonblock(fd, false),
	)
}

// isReadError tells a failed read of the file (an unplugged disk: EIO) from
// a failed write to the client. sendfile(2) returns EIO only for the file:
// a socket's errors are EPIPE, ECONNRESET, EAGAIN and the like.
func isReadError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		return false
	}
	var pe *os.PathError
	return errors.As(err, &pe) || isDiskError(err)
}

func (s *session) cmdLIST(arg string) error { return s.list(arg, formatList) }
func (s *session) cmdNLST(arg string) error { return s.list(arg, formatNLST) }
func (s *session) cmdMLSD(arg string) error { return s.list(arg, formatMLSD) }

// list sends a listing over the data connection. Entries are gathered and
// sorted first, so that a folder that cannot be read gets a 550 and not a
// 150 followed by an error; then lines are formatted straight into the
// connection's buffer.
func (s *session) list(arg string, format listFormat) error {
	s.rest = 0
	p, entries, err := s.listTarget(arg, format)
	if err != nil {
		s.problem(p, err) // p is set when the folder could not be read
		return s.errorReply(err, "Could not list the folder.")
	}
	t := &transfer{path: p, size: -1}
	return s.startTransfer(t, "Here comes the directory listing.", func(t *transfer, conn net.Conn) (int64, error) {
		w := &deadlineWriter{conn: conn, timeout: orDefault(s.srv.StallTimeout, DefaultStallTimeout)}
		bw := bufio.NewWriterSize(w, 64<<10)
		now := timeNow()
		var line []byte
		for _, e := range entries {
			line = s.appendEntry(line[:0], format, e, now)
			bw.Write(line)
		}
		err := bw.Flush()
		s.addSent(t, w.n)
		if err != nil {
			return w.n, fmt.Errorf("%w: %w", errDataWrite, err)
		}
		return w.n, nil
	})
}

// deadlineWriter renews the write deadline before each write.
type deadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
	n       int64
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.conn.Write(b)
	w.n += int64(n)
	return n, err
}

// setPassive replaces any earlier data setup with a new passive listener.
func (s *session) setPassive() (*net.TCPListener, error) {
	s.closePassive()
	s.active = netip.AddrPort{}
	ln, err := s.srv.listenPassive(s.local.Addr())
	if err != nil {
		s.log.Warn("passive listen failed", "err", err)
		return nil, err
	}
	s.pasv = ln
	return ln, nil
}

// cmdPASV answers with the control connection's local address: the right
// one on a multi-homed host (RFC 959 4.1.2).
func (s *session) cmdPASV(string) error {
	if s.epsvAll {
		return s.reply.reply(codeBadSequence, "PASV not allowed after EPSV ALL.")
	}
	ip := s.local.Addr()
	if !ip.Is4() {
		return s.reply.reply(codeBadProtocol, "PASV is IPv4 only; use EPSV.")
	}
	ln, err := s.setPassive()
	if err != nil {
		return s.reply.reply(codeCantOpenData, "Cannot open a passive port.")
	}
	a := ip.As4()
	port := addrOf(ln.Addr()).Port()
	return s.reply.reply(codePassive, fmt.Sprintf("Entering Passive Mode (%d,%d,%d,%d,%d,%d).",
		a[0], a[1], a[2], a[3], port>>8, port&0xff))
}

// cmdEPSV implements RFC 2428 3, including "EPSV ALL".
func (s *session) cmdEPSV(arg string) error {
	switch strings.ToUpper(arg) {
	case "":
	case "ALL":
		s.epsvAll = true
		return s.reply.reply(codeOK, "EPSV ALL ok.")
	case "1", "2":
		if (arg == "1") != s.local.Addr().Is4() {
			return s.reply.reply(codeBadProtocol, "Network protocol not supported, use ("+s.family()+").")
		}
	default:
		return s.reply.reply(codeBadProtocol, "Network protocol not supported, use ("+s.family()+").")
	}
	ln, err := s.setPassive()
	if err != nil {
		return s.reply.reply(codeCantOpenData, "Cannot open a passive port.")
	}
	return s.reply.reply(codeExtendedPassive, fmt.Sprintf("Entering Extended Passive Mode (|||%d|).", addrOf(ln.Addr()).Port()))
}

// family is the RFC 2428 protocol number of the control connection.
func (s *session) family() string {
	if s.local.Addr().Is4() {
		return "1"
	}
	return "2"
}

func (s *session) cmdPORT(arg string) error {
	if s.epsvAll {
		return s.reply.reply(codeBadSequence, "PORT not allowed after EPSV ALL.")
	}
	dst, err := parsePORT(arg)
	if err != nil {
		return s.reply.reply(codeArgSyntaxError, "Illegal PORT command.")
	}
	return s.setActive(dst)
}

func (s *session) cmdEPRT(arg string) error {
	if s.epsvAll {
		return s.reply.reply(codeBadSequence, "EPRT not allowed after EPSV ALL.")
	}
	dst, err := parseEPRT(arg)
	if errors.Is(err, errBadFamily) {
		return s.reply.reply(codeBadProtocol, "Network protocol not supported, use ("+s.family()+").")
	}
	if err != nil {
		return s.reply.reply(codeArgSyntaxError, "Illegal EPRT command.")
	}
	return s.setActive(dst)
}

// setActive records the address for an active-mode data connection. Only
// the client's own address is allowed, and no privileged port: connecting
// elsewhere would make the server a bounce relay (RFC 2577).
func (s *session) setActive(dst netip.AddrPort) error {
	if dst.Addr().Unmap() != s.remote.Addr() || dst.Port() < 1024 {
		s.log.Warn("active data address refused", "to", dst.String())
		return s.reply.reply(codeParamNotSupported, "Data connections go only to your own address and an unprivileged port.")
	}
	s.closePassive()
	s.active = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	return s.reply.reply(codeOK, "PORT command successful. Consider using PASV.")
}

// errBadFamily means an EPRT address family other than 1 (IPv4) or 2 (IPv6).
var errBadFamily = errors.New("unsupported network protocol")

// parsePORT parses "h1,h2,h3,h4,p1,p2" (RFC 959 4.1.2).
func parsePORT(arg string) (netip.AddrPort, error) {
	parts := strings.Split(arg, ",")
	if len(parts) != 6 {
		return netip.AddrPort{}, errors.New("want six numbers")
	}
	var b [6]byte
	for i, p := range parts {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 8)
		if err != nil {
			return netip.AddrPort{}, err
		}
		b[i] = byte(n)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(b[4])<<8|uint16(b[5])), nil
}

// parseEPRT parses "<d>proto<d>addr<d>port<d>" (RFC 2428 2), where <d> is
// any printable character.
func parseEPRT(arg string) (netip.AddrPort, error) {
	if len(arg) < 2 || arg[0] < 33 || arg[0] > 126 {
		return netip.AddrPort{}, errors.New("bad delimiter")
	}
	parts := strings.Split(arg[1:], arg[:1])
	if len(parts) != 4 || parts[3] != "" {
		return netip.AddrPort{}, errors.New("want three fields")
	}
	ip, err := netip.ParseAddr(parts[1])
	if err != nil {
		return netip.AddrPort{}, err
	}
	switch parts[0] {
	case "1":
		if !ip.Is4() {
			return netip.AddrPort{}, errors.New("family 1 with an IPv6 address")
		}
	case "2":
		if !ip.Is6() {
			return netip.AddrPort{}, errors.New("family 2 with an IPv4 address")
		}
	default:
		return netip.AddrPort{}, errBadFamily
	}
	port, err := strconv.ParseUint(parts[2], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, errors.New("bad port")
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}
