package tlscert

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Source.
type Options struct {
	// CertFile and KeyFile are the PEM files of the tls.cert and tls.key
	// settings: the server's certificate (followed by any intermediate
	// certificates) and its unencrypted private key. Both or neither.
	CertFile, KeyFile string
	// StateDir is the folder where a self-signed certificate is kept when
	// no files are given. It is made (mode 0700) if missing.
	StateDir string
	// Names are the DNS names of the self-signed certificate (its subject
	// alternative names; the first is also its common name). cmd passes
	// the hostname, hostname.local and localhost.
	Names []string
	// Addrs are the IP addresses of the self-signed certificate. cmd
	// passes the interfaces' addresses, 127.0.0.1 and ::1.
	Addrs []netip.Addr
	// Logger receives what is logged; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// A Source holds the server certificate of the TLS front ends. Its
// methods are safe to call from many goroutines at once.
type Source struct {
	certFile, keyFile string // both "" for a self-signed certificate
	stateDir          string
	names             []string
	addrs             []netip.Addr
	log               *slog.Logger
	now               func() time.Time

	// mu is held by New and Reload while they read and write files and
	// replace cur, so that two reloads do not interleave.
	mu sync.Mutex
	// cur is the certificate in use; GetCertificate reads it without
	// locking.
	cur atomic.Pointer[current]
}

// current is a certificate with what is shown about it.
type current struct {
	cert        *tls.Certificate // Leaf is set
	fingerprint string
}

// New returns a Source with the certificate of the files CertFile and
// KeyFile, or without them the self-signed one kept in StateDir, made or
// renewed if need be. It logs which one is used, when it expires and its
// fingerprint.
func New(o Options) (*Source, error) {
	s := &Source{
		certFile: o.CertFile,
		keyFile:  o.KeyFile,
		stateDir: o.StateDir,
		names:    slices.Clone(o.Names),
		addrs:    slices.Clone(o.Addrs),
		log:      o.Logger,
		now:      o.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.certFile != "" && s.keyFile == "":
		return nil, fmt.Errorf("%w: tls.cert is set but tls.key is not (leave both out for a self-signed certificate)", ErrHalfPair)
	case s.certFile == "" && s.keyFile != "":
		return nil, fmt.Errorf("%w: tls.key is set but tls.cert is not (leave both out for a self-signed certificate)", ErrHalfPair)
	case s.certFile != "":
		c, err := s.readFiles()
		if err != nil {
			return nil, err
		}
		s.use(c, "TLS certificate: from tls.cert")
		return s, nil
	case s.stateDir == "":
		return nil, ErrNoStateDir
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startSelfSigned(); err != nil {
		return nil, err
	}
	return s, nil
}

// GetCertificate is for tls.Config.GetCertificate: it returns the
// current certificate, whatever the client asks for.
func (s *Source) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load().cert, nil
}

// Reload re-reads CertFile and KeyFile, for SIGHUP. On any error it keeps
// the certificate in use and returns the error, which names the file. For
// a self-signed certificate it makes a new one when the current one
// expires within 30 days, and else does nothing.
func (s *Source) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certFile == "" {
		if s.cur.Load().cert.Leaf.NotAfter.Sub(s.now()) >= renewBefore {
			return nil
		}
		if err := s.makeSelfSigned("TLS certificate: renewed the self-signed one in the state folder, which had fewer than 30 days left"); err != nil {
			return fmt.Errorf("renewing the self-signed TLS certificate (keeping the one in use): %w", err)
		}
		return nil
	}
	c, err := s.readFiles()
	if err != nil {
		return fmt.Errorf("reloading the TLS certificate (keeping the one in use): %w", err)
	}
	if c.fingerprint == s.cur.Load().fingerprint {
		s.cur.Store(c)
		s.log.Info("TLS certificate: reloaded tls.cert, unchanged", "file", s.certFile, "fingerprint", "SHA-256 "+c.fingerprint)
		return nil
	}
	s.use(c, "TLS certificate: reloaded a new one from tls.cert")
	return nil
}

// Fingerprint is the SHA-256 of the current leaf certificate's DER, as
// uppercase hex pairs joined by ':' (the form browsers and
// `openssl x509 -noout -fingerprint -sha256` show), without a prefix.
func (s *Source) Fingerprint() string { return s.cur.Load().fingerprint }

// SelfSigned reports whether the certificate is the self-signed one kept
// in the state folder rather than the one of CertFile.
func (s *Source) SelfSigned() bool { return s.certFile == "" }

// CertPath is the PEM file of the leaf certificate in use: CertFile, or
// for the self-signed one its file in StateDir, which a client can be
// given as its CA file.
func (s *Source) CertPath() string {
	if s.certFile != "" {
		return s.certFile
	}
	return filepath.Join(s.stateDir, certFileName)
}

// NotAfter is when the current leaf certificate expires.
func (s *Source) NotAfter() time.Time { return s.cur.Load().cert.Leaf.NotAfter }

// readFiles reads and checks CertFile and KeyFile, warning when the
// certificate is expired or not yet valid: it is served anyway, as Caddy
// and nginx do, since refusing to start would not help a user replace it.
func (s *Source) readFiles() (*current, error) {
	certPEM, err := os.ReadFile(s.certFile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert: %w", err)
	}
	keyPEM, err := os.ReadFile(s.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls.key: %w", err)
	}
	cert, err := parsePair(certPEM, keyPEM, "tls.cert "+s.certFile, "tls.key "+s.keyFile)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch leaf := cert.Leaf; {
	case now.After(leaf.NotAfter):
		s.log.Warn("TLS certificate: tls.cert has expired; clients will refuse it until it is replaced (then send SIGHUP)", "file", s.certFile, "not_after", leaf.NotAfter)
	case now.Before(leaf.NotBefore):
		s.log.Warn("TLS certificate: tls.cert is not valid yet; clients will refuse it (is the clock right?)", "file", s.certFile, "not_before", leaf.NotBefore)
	}
	return newCurrent(cert), nil
}

// startSelfSigned uses the self-signed certificate kept in the state
// folder, setting it aside if it cannot be used and making a new one if
// there is none or it expires within renewBefore. s.mu is held.
func (s *Source) startSelfSigned() error {
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		return fmt.Errorf("making the state folder for the TLS certificate: %w", err)
	}
	root, err := os.OpenRoot(s.stateDir)
	if err != nil {
		return fmt.Errorf("opening the state folder for the TLS certificate: %w", err)
	}
	defer root.Close()
	cert, err := loadStored(root)
	switch {
	case err != nil:
		moved, aerr := setAside(root)
		if aerr != nil {
			return fmt.Errorf("the self-signed TLS certificate cannot be used (%v), nor set aside: %w", err, aerr)
		}
		s.log.Warn("TLS certificate: the self-signed one in the state folder cannot be used; set it aside, making a new one", "err", err, "moved_to", moved)
		return s.makeSelfSigned("TLS certificate: made a new self-signed one in the state folder")
	case cert == nil:
		return s.makeSelfSigned("TLS certificate: made a self-signed one in the state folder")
	case cert.Leaf.NotAfter.Sub(s.now()) < renewBefore:
		s.log.Info("TLS certificate: the self-signed one in the state folder expires within 30 days; renewing it", "not_after", cert.Leaf.NotAfter)
		return s.makeSelfSigned("TLS certificate: renewed the self-signed one in the state folder")
	}
	s.use(newCurrent(cert), "TLS certificate: self-signed in the state folder")
	if missing := missingSANs(cert.Leaf, s.names, s.addrs); len(missing) > 0 {
		s.log.Info("TLS certificate: the self-signed one does not name these, so clients reaching the server by them will warn; remove "+certFileName+" from the state folder and restart for one that does", "missing", missing)
	}
	return nil
}

// makeSelfSigned makes a self-signed certificate, saves it in the state
// folder and uses it. On error the certificate in use, if any, stays.
// s.mu is held.
func (s *Source) makeSelfSigned(msg string) error {
	ss, skipped, err := newSelfSigned(s.now(), s.names, s.addrs)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		s.log.Warn("TLS certificate: names left out of the self-signed certificate, as they cannot be DNS names", "names", skipped)
	}
	root, err := os.OpenRoot(s.stateDir)
	if err != nil {
		return fmt.Errorf("opening the state folder for the TLS certificate: %w", err)
	}
	defer root.Close()
	if err := ss.save(root); err != nil {
		return err
	}
	s.use(newCurrent(ss.cert), msg)
	return nil
}

func newCurrent(cert *tls.Certificate) *current {
	return &current{cert: cert, fingerprint: fingerprint(cert.Leaf.Raw)}
}

// use makes c the certificate in use and logs msg with its file, expiry
// and fingerprint.
func (s *Source) use(c *current, msg string) {
	s.cur.Store(c)
	s.log.Info(msg, "file", s.CertPath(), "not_after", c.cert.Leaf.NotAfter, "fingerprint", "SHA-256 "+c.fingerprint)
}
