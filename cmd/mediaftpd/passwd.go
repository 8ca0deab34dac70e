package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/internal/config"
)

// errUsage means the command line of `mediaftpd passwd` is wrong; the
// usage has been printed. It exits with status 2.
var errUsage = errors.New("bad command line")

// passwd is `mediaftpd passwd [--user NAME] -config FILE`; it returns the
// exit code.
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

// runPasswd is the `mediaftpd passwd [--user NAME] -config FILE` command:
// it reads a password from stdin and stores its bcrypt hash in FILE
// (created if missing), keeping the rest of the file as it is: as
// web.password_hash, the admin's, or with --user as the password_hash of
// that user in users, who is added if the file lacks them. On a terminal
// it asks twice, without echo; otherwise it reads one line. It returns
// flag.ErrHelp for -h, an error matching errUsage for a wrong command
// line, or what went wrong.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediaftpd passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the config `file` to store the password hash in (created if missing)")
	user := fs.String("user", "", "set the password of the user `NAME` (added if new) instead of the admin's")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: mediaftpd passwd [--user NAME] -config FILE\n\n"+
			"Reads a password from stdin and stores its hash in FILE: the admin\n"+
			"password of the status page, or with --user the FTP password of that\n"+
			"user, who is added if new. Reload mediaftpd afterwards (SIGHUP).\n\n")
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
		return fmt.Errorf("%w: passwd needs -config FILE, --user NAME if for a user, and nothing else", errUsage)
	}
	if *user != "" {
		if err := config.CheckUserName(*user); err != nil {
			return fmt.Errorf("user name: %w", err)
		}
	}
	whose := "admin"
	if *user != "" {
		whose = *user + "'s"
	}
	password, err := readPassword(stdin, stderr, whose)
	if err != nil {
		return err
	}
	hash, err := accounts.Hash(password)
	if err != nil {
		return err
	}
	if *user != "" {
		if err := config.SetUserPasswordHash(*path, *user, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "The password of user %s is stored in %s. Reload mediaftpd to use it (systemctl reload mediaftpd).\n", *user, *path)
		return nil
	}
	if err := config.SetPasswordHash(*path, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The admin password is stored in %s. Restart mediaftpd to use it.\n", *path)
	return nil
}

// readPassword reads the password: from a terminal twice, without echo;
// from anything else, one line.
func readPassword(stdin io.Reader, stderr io.Writer, whose string) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(stderr, "New %s password: ", whose)
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
