package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// kindError is an error message that matches one of the sentinel errors
// with errors.Is, without repeating the sentinel's text.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// newError returns an error with the formatted message that matches kind.
func newError(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// problem is one thing wrong with a config, located as precisely as is
// known: "file:line: label: message". Without a file or line the label is
// the key's full path, like "ftp.listen", so the message stays useful.
type problem struct {
	file  string // config file name; "" when not from a file
	line  int    // 1-based line in file; 0 when unknown
	label string // key the problem is about; "" when the message says it
	err   error  // the message; matches a sentinel error
}

func (p *problem) Error() string {
	var b strings.Builder
	switch {
	case p.file != "" && p.line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.file, p.line)
	case p.file != "":
		fmt.Fprintf(&b, "%s: ", p.file)
	case p.line > 0:
		fmt.Fprintf(&b, "line %d: ", p.line)
	}
	if p.label != "" {
		b.WriteString(p.label)
		b.WriteString(": ")
	}
	b.WriteString(p.err.Error())
	return b.String()
}

func (p *problem) Unwrap() error { return p.err }

// joinProblems returns the problems as one error, one per line in file
// order, or nil when there are none.
func joinProblems(probs []*problem) error {
	if len(probs) == 0 {
		return nil
	}
	probs = slices.Clone(probs)
	slices.SortStableFunc(probs, func(a, b *problem) int { return cmp.Compare(a.line, b.line) })
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = p
	}
	return errors.Join(errs...)
}
