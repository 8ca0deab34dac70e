package discovery_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The integration tests build a small network out of network namespaces
// (internal/netlab), each made by the test and removed by its cleanup,
// joined by veth pairs created directly inside them (never in the test
// machine's own namespace), addresses from 10.99.0.0/24. mDNS then runs
// only in there: the machine's own interfaces reach a real network.
// Every program is run with "ip netns exec", and a helper process
// refuses to start if it finds itself in the namespace the test started
// in.

// helper is this test binary run as a helper process (see
// TestHelperProcess).
var helper = netlab.Helper{
	Test:         "TestHelperProcess",
	ModeEnv:      "DISCOVERY_TEST_HELPER", // the helper's mode
	ParamsEnv:    "DISCOVERY_TEST_PARAMS", // its parameters, JSON
	MachineNSEnv: "DISCOVERY_TEST_NETNS",  // the inode of the namespace it must not run in
}

// lab is the namespaces of one test, named "mdns-<pid>-<n>-...".
type lab struct {
	*netlab.Lab
	t *testing.T
}

// newLab skips the test (fails it under CI) unless namespaces can be made.
func newLab(t *testing.T) *lab {
	t.Helper()
	return &lab{Lab: netlab.New(t, "mdns"), t: t}
}

// helper starts this test binary in namespace ns as a helper process of
// the given mode (see TestHelperProcess).
func (l *lab) helper(name, ns, mode string, params any) *netlab.Proc {
	l.t.Helper()
	return l.StartHelper(helper, name, ns, mode, params)
}

// avahi runs dbus-daemon and avahi-daemon in namespace ns, limited to
// interface ifname, each with private /run and /etc/avahi (a tmpfs and a
// bind mount in a mount namespace of their own: nothing of the test
// machine's is used or changed), then the command args (avahi-browse,
// avahi-publish) in the same place.
func (l *lab) avahi(name, ns, ifname string, args ...string) *netlab.Proc {
	l.t.Helper()
	for _, prog := range []string{"dbus-daemon", "avahi-daemon", "avahi-browse", "unshare", "mount"} {
		testtool.Need(l.t, prog)
	}
	conf := filepath.Join(l.t.TempDir(), "avahi")
	if err := os.MkdirAll(filepath.Join(conf, "services"), 0o755); err != nil {
		l.t.Fatal(err)
	}
	daemonConf := fmt.Sprintf(`[server]
host-name=%s
use-ipv4=yes
use-ipv6=yes
allow-interfaces=%s
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=no
publish-hinfo=no
publish-workstation=no
publish-domain=no
[reflector]
enable-reflector=no
`, "avahi-"+strings.ReplaceAll(l.Prefix(), "-", ""), ifname)
	if err := os.WriteFile(filepath.Join(conf, "avahi-daemon.conf"), []byte(daemonConf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	script := `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$1" /etc/avahi
shift
dbus-daemon --system --nofork --nopidfile --nosyslog &
i=0
until [ -S /run/dbus/system_bus_socket ]; do i=$((i+1)); [ $i -lt 200 ] || { echo "dbus did not start" >&2; exit 1; }; sleep 0.02; done
avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f /etc/avahi/avahi-daemon.conf &
i=0
until avahi-browse -t -p _none._tcp >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 200 ] || { echo "avahi-daemon did not start" >&2; exit 1; }; sleep 0.05; done
echo 'EVENT {"kind":"avahi-ready"}'
exec "$@" 2>&1
`
	p := l.Start(name, ns, nil, append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", conf}, args...)...)
	p.Await(l.t, "avahi-ready", 15*time.Second, nil)
	return p
}
