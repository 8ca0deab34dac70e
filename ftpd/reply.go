package ftpd

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reply codes, with the section of the RFC that defines each.
const (
	codeFileStatusOK      = 150 // RFC 959 4.2.1: about to open data connection
	codeOK                = 200 // RFC 959 4.2.1
	codeSuperfluous       = 202 // RFC 959 4.2.1: command not needed here
	codeSystemStatus      = 211 // RFC 959 4.2.1; FEAT, RFC 2389 3.2
	codeFileStatus        = 213 // RFC 959 4.2.1; SIZE and MDTM, RFC 3659 3-4
	codeHelp              = 214 // RFC 959 4.2.1
	codeSystemType        = 215 // RFC 959 4.2.1
	codeReady             = 220 // RFC 959 4.2.1
	codeAuthOK            = 234 // RFC 2228: AUTH accepted, TLS handshake follows
	codeClosing           = 221 // RFC 959 4.2.1
	codeNoTransfer        = 225 // RFC 959 4.2.1: data connection open, no transfer
	codeTransferComplete  = 226 // RFC 959 4.2.1
	codePassive           = 227 // RFC 959 4.1.2
	codeExtendedPassive   = 229 // RFC 2428 3
	codeLoggedIn          = 230 // RFC 959 4.2.1
	codeFileActionOK      = 250 // RFC 959 4.2.1
	codePathCreated       = 257 // RFC 959 4.2.1: PWD
	codeNeedPassword      = 331 // RFC 959 4.2.1
	codePending           = 350 // RFC 959 4.2.1: REST
	codeUnavailable       = 421 // RFC 959 4.2.1: closing control connection
	codeCantOpenData      = 425 // RFC 959 4.2.1
	codeTransferAborted   = 426 // RFC 959 4.2.1
	codeLocalError        = 451 // RFC 959 4.2.1
	codeSyntaxError       = 500 // RFC 959 4.2.1
	codeArgSyntaxError    = 501 // RFC 959 4.2.1
	codeNotImplemented    = 502 // RFC 959 4.2.1
	codeBadSequence       = 503 // RFC 959 4.2.1
	codeParamNotSupported = 504 // RFC 959 4.2.1
	codeBadProtocol       = 522 // RFC 2428 2: network protocol not supported; also a data connection refused for its TLS (vsftpd)
	codeNotLoggedIn       = 530 // RFC 959 4.2.1
	codeProtDenied        = 533 // RFC 2228: command protection level denied for policy reasons (CCC)
	codeProtNotSupported  = 536 // RFC 2228: PROT level not supported by the mechanism
	codeFileUnavailable   = 550 // RFC 959 4.2.1
	codeBadRestart        = 554 // RFC 3659 5.4: invalid REST parameter
)

// replyWriter writes replies to the control connection. It is the only
// writer of the control connection and is safe for concurrent use: the
// transfer goroutine sends a transfer's final reply while the command
// goroutine answers ABOR, STAT or NOOP.
type replyWriter struct {
	conn    net.Conn
	timeout time.Duration // per reply; a client that never reads is cut off

	mu sync.Mutex // guards w and err
	w  *bufio.Writer
	// err is the first write error; once set, replies are dropped.
	err error
}

func newReplyWriter(conn net.Conn, timeout time.Duration) *replyWriter {
	return &replyWriter{conn: conn, timeout: timeout, w: bufio.NewWriterSize(conn, 4096)}
}

// setConn makes conn, the control connection now under TLS, the one
// replies go to. Every reply is flushed whole, so nothing is pending.
func (r *replyWriter) setConn(conn net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conn = conn
	r.w.Reset(conn)
}

// reply sends a single-line reply: "code text\r\n".
func (r *replyWriter) reply(code int, text string) error {
	return r.replyLines(code, text, nil, "")
}

// replyLines sends a reply. With no middle lines and an empty last, it is a
// single line. Otherwise it is the multi-line form of RFC 959 4.2:
// "code-first", the middle lines as given, then "code last". A middle line
// that would itself look like an ending line gets a leading space.
func (r *replyWriter) replyLines(code int, first string, middle []string, last string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	c := strconv.Itoa(code)
	if len(middle) == 0 && last == "" {
		r.line(c, ' ', first)
	} else {
		r.line(c, '-', first)
		for _, m := range middle {
			if looksLikeCode(m) {
				r.w.WriteByte(' ')
			}
			r.w.WriteString(oneLine(m))
			r.w.WriteString("\r\n")
		}
		r.line(c, ' ', last)
	}
	if r.timeout > 0 {
		r.conn.SetWriteDeadline(time.Now().Add(r.timeout))
	}
	r.err = r.w.Flush()
	return r.err
}

func (r *replyWriter) line(code string, sep byte, text string) {
	r.w.WriteString(code)
	r.w.WriteByte(sep)
	r.w.WriteString(oneLine(text))
	r.w.WriteString("\r\n")
}

// looksLikeCode reports whether s starts with three digits, which inside a
// multi-line reply a client could take for its end.
func looksLikeCode(s string) bool {
	return len(s) >= 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2])
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// oneLine keeps text on one line: CR and LF (from a hostile file name, say)
// would let a client inject replies.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// quote quotes a path for a 257 reply: RFC 959 appendix II doubles quotes.
func quote(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}
