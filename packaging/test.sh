#!/usr/bin/env bash
# packaging/test.sh: build the packages with build.sh and prove them. Run as
# root on a Debian machine (CI); it installs the amd64 package, so it refuses
# to run where mediaftpd is already installed, and purges it again at the
# end, whatever happens.
#
#  1. build.sh builds the three .deb and .tar.gz files, twice: the same bytes.
#  2. Each .deb: its Architecture, its exact list of files, its conffile; a
#     static binary for the right machine that prints the version; lintian
#     finds no error and no warning.
#  3. amd64: dpkg -i (systemd is not PID 1 here: the scripts must cope), the
#     user, ownership and enablement the scripts set up; the installed unit
#     passes `systemd-analyze verify` and `systemd-analyze security` rates
#     it at most 3.0. The installed binary runs with the installed config
#     (moved to loopback ports, without mDNS) as the service would: as
#     mediaftpd with only CAP_NET_BIND_SERVICE, on a port below 1024. curl
#     downloads a file from /srv/media; the status page gives the version.
#  4. Reinstall keeps an edited conffile; remove keeps config and user;
#     purge leaves nothing behind.
#  5. The arm64 and armhf binaries serve a download under qemu-user-static
#     (armhf on an ARM1176 CPU: a Raspberry Pi Zero/1), and the core
#     packages' tests pass under qemu for arm64 and for ARMv6.
#  6. In a container booting systemd (debootstrap + systemd-nspawn, its own
#     loopback-only network): `apt install ./mediaftpd_*.deb` enables and
#     starts the service; it runs as mediaftpd with one capability under
#     seccomp, serves port 21 and the status page from inside the sandbox;
#     `mediaftpd passwd` sets the password, a share of a USB disk added on
#     the status page is saved to the config and served; a disk mounted
#     later is seen; an upgrade restarts it, remove stops it, purge cleans
#     up.
#
# Network traffic goes to 127.0.0.1 only. Exits non-zero on any failure;
# the last line is "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL $*"
}
# check DESC CMD...: run CMD, count the result.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}
# quiet CMD...: run CMD without its standard output.
quiet() {
	"$@" >/dev/null
}
# not CMD...: succeed when CMD fails.
not() {
	! "$@"
}
# wait_until DESC CMD...: retry CMD for up to 30s.
# wait_until DESC CMD...: runs CMD every 0.2 s until it succeeds, for 30 s
# (or tries=N times, given as tries=N wait_until ...).
wait_until() {
	local desc=$1
	shift
	for _ in $(seq "${tries:-150}"); do
		if "$@" >/dev/null 2>&1; then
			ok "$desc"
			return 0
		fi
		sleep 0.2
	done
	fail "$desc"
	return 1
}
# fatal DESC: a failure the rest cannot go on from.
fatal() {
	fail "$*"
	exit 1
}
summary() {
	echo "$passed passed, $failed failed"
}

[ "$(id -u)" = 0 ] || {
	echo "test.sh: run as root (it installs and purges the package)" >&2
	exit 2
}
for tool in go dpkg-deb lintian systemd-analyze qemu-aarch64-static qemu-arm-static curl readelf setpriv \
	debootstrap systemd-nspawn nsenter; do
	command -v "$tool" >/dev/null || {
		echo "test.sh: $tool is missing" >&2
		exit 2
	}
done
if [ "$(dpkg-query -W -f='${db:Status-Status}' mediaftpd 2>/dev/null)" = installed ]; then
	echo "test.sh: mediaftpd is installed on this machine; this test would purge it" >&2
	exit 2
fi

tmp=$(mktemp -d)
chmod 0755 "$tmp" # the server runs as mediaftpd and reads its config here
pids=()
nspawn=""
watches=/proc/sys/fs/inotify/max_user_watches
watches_before=$(cat "$watches" 2>/dev/null || true)
# The file served from the installed package's share folder.
clip=/srv/media/mediaftpd-test-$$.bin

cleanup() {
	local code=$?
	# The container of part 6: SIGTERM makes it power off.
	if [ -n "$nspawn" ] && kill -TERM "$nspawn" 2>/dev/null; then
		wait "$nspawn" 2>/dev/null || true
	fi
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	rm -f "$clip"
	if dpkg-query -W mediaftpd >/dev/null 2>&1; then
		dpkg --purge mediaftpd >/dev/null 2>&1 || true
	fi
	if getent passwd mediaftpd >/dev/null; then
		deluser --system --quiet mediaftpd >/dev/null 2>&1 || true
	fi
	if getent group mediaftpd >/dev/null; then
		delgroup --system --quiet mediaftpd >/dev/null 2>&1 || true
	fi
	# postinst raised the inotify limit of this machine: put it back.
	if [ -n "$watches_before" ]; then
		{ echo "$watches_before" >"$watches"; } 2>/dev/null || true
	fi
	rm -rf "$tmp"
	summary
	if [ "$code" = 0 ] && [ "$failed" != 0 ]; then
		code=1
	fi
	exit "$code"
}
trap cleanup EXIT

# A leftover of an earlier run that was killed: removed, not purged.
if dpkg-query -W mediaftpd >/dev/null 2>&1; then
	dpkg --purge mediaftpd >/dev/null
fi

# --- 1. Build ---------------------------------------------------------------

echo "== build"
DIST=$tmp/dist packaging/build.sh || fatal "packaging/build.sh"
ok "packaging/build.sh"
deb_amd64=$(echo "$tmp"/dist/mediaftpd_*_amd64.deb)
version=$(dpkg-deb -f "$deb_amd64" Version)
echo "version $version"
for arch in amd64 arm64 armhf; do
	check "$arch .deb built" test -f "$tmp/dist/mediaftpd_${version}_$arch.deb"
done
for arch in amd64 arm64 armv6; do
	check "$arch .tar.gz built" test -f "$tmp/dist/mediaftpd-$version-linux-$arch.tar.gz"
done
DIST=$tmp/dist2 packaging/build.sh >/dev/null || fatal "packaging/build.sh, second run"
check "a second build gives the same bytes" cmp -s "$tmp/dist/SHA256SUMS" "$tmp/dist2/SHA256SUMS"

# --- 2. Package contents ----------------------------------------------------

echo "== contents"
# The files and folders of every package, as dpkg-deb lists them.
cat >"$tmp/want-files" <<'EOF'
./
./etc/
./etc/mediaftpd/
./etc/mediaftpd/config.yaml
./lib/
./lib/systemd/
./lib/systemd/system/
./lib/systemd/system/mediaftpd.service
./usr/
./usr/bin/
./usr/bin/mediaftpd
./usr/lib/
./usr/lib/sysctl.d/
./usr/lib/sysctl.d/60-mediaftpd.conf
./usr/share/
./usr/share/doc/
./usr/share/doc/mediaftpd/
./usr/share/doc/mediaftpd/README.md.gz
./usr/share/doc/mediaftpd/changelog.gz
./usr/share/doc/mediaftpd/copyright
./usr/share/doc/mediaftpd/examples/
./usr/share/doc/mediaftpd/examples/config.yaml
./usr/share/lintian/
./usr/share/lintian/overrides/
./usr/share/lintian/overrides/mediaftpd
./usr/share/man/
./usr/share/man/man1/
./usr/share/man/man1/mediaftpd.1.gz
EOF

# machine_of DEBARCH: what readelf says the binary is for.
declare -A machine=([amd64]="Advanced Micro Devices X86-64" [arm64]="AArch64" [armhf]="ARM")
# runner of DEBARCH: how to run its binary here.
declare -A runner=([amd64]="" [arm64]="qemu-aarch64-static" [armhf]="qemu-arm-static -cpu arm1176")
declare -A tarname=([amd64]=amd64 [arm64]=arm64 [armhf]=armv6)

for arch in amd64 arm64 armhf; do
	deb=$tmp/dist/mediaftpd_${version}_$arch.deb
	x=$tmp/x-$arch
	dpkg-deb -x "$deb" "$x"
	check "$arch: Architecture is $arch" test "$(dpkg-deb -f "$deb" Architecture)" = "$arch"
	check "$arch: Version is $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
	dpkg-deb -c "$deb" | awk '{print $6}' | sort >"$tmp/got-files"
	check "$arch: exactly the expected files" diff -u "$tmp/want-files" "$tmp/got-files"
	check "$arch: files owned by root" test -z "$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')"
	check "$arch: config.yaml is a conffile" test "$(dpkg-deb -I "$deb" conffiles)" = /etc/mediaftpd/config.yaml
	for script in postinst prerm postrm; do
		check "$arch: $script is a valid sh script" sh -n <(dpkg-deb -I "$deb" "$script")
	done
	bin=$x/usr/bin/mediaftpd
	check "$arch: binary is for ${machine[$arch]}" \
		grep -q "Machine: *${machine[$arch]}\$" <(readelf -h "$bin")
	check "$arch: binary is static (no program interpreter)" \
		not grep -q INTERP <(readelf -l "$bin")
	# shellcheck disable=SC2086 # runner is a command and its arguments
	check "$arch: mediaftpd -version prints $version" \
		test "$(${runner[$arch]} "$bin" -version)" = "mediaftpd $version"
	tgz=$tmp/dist/mediaftpd-$version-linux-${tarname[$arch]}.tar.gz
	mkdir "$tmp/t-$arch"
	tar -C "$tmp/t-$arch" -xzf "$tgz"
	check "$arch: .tar.gz holds the same binary" cmp -s "$bin" "$tmp/t-$arch/mediaftpd-$version-linux-${tarname[$arch]}/mediaftpd"
	check "$arch: .tar.gz holds unit, config, sysctl, man page, README, licenses" \
		test "$(cd "$tmp/t-$arch"/mediaftpd-* && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | tr '\n' ' ')" = \
		"60-mediaftpd.conf LICENSES README.md config.yaml mediaftpd mediaftpd.1 mediaftpd.service "
done

echo "== lintian"
# As nobody: lintian warns when run as root.
lintian_out=$tmp/lintian.txt
if setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
	lintian --fail-on error,warning "$tmp"/dist/*.deb >"$lintian_out" 2>&1; then
	ok "lintian: no errors, no warnings"
else
	fail "lintian: errors or warnings"
fi
cat "$lintian_out"

# --- 3. Install -------------------------------------------------------------

echo "== install"
find_paths() {
	find /etc /lib/systemd /usr/bin /usr/lib/sysctl.d /usr/share/doc /usr/share/man/man1 \
		/usr/share/lintian/overrides /srv /var/lib/systemd /var/lib/dpkg/info -xdev 2>/dev/null | sort
}
find_paths >"$tmp/paths-before"
grep mediaftpd /etc/passwd /etc/group /etc/shadow /etc/gshadow >"$tmp/users-before" || true
dpkg-statoverride --list >"$tmp/statoverride-before"

if dpkg -i "$deb_amd64" >"$tmp/install.txt" 2>&1; then
	ok "dpkg -i"
else
	cat "$tmp/install.txt"
	fatal "dpkg -i"
fi
cat "$tmp/install.txt"
check "postinst printed the status page URL" grep -q 'http://.*:8021/' "$tmp/install.txt"
check "postinst printed how to set the password" \
	grep -qF 'sudo mediaftpd passwd -config /etc/mediaftpd/config.yaml' "$tmp/install.txt"
check "installed mediaftpd -version" test "$(mediaftpd -version)" = "mediaftpd $version"
check "user mediaftpd is a system user" \
	test "$(id -u mediaftpd)" -lt 1000 -a "$(getent passwd mediaftpd | cut -d: -f6)" = /nonexistent
check "user mediaftpd has no login shell" \
	test "$(getent passwd mediaftpd | cut -d: -f7)" = /usr/sbin/nologin
check "/etc/mediaftpd is the service's, 0750" test "$(stat -c '%U:%G %a' /etc/mediaftpd)" = "mediaftpd:mediaftpd 750"
check "config.yaml is the service's, 0640" test "$(stat -c '%U:%G %a' /etc/mediaftpd/config.yaml)" = "mediaftpd:mediaftpd 640"
check "/srv/media made" test -d /srv/media
check "enabled at boot (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/mediaftpd.service
if [ -n "$watches_before" ]; then
	check "inotify watch limit raised" test "$(cat "$watches")" -ge 524288
fi

echo "== systemd unit"
unit=/lib/systemd/system/mediaftpd.service
if systemd-analyze verify --man=no "$unit" >"$tmp/verify.txt" 2>&1 && ! grep -q . "$tmp/verify.txt"; then
	ok "systemd-analyze verify: no complaint"
else
	fail "systemd-analyze verify"
	cat "$tmp/verify.txt"
fi
# --threshold is in tenths: 30 is an exposure of 3.0.
if systemd-analyze security --offline=yes --threshold=30 "$unit" >"$tmp/security.txt" 2>&1; then
	ok "systemd-analyze security: exposure at most 3.0"
else
	fail "systemd-analyze security: exposure above 3.0"
fi
grep -E '✗|Overall' "$tmp/security.txt"

# free_port FROM TO: a TCP port in [FROM, TO] that nothing listens on.
free_port() {
	local p
	for ((p = $1; p <= $2; p++)); do
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	return 1
}

# serve NAME CMD...: start a server, wait until PORT (set by the caller)
# greets, record its pid.
serve() {
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do
		if curl -s --max-time 2 "ftp://127.0.0.1:$port/" >/dev/null; then
			return 0
		fi
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/$name.log"
	return 1
}

# stop_server NAME: SIGTERM the last server; it must exit with 0.
stop_server() {
	local pid=${pids[-1]} code=0
	kill -TERM "$pid"
	wait "$pid" || code=$?
	unset 'pids[-1]'
	check "$1: exits 0 on SIGTERM" test "$code" = 0
	if [ "$code" != 0 ]; then
		cat "$tmp/$1.log"
	fi
}

# download NAME URL FILE: curl URL, compare with FILE.
download() {
	check "$1: download" curl -sS --max-time 30 -o "$tmp/got" "$2"
	check "$1: downloaded file is intact" cmp -s "$tmp/got" "$3"
	rm -f "$tmp/got"
}

echo "== installed server (as the service runs it)"
head -c 3000000 /dev/urandom >"$clip"
chmod 0644 "$clip"
# Below 1024: only CAP_NET_BIND_SERVICE lets the mediaftpd user bind it.
port=$(free_port 600 1000)
wport=$(free_port 18000 19000)
sed -e "s/^  listen: \":21\"\$/  listen: \"127.0.0.1:$port\"/" \
	-e "s/^  listen: \":8021\"\$/  listen: \"127.0.0.1:$wport\"/" \
	-e 's/^  enabled: true$/  enabled: false/' \
	/etc/mediaftpd/config.yaml >"$tmp/config.yaml"
check "config moved to 127.0.0.1:$port and :$wport, no mDNS" \
	test "$(diff /etc/mediaftpd/config.yaml "$tmp/config.yaml" | grep -c '^>')" = 3
chmod 0644 "$tmp/config.yaml"
if serve installed setpriv --reuid=mediaftpd --regid=mediaftpd --init-groups \
	--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
	--bounding-set=-all,+net_bind_service --no-new-privs \
	/usr/bin/mediaftpd -config "$tmp/config.yaml" -mdns=false -dlna off; then
	ok "installed server serves on 127.0.0.1:$port as mediaftpd"
	download installed "ftp://127.0.0.1:$port/Media/$(basename "$clip")" "$clip"
	status_has() {
		curl -sS --max-time 5 "http://127.0.0.1:$wport/api/status" | grep -qF "$1"
	}
	wait_until "installed: status page reports version $version" status_has "\"version\":\"$version\"" || true
	stop_server installed
else
	fail "installed server serves on 127.0.0.1:$port as mediaftpd"
fi

# --- 4. Upgrade, remove, purge ----------------------------------------------

echo "== reinstall, remove, purge"
printf '  # edited by test.sh\n' >>/etc/mediaftpd/config.yaml
check "dpkg -i again (upgrade path)" quiet dpkg -i "$deb_amd64"
check "an edited conffile is kept" grep -q 'edited by test.sh' /etc/mediaftpd/config.yaml
check "ownership kept on upgrade" test "$(stat -c '%U %a' /etc/mediaftpd/config.yaml)" = "mediaftpd 640"
rm "$clip"
check "dpkg -r" quiet dpkg -r mediaftpd
check "remove keeps the config" test -f /etc/mediaftpd/config.yaml
check "remove keeps the user" quiet getent passwd mediaftpd
check "remove removes the binary" test ! -e /usr/bin/mediaftpd
check "dpkg -P" quiet dpkg -P mediaftpd
find_paths >"$tmp/paths-after"
check "purge leaves no file behind" diff -u "$tmp/paths-before" "$tmp/paths-after"
grep mediaftpd /etc/passwd /etc/group /etc/shadow /etc/gshadow >"$tmp/users-after" || true
check "purge removes the user and group" diff -u "$tmp/users-before" "$tmp/users-after"
check "purge removes the statoverrides" diff -u "$tmp/statoverride-before" <(dpkg-statoverride --list)
check "dpkg forgot the package" not quiet dpkg-query -W mediaftpd 2>/dev/null

# --- 5. Emulated ARM --------------------------------------------------------

echo "== arm64 and armhf under qemu"
mkdir -p "$tmp/share"
head -c 2000000 /dev/urandom >"$tmp/share/clip.bin"
for arch in arm64 armhf; do
	port=$(free_port 20000 21000)
	# shellcheck disable=SC2086 # runner is a command and its arguments
	if serve "$arch" ${runner[$arch]} "$tmp/x-$arch/usr/bin/mediaftpd" \
		-listen "127.0.0.1:$port" -web off -mdns=false -dlna off "Share=$tmp/share"; then
		ok "$arch: serves under ${runner[$arch]}"
		download "$arch" "ftp://127.0.0.1:$port/Share/clip.bin" "$tmp/share/clip.bin"
		stop_server "$arch"
	else
		fail "$arch: serves under ${runner[$arch]}"
	fi
done

# The core packages' tests, as a Pi would run them. Skipped:
#  - TestSaveCrash, TestSaveConcurrent (internal/config) start their own test
#    binary again as a new process, which cannot run here without qemu's
#    binfmt_misc registration (that would change the whole machine);
#  - TestFuzzTargets (internal/fuzzci) runs `go test -fuzz` for every target
#    under CI=true: the fuzzers are about the code, not the architecture,
#    and run natively in the main test run;
#  - TestConn (internal/mcast) sets IP_MULTICAST_ALL and MCAST_JOIN_GROUP, which
#    qemu's user mode does not translate ("protocol not available"); the
#    real kernel on a Pi has them, and the test runs natively in the main run.
# And internal/childproc and internal/netlab are left out: they are the
# tests' own tools (never on a Pi), and their tests start the test binary
# again as a child, which fails here for the reason above.
skip='^(TestSaveCrash|TestSaveConcurrent|TestFuzzTargets|TestConn)$'
mapfile -t pkgs < <(go list ./ftpd ./library ./internal/... | grep -v -E '/internal/(childproc|netlab)$')
echo "== go test under qemu-aarch64-static"
check "go test (arm64, emulated) ./ftpd ./library ./internal/... but childproc, netlab" \
	env GOARCH=arm64 CGO_ENABLED=0 go test -count=1 -exec qemu-aarch64-static -skip "$skip" "${pkgs[@]}"
echo "== go test under qemu-arm-static -cpu arm1176"
check "go test (ARMv6, emulated) ./ftpd ./library ./internal/... but childproc, netlab" \
	env GOARCH=arm GOARM=6 CGO_ENABLED=0 go test -count=1 -exec "qemu-arm-static -cpu arm1176" -skip "$skip" "${pkgs[@]}"

# --- 6. Under a real systemd ------------------------------------------------

# Here systemd is not PID 1, so the unit's sandbox and the scripts' systemd
# branch are proven in a container that boots one: a minimal Debian of this
# machine's release, with a network namespace of its own (loopback only,
# so nothing it announces leaves it).
echo "== under systemd, in a systemd-nspawn container"
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
os=$tmp/os
# The mirror is the one this machine's apt uses (MIRROR overrides it); with
# none found, debootstrap's own default.
mirror=${MIRROR:-$({
	grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
	grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
} | grep -v -- '-security' | head -n 1 || true)}
if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,adduser,curl \
	"$suite" "$os" ${mirror:+"$mirror"} >"$tmp/debootstrap.log" 2>&1; then
	tail -20 "$tmp/debootstrap.log"
	fatal "debootstrap $suite"
fi
cp "$deb_amd64" "$os/root/"
systemd-nspawn --quiet --directory="$os" --boot --private-network --register=no --keep-unit \
	--console=passive --machine=mediaftpd-test >"$tmp/nspawn.log" 2>&1 &
nspawn=$!
# in_os CMD...: run CMD in the container (all its namespaces).
in_os() {
	nsenter --target "$leader" --all "$@"
}
leader=""
for _ in $(seq 100); do
	leader=$(pgrep -P "$nspawn" | head -1) && break
	sleep 0.1
done
[ -n "$leader" ] || {
	cat "$tmp/nspawn.log"
	fatal "systemd-nspawn started no container"
}
booted() {
	case $(in_os systemctl is-system-running 2>/dev/null) in
	running | degraded) return 0 ;;
	*) return 1 ;;
	esac
}
# Booting systemd takes seconds, but far longer when CI runs the
# emulated ARM tests and the fuzzers on the same CPUs: up to 2 minutes.
tries=600 wait_until "container booted systemd" booted || {
	cat "$tmp/nspawn.log"
	fatal "container did not boot"
}

# As the README says: apt install ./mediaftpd_*.deb.
if in_os sh -c 'cd /root && apt-get install -y -q ./mediaftpd_*_amd64.deb' >"$tmp/os-install.txt" 2>&1; then
	ok "systemd: apt install ./mediaftpd_*.deb"
else
	cat "$tmp/os-install.txt"
	fail "systemd: apt install ./mediaftpd_*.deb"
fi
check "systemd: postinst output has no error" not grep -Ei 'error|cannot|warning' "$tmp/os-install.txt"
check "systemd: service enabled" test "$(in_os systemctl is-enabled mediaftpd)" = enabled
wait_until "systemd: service started on install" in_os systemctl is-active --quiet mediaftpd || true
main_pid() {
	in_os systemctl show --property=MainPID --value mediaftpd
}
pid1=$(main_pid)
status=$(in_os cat "/proc/$pid1/status" || true)
check "systemd: runs as mediaftpd" test "$(in_os stat -c %U "/proc/$pid1")" = mediaftpd
check "systemd: only CAP_NET_BIND_SERVICE (effective, bounding)" \
	grep -qzE 'CapEff:\s+0000000000000400.*CapBnd:\s+0000000000000400' <<<"$status"
check "systemd: no new privileges, seccomp filter on" \
	grep -qzE 'NoNewPrivs:\s+1.*Seccomp:\s+2' <<<"$status"
head -c 2000000 /dev/urandom >"$os/srv/media/clip.bin"
fetch_in_os() {
	in_os curl -sS --max-time 20 "$1" | cmp -s - "$2"
}
wait_until "systemd: download from port 21 in the sandbox" fetch_in_os ftp://127.0.0.1/Media/clip.bin "$os/srv/media/clip.bin" || true
if in_os systemd-analyze security --threshold=30 mediaftpd >"$tmp/os-security.txt" 2>&1; then
	ok "systemd: systemd-analyze security (running unit) at most 3.0"
else
	fail "systemd: systemd-analyze security (running unit) at most 3.0"
fi
tail -1 "$tmp/os-security.txt"

check "systemd: status page answers on port 8021" \
	grep -qF "\"version\":\"$version\"" <(in_os curl -sS --max-time 5 http://127.0.0.1:8021/api/status)

# The admin password, set as the README says (run as root, it keeps the
# file the service's).
if printf '%s\n' 'test-password-1' | in_os mediaftpd passwd -config /etc/mediaftpd/config.yaml >/dev/null; then
	ok "systemd: mediaftpd passwd"
else
	fail "systemd: mediaftpd passwd"
fi
check "systemd: config still the service's, 0640, after passwd" \
	test "$(in_os stat -c '%U:%G %a' /etc/mediaftpd/config.yaml)" = "mediaftpd:mediaftpd 640"
in_os systemctl restart mediaftpd
# A USB disk, then a share of it added on the status page: the sandboxed
# service saves it to its config file.
in_os mkdir -p /media/usb
in_os mount -t tmpfs usb /media/usb
in_os mkdir /media/usb/Movies
in_os cp /srv/media/clip.bin /media/usb/Movies/film.mkv
api() { # api METHOD PATH [JSON [CSRF-TOKEN]]
	in_os curl -sS --max-time 10 -b /root/cookies -c /root/cookies -X "$1" \
		-H 'Content-Type: application/json' ${4:+-H "X-CSRF-Token: $4"} ${3:+-d "$3"} \
		-w '\n%{http_code}\n' "http://127.0.0.1:8021$2"
}
logged_in() {
	api POST /api/login '{"password":"test-password-1"}' >"$tmp/login.txt" && grep -qx 200 "$tmp/login.txt"
}
wait_until "systemd: admin login on the status page" logged_in || true
token=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$tmp/login.txt")
api POST /api/shares '{"name":"Movies","path":"/media/usb/Movies"}' "$token" >"$tmp/share.txt" || true
check "systemd: share added on the status page (201, saved)" \
	grep -qzE '"saved":true.*201' "$tmp/share.txt"
check "systemd: the service saved it to its config" grep -q '^    path: /media/usb/Movies$' "$os/etc/mediaftpd/config.yaml"
check "systemd: config still the service's, 0640, after saving" \
	test "$(in_os stat -c '%U:%G %a' /etc/mediaftpd/config.yaml)" = "mediaftpd:mediaftpd 640"
wait_until "systemd: the new share is served" fetch_in_os ftp://127.0.0.1/Movies/film.mkv "$os/srv/media/clip.bin" || true

# A disk mounted after the service started reaches its sandbox.
in_os systemctl stop mediaftpd
in_os umount /media/usb
in_os systemctl start mediaftpd
in_os mount -t tmpfs usb /media/usb
in_os mkdir /media/usb/Movies
in_os cp /srv/media/clip.bin /media/usb/Movies/film.mkv
wait_until "systemd: a disk mounted later is served" fetch_in_os ftp://127.0.0.1/Movies/film.mkv "$os/srv/media/clip.bin" || true

pid2=$(main_pid)
check "systemd: dpkg -i again (upgrade)" quiet in_os dpkg -i "/root/$(basename "$deb_amd64")"
restarted() {
	local p
	p=$(main_pid)
	[ "$p" != 0 ] && [ "$p" != "$pid2" ] && in_os systemctl is-active --quiet mediaftpd
}
wait_until "systemd: restarted on upgrade" restarted || true
in_os systemctl stop mediaftpd
in_os umount /media/usb
rm -f "$os/srv/media/clip.bin"
check "systemd: dpkg -r" quiet in_os dpkg -r mediaftpd
check "systemd: stopped on remove" not in_os systemctl is-active --quiet mediaftpd
check "systemd: dpkg -P" quiet in_os dpkg -P mediaftpd
check "systemd: purge removed the user" not in_os getent passwd mediaftpd
check "systemd: purge removed /etc/mediaftpd and the empty /srv/media" \
	in_os sh -c '! test -e /etc/mediaftpd && ! test -e /srv/media'
