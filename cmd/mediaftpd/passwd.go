package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/mediaftpd/mediaftpd/internal/config"
)

// errUsage means the command line of `mediaftpd passwd` is wrong; the
// usage has been printed. It exits with status 2.
var errUsage = errors.New("bad command line")

// Password limits. bcrypt reads at most 72 bytes of a password.
const (
	minPasswordRunes = 8
	maxPasswordBytes = 72
)

// passwd is `mediaftpd passwd -config FILE`; it returns the exit code.
func passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := runPasswd(args, stdin, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage // the usage is printed
	}
	fmt.Fprintf(stderr, "mediaftpd passwd: %v\n", err)
	return exitError
}

// runPasswd is the `mediaftpd passwd -config FILE` command: it reads the
// admin password from stdin and stores its bcrypt hash as
// web.password_hash in FILE (created if missing), keeping the rest of the
// file as it is. On a terminal it asks twice, without echo; otherwise it
// reads one line. It returns flag.ErrHelp for -h, an error matching
// errUsage for a wrong command line, or what went wrong.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediaftpd passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the config `file` to store the password hash in (created if missing)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: mediaftpd passwd -config FILE\n\n"+
			"Reads the admin password of the status page from stdin and stores its\n"+
			"hash in FILE. Restart mediaftpd afterwards.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: passwd needs -config FILE and nothing else", errUsage)
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	if err := config.SetPasswordHash(*path, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The admin password is stored in %s. Restart mediaftpd to use it.\n", *path)
	return nil
}

// hashPassword checks that a password is long enough and hashes it with
// bcrypt, for web.password_hash.
func hashPassword(password string) (string, error) {
	switch {
	case utf8.RuneCountInString(password) < minPasswordRunes:
		return "", fmt.Errorf("the password is too short: use at least %d characters", minPasswordRunes)
	case len(password) > maxPasswordBytes:
		return "", fmt.Errorf("the password is too long: bcrypt uses at most %d bytes", maxPasswordBytes)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(hash), nil
}

// readPassword reads the password: from a terminal twice, without echo;
// from anything else, one line.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(stderr, "New admin password: ")
		p1, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Type it again: ")
		p2, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if p1 != p2 {
			return "", errors.New("the passwords differ; nothing was changed")
		}
		return p1, nil
	}
	return readLine(stdin)
}

// readLine reads one line of at most a few KiB, without its line ending.
func readLine(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, 4<<10))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if errors.Is(err, io.EOF) && line == "" {
		return "", errors.New("no password given on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
