package ftpd

import (
	"slices"
	"strconv"
	"strings"
)

// command is an entry of the command table.
type command struct {
	handler func(s *session, arg string) error
	// open: allowed before login.
	open bool
	// needsArg: an empty argument is answered 501 before the handler runs.
	needsArg bool
	// duringTransfer: runs at once while a transfer is running, instead of
	// waiting for its final reply (ABOR, STAT, NOOP, QUIT).
	duringTransfer bool
	// tls: a command of FTPS, answered 502 when the server has no TLS.
	tls bool
	// secret: the argument is never logged (PASS).
	secret bool
}

// commands is the command table. Every write command maps to refuseWrite.
var commands map[string]*command

func init() {
	commands = map[string]*command{
		// Access control, RFC 959 4.1.1.
		"USER": {handler: (*session).cmdUSER, open: true, needsArg: true},
		"PASS": {handler: (*session).cmdPASS, open: true, secret: true},
		"ACCT": {handler: (*session).cmdACCT, open: true},
		"QUIT": {handler: (*session).cmdQUIT, open: true, duringTransfer: true},
		"CWD":  {handler: (*session).cmdCWD},
		"XCWD": {handler: (*session).cmdCWD},
		"CDUP": {handler: (*session).cmdCDUP},
		"XCUP": {handler: (*session).cmdCDUP},

		// Transfer parameters, RFC 959 4.1.2; RFC 2428.
		"TYPE": {handler: (*session).cmdTYPE, needsArg: true},
		"MODE": {handler: (*session).cmdMODE, needsArg: true},
		"STRU": {handler: (*session).cmdSTRU, needsArg: true},
		"PASV": {handler: (*session).cmdPASV},
		"EPSV": {handler: (*session).cmdEPSV},
		"PORT": {handler: (*session).cmdPORT, needsArg: true},
		"EPRT": {handler: (*session).cmdEPRT, needsArg: true},

		// Service commands, RFC 959 4.1.3; RFC 3659.
		"RETR": {handler: (*session).cmdRETR, needsArg: true},
		"REST": {handler: (*session).cmdREST, needsArg: true},
		"ABOR": {handler: (*session).cmdABOR, duringTransfer: true},
		"LIST": {handler: (*session).cmdLIST},
		"NLST": {handler: (*session).cmdNLST},
		"MLSD": {handler: (*session).cmdMLSD},
		"MLST": {handler: (*session).cmdMLST},
		"SIZE": {handler: (*session).cmdSIZE, needsArg: true},
		"MDTM": {handler: (*session).cmdMDTM, needsArg: true},
		"PWD":  {handler: (*session).cmdPWD},
		"XPWD": {handler: (*session).cmdPWD},
		"STAT": {handler: (*session).cmdSTAT, duringTransfer: true},
		"SYST": {handler: (*session).cmdSYST, open: true},
		"NOOP": {handler: (*session).cmdNOOP, open: true, duringTransfer: true},
		"HELP": {handler: (*session).cmdHELP, open: true},
		"FEAT": {handler: (*session).cmdFEAT, open: true},
		"OPTS": {handler: (*session).cmdOPTS, open: true, needsArg: true},
		"ALLO": {handler: (*session).cmdALLO},

		// Security extensions, RFC 2228 and 4217 (tls.go): "502" without
		// Server.TLSConfig. Their arguments are checked by the handlers,
		// after that.
		"AUTH": {handler: (*session).cmdAUTH, open: true, tls: true},
		"PBSZ": {handler: (*session).cmdPBSZ, open: true, tls: true},
		"PROT": {handler: (*session).cmdPROT, open: true, tls: true},
		"CCC":  {handler: (*session).cmdCCC, open: true, tls: true},
	}
	// Everything that could change the disk gets the one refusal.
	for _, verb := range writeCommands {
		commands[verb] = &command{handler: (*session).refuseWrite}
	}
}

// writeCommands are refused on purpose: the server is read-only.
var writeCommands = []string{
	"STOR", "STOU", "APPE", "DELE", "MKD", "XMKD", "RMD", "XRMD",
	"RNFR", "RNTO", "SITE", "SMNT", "REIN",
}

// refuseWrite answers every write command as vsftpd does with writes off.
// Never 532 (clients then ask for an account) nor 4xx (clients retry).
func (s *session) refuseWrite(string) error {
	return s.reply.reply(codeFileUnavailable, "Permission denied.")
}

func (s *session) notImplemented(string) error {
	return s.reply.reply(codeNotImplemented, "Command not implemented.")
}

func (s *session) cmdACCT(string) error {
	return s.reply.reply(codeSuperfluous, "No account needed.")
}

func (s *session) cmdQUIT(string) error {
	s.abortTransfer()
	s.reply.reply(codeClosing, "Goodbye.")
	return errQuit
}

func (s *session) cmdCWD(arg string) error {
	p, fi, err := s.lookupInfo(arg)
	if err == nil && !fi.IsDir() {
		err = errNotDir
	}
	if err != nil {
		return s.errorReply(err, "Failed to change directory.")
	}
	s.cwd = p
	return s.reply.reply(codeFileActionOK, "Directory successfully changed.")
}

func (s *session) cmdCDUP(string) error { return s.cmdCWD("..") }

func (s *session) cmdPWD(string) error {
	return s.reply.reply(codePathCreated, quote(string(s.cwd))+" is the current directory.")
}

func (s *session) cmdTYPE(arg string) error {
	// Files are always sent unconverted, as vsftpd does; SIZE and REST
	// mean the same in both types.
	switch strings.ToUpper(strings.Join(strings.Fields(arg), " ")) {
	case "I", "L 8":
		return s.reply.reply(codeOK, "Switching to Binary mode.")
	case "A", "A N":
		return s.reply.reply(codeOK, "Switching to ASCII mode.")
	}
	return s.reply.reply(codeParamNotSupported, "Unsupported TYPE.")
}

func (s *session) cmdMODE(arg string) error {
	if strings.EqualFold(arg, "S") {
		return s.reply.reply(codeOK, "Mode set to S.")
	}
	return s.reply.reply(codeParamNotSupported, "Only stream mode is supported.")
}

func (s *session) cmdSTRU(arg string) error {
	if strings.EqualFold(arg, "F") {
		return s.reply.reply(codeOK, "Structure set to F.")
	}
	return s.reply.reply(codeParamNotSupported, "Only file structure is supported.")
}

func (s *session) cmdREST(arg string) error {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		return s.reply.reply(codeArgSyntaxError, "REST needs a byte offset of 0 or more.")
	}
	s.rest = n
	return s.reply.reply(codePending, "Restart position accepted ("+arg+").")
}

func (s *session) cmdABOR(string) error {
	if s.abortTransfer() {
		return s.reply.reply(codeTransferComplete, "ABOR successful.")
	}
	s.closePassive()
	return s.reply.reply(codeNoTransfer, "No transfer to abort.")
}

func (s *session) cmdSYST(string) error {
	return s.reply.reply(codeSystemType, "UNIX Type: L8")
}

func (s *session) cmdNOOP(string) error {
	return s.reply.reply(codeOK, "NOOP ok.")
}

func (s *session) cmdALLO(string) error {
	return s.reply.reply(codeSuperfluous, "ALLO is not needed.")
}

// cmdFEAT lists the extensions (RFC 2389 3.2): one per line, each with one
// leading space, as gvfs matches whole lines. UTF8 must be listed or VLC
// refuses non-ASCII paths.
// AUTH TLS, PBSZ and PROT are listed only with TLS configured.
func (s *session) cmdFEAT(string) error {
	tls := s.srv.TLSConfig != nil
	lines := make([]string, 0, 12)
	if tls {
		lines = append(lines, " AUTH TLS")
	}
	lines = append(lines,
		" EPRT",
		" EPSV",
		" MDTM",
		" MLST "+s.facts.String(true),
		" PASV")
	if tls {
		lines = append(lines, " PBSZ", " PROT")
	}
	lines = append(lines,
		" REST STREAM",
		" SIZE",
		" TVFS",
		" UTF8")
	return s.reply.replyLines(codeSystemStatus, "Features:", lines, "End")
}

func (s *session) cmdOPTS(arg string) error {
	opt, val, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(opt) {
	case "UTF8", "UTF-8":
		// Names are always UTF-8; Windows Explorer needs the 200.
		return s.reply.reply(codeOK, "Always in UTF8 mode.")
	case "MLST":
		s.facts = parseFacts(val)
		return s.reply.reply(codeOK, "MLST OPTS "+s.facts.String(false))
	}
	return s.reply.reply(codeArgSyntaxError, "Option not understood.")
}

func (s *session) cmdHELP(string) error {
	verbs := make([]string, 0, len(commands))
	for v := range commands {
		verbs = append(verbs, v)
	}
	slices.Sort(verbs)
	var lines []string
	for i := 0; i < len(verbs); i += 8 {
		lines = append(lines, " "+strings.Join(verbs[i:min(i+8, len(verbs))], " "))
	}
	return s.reply.replyLines(codeHelp, "The following commands are recognized.", lines, "Help OK.")
}

func (s *session) cmdSIZE(arg string) error {
	fi, err := s.statFile(arg)
	if err != nil {
		return s.errorReply(err, "Could not get file size.")
	}
	return s.reply.reply(codeFileStatus, strconv.FormatInt(fi.size, 10))
}

func (s *session) cmdMDTM(arg string) error {
	fi, err := s.statFile(arg)
	if err != nil {
		return s.errorReply(err, "Could not get file modification time.")
	}
	return s.reply.reply(codeFileStatus, fi.mtime.UTC().Format("20060102150405"))
}

// statFile resolves arg to a regular file (SIZE and MDTM of a folder are
// errors: VLC takes a 213 to mean "file").
func (s *session) statFile(arg string) (entry, error) {
	p, fi, err := s.lookupInfo(arg)
	if err != nil {
		return entry{}, err
	}
	if fi.IsDir() {
		return entry{}, errNotRegular
	}
	return entryOf(p.base(), fi), nil
}

// cmdSTAT without an argument reports the session (and a running
// transfer's progress); with one, it lists the path over the control
// connection (RFC 959 4.1.3).
func (s *session) cmdSTAT(arg string) error {
	if arg == "" {
		lines := []string{
			" Connected to " + s.local.String() + " from " + s.remote.String(),
			" " + s.loginStatus(),
			" TYPE: BINARY, STRU: File, MODE: Stream",
		}
		lines = append(lines, s.tlsStatus()...)
		if p := s.progress(); p != "" {
			lines = append(lines, " "+p)
		}
		return s.reply.replyLines(codeSystemStatus, "FTP server status:", lines, "End of status.")
	}
	if !s.loggedIn {
		return s.reply.reply(codeNotLoggedIn, "Please login with USER and PASS.")
	}
	s.waitTransfer()
	_, entries, err := s.listTarget(arg, formatList)
	if err != nil {
		return s.errorReply(err, "Could not list the path.")
	}
	now := timeNow()
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = strings.TrimSuffix(string(s.appendEntry(nil, formatList, e, now)), "\r\n")
	}
	return s.reply.replyLines(codeFileStatus, "Status follows:", lines, "End of status.")
}

func (s *session) cmdMLST(arg string) error {
	p, fi, err := s.lookupInfo(arg)
	if err != nil {
		return s.errorReply(err, "Could not list the path.")
	}
	// RFC 3659 7.2: the entry line starts with a single space and names
	// the path in full.
	line := " " + string(appendFacts(nil, entryOf(p.base(), fi), s.facts, string(p)))
	return s.reply.replyLines(codeFileActionOK, "Listing "+string(p), []string{line}, "End.")
}

// loginStatus says who the session is logged in as, for STAT.
func (s *session) loginStatus() string {
	if s.account != "" {
		return "Logged in as " + s.account
	}
	return "Logged in anonymously"
}

// tlsStatus says whether the control and data connections are encrypted,
// for STAT.
func (s *session) tlsStatus() []string {
	s.mu.Lock()
	version, protP := s.tlsVersion, s.protP
	s.mu.Unlock()
	control, data := " Control connection: clear text", " Data connections: clear text"
	if version != "" {
		control = " Control connection: encrypted (" + version + ")"
	}
	if protP && s.tlsConf != nil {
		data = " Data connections: encrypted (PROT P)"
	}
	return []string{control, data}
}
