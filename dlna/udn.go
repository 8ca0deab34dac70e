package dlna

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The UDN identifies the server to TVs, which cache what they learnt by
// it: it must stay the same across restarts and upgrades (a Samsung QN85C
// ignored a server for days after its UDN changed, gerbera#3459) and differ
// between two boxes on one network.
//
// It is made once and kept in State: derived from /etc/machine-id with an
// application-specific HMAC, as systemd's
// sd_id128_get_machine_app_specific does, so that the machine ID itself is
// not disclosed and the same box gets the same UDN again even if the state
// is lost; random when there is no machine ID. The UDN an earlier version
// kept in StateDir's dlna-udn file is taken over.

const (
	// defaultMachineIDFile is systemd's machine ID (machine-id(5)).
	defaultMachineIDFile = "/etc/machine-id"
	// udnFile is the file in StateDir where earlier versions kept the
	// UDN.
	udnFile = "dlna-udn"
)

// appID is mediaftpd's application ID for deriving its machine-specific
// ID: 128 random bits, fixed forever. Changing it changes every UDN.
var appID = [16]byte{0x4a, 0x92, 0x5d, 0xa2, 0xae, 0x6e, 0x2b, 0x59, 0x00, 0x72, 0xa8, 0x14, 0x91, 0x71, 0x98, 0x68}

// appSpecificID returns the ID of this application on the machine with the
// given machine ID: HMAC-SHA256 keyed with the machine ID over appID, cut
// to 128 bits and marked as a version 4 UUID, as
// sd_id128_get_machine_app_specific(3).
func appSpecificID(machineID [16]byte) [16]byte {
	m := hmac.New(sha256.New, machineID[:])
	m.Write(appID[:])
	var id [16]byte
	copy(id[:], m.Sum(nil))
	return markV4(id)
}

// markV4 sets the version (4) and variant (RFC 4122) bits of id.
func markV4(id [16]byte) [16]byte {
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// parseMachineID parses the contents of /etc/machine-id: 32 lower- or
// upper-case hex digits and a newline. An all-zero ID is no ID.
func parseMachineID(b []byte) ([16]byte, error) {
	var id [16]byte
	s := strings.TrimSpace(string(b))
	if len(s) != 32 {
		return id, errors.New("machine ID is not 32 hex digits")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("machine ID: %w", err)
	}
	if id == ([16]byte{}) {
		return id, errors.New("machine ID is all zero")
	}
	return id, nil
}

// formatUDN returns id as a UDN: "uuid:" and the UUID in its usual form.
func formatUDN(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return "uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// validUDN reports whether s is a UDN as formatUDN writes it.
func validUDN(s string) bool {
	u, ok := strings.CutPrefix(s, "uuid:")
	if !ok || len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// makeUDN returns the UDN for a machine whose machine ID is in the file
// machineIDFile, or a random one when that cannot be read, and what was
// used.
func makeUDN(machineIDFile string) (udn, source string) {
	b, err := os.ReadFile(machineIDFile)
	if err == nil {
		var mid [16]byte
		if mid, err = parseMachineID(b); err == nil {
			return formatUDN(appSpecificID(mid)), "machine-id"
		}
	}
	var id [16]byte
	rand.Read(id[:])
	return formatUDN(markV4(id)), "random"
}

// loadUDN returns the UDN kept in State, making and keeping one if there
// is none yet: the one an earlier version kept in StateDir's udnFile, if
// there is one (so an upgrade keeps the UDN TVs know), or else one derived
// from the machine ID. Without State it is made the same way each time,
// and so is still stable on a machine that has a machine ID.
func (srv *Server) loadUDN() string {
	log := srv.logger()
	if b, ok := srv.st.Value(valueUDN); ok {
		if validUDN(string(b)) {
			return string(b)
		}
		log.Warn("the DLNA UDN kept in the store is no UDN; making one", "value", string(b))
	}
	udn, source := srv.oldUDN(), "earlier version"
	if udn == "" {
		mid := srv.machineIDFile
		if mid == "" {
			mid = defaultMachineIDFile
		}
		udn, source = makeUDN(mid)
	}
	if srv.State != nil {
		if err := srv.st.SetValue(valueUDN, []byte(udn)); err != nil {
			log.Warn("cannot keep the DLNA UDN; TVs may see a new server after a restart", "err", err)
		} else {
			log.Info("made the DLNA UDN", "udn", udn, "from", source)
		}
	}
	return udn
}

// oldUDN returns the UDN an earlier version kept in StateDir, or "". The
// file is left as it is.
func (srv *Server) oldUDN() string {
	if srv.StateDir == "" {
		return ""
	}
	path := filepath.Join(srv.StateDir, udnFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && validUDN(string(bytes.TrimSpace(b))):
		return string(bytes.TrimSpace(b))
	case err == nil:
		srv.logger().Warn("the DLNA UDN file of an earlier version holds no UDN; leaving it out", "file", path)
	case !errors.Is(err, fs.ErrNotExist):
		srv.logger().Warn("cannot read the DLNA UDN of an earlier version", "err", err)
	}
	return ""
}

// serialNumber returns the device's serial number, derived from its UDN so
// it is as stable.
func serialNumber(udn string) string {
	u := strings.ReplaceAll(strings.TrimPrefix(udn, "uuid:"), "-", "")
	if len(u) > 16 {
		u = u[:16]
	}
	return u
}
