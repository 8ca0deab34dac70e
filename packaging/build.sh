#!/usr/bin/env bash
# packaging/build.sh [VERSION]: build mediaftpd's release files into dist/.
#
# For amd64, arm64 and armhf (GOARM=6: every Raspberry Pi, from the Zero and
# the 1 to the 5, on Raspberry Pi OS 32-bit) it builds a static binary
# (CGO_ENABLED=0, -trimpath, VERSION embedded so `mediaftpd -version` prints
# it) and from it
#   dist/mediaftpd_VERSION_ARCH.deb              for Debian, Ubuntu, Raspberry Pi OS
#   dist/mediaftpd-VERSION-linux-GOARCH.tar.gz   for other Linux systems
# and lists their SHA-256 sums in dist/SHA256SUMS.
#
# VERSION defaults to one derived from git: 1.2.3 at the tag v1.2.3,
# 1.2.3+git4.gabc1234 four commits after it, 0.0.0+git10.gabc1234 before the
# first tag, with ".dirty" added for uncommitted changes.
#
# Needs Linux with GNU tools, go, and dpkg-deb. The .deb files are made with dpkg-deb,
# Debian's own tool (part of dpkg, so present wherever apt is), from the
# tree this script lays out: nothing to download, and no packaging tool in
# the product's go.mod. The output depends only on the source and VERSION:
# every file's time is SOURCE_DATE_EPOCH (default: the commit's time).
#
# Environment: DIST (output folder, default dist/ at the top of the
# repository), MAINTAINER (the packages' Maintainer field).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
DIST=${DIST:-$top/dist}
MAINTAINER=${MAINTAINER:-mediaftpd maintainers <maintainers@mediaftpd.invalid>}

die() {
	echo "build.sh: $*" >&2
	exit 1
}

for tool in go dpkg-deb tar gzip; do
	command -v "$tool" >/dev/null ||
		die "$tool is needed (dpkg-deb is part of Debian's dpkg)"
done

# git_version prints the version git describes, as explained above.
git_version() {
	local desc tag count hash dirty=""
	git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
		die "not a git checkout: give the VERSION, like build.sh 1.2.3"
	if [ -n "$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		dirty=.dirty
	fi
	hash=$(git -C "$top" rev-parse --short=7 HEAD)
	if desc=$(git -C "$top" describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
		# v1.2.3-4-gabc1234
		tag=${desc%-*-g*}
		count=${desc#"$tag"-}
		count=${count%%-*}
		# v1.2.3-rc1 is 1.2.3~rc1: Debian sorts it before 1.2.3.
		tag=${tag#v}
		tag=${tag//-/\~}
		if [ "$count" = 0 ]; then
			echo "$tag${dirty:++dirty}"
		else
			echo "$tag+git$count.g$hash$dirty"
		fi
	else
		echo "0.0.0+git$(git -C "$top" rev-list --count HEAD).g$hash$dirty"
	fi
}

version=${1:-$(git_version)}
version=${version#v}
# A Debian version without a revision (no "-"): this is the upstream
# package itself.
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
	die "VERSION must start with a digit and hold only letters, digits and . + ~ (got \"$version\")"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
commit=$(git -C "$top" rev-parse --short=7 HEAD 2>/dev/null || echo unknown)

umask 022
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$DIST"

# --- Files shared by every architecture --------------------------------------

# changelog: the entries of packaging/debian/changelog up to VERSION. A
# VERSION without an entry (a build between releases) gets one on top that
# says so, above the entries of lower versions.
changelog() {
	local entries="$work/entries" v found=""
	mkdir -p "$entries"
	# One file per entry, named by its order.
	awk -v dir="$entries" '
		/^mediaftpd \(/ { n++ }
		n { print > (dir "/" sprintf("%04d", n)) }
	' "$here/debian/changelog"
	for f in "$entries"/*; do
		[ -e "$f" ] || continue
		v=$(sed -n '1s/^mediaftpd (\([^)]*\)).*/\1/p' "$f")
		if [ "$v" = "$version" ]; then
			found=1
		fi
	done
	local kept="$work/kept" when=$SOURCE_DATE_EPOCH prev
	: >"$kept"
	for f in "$entries"/*; do
		[ -e "$f" ] || continue
		v=$(sed -n '1s/^mediaftpd (\([^)]*\)).*/\1/p' "$f")
		if dpkg --compare-versions "$v" le "$version"; then
			cat "$f" >>"$kept"
		fi
	done
	if [ -z "$found" ]; then
		# Dated after the entry below it, as a changelog must be.
		prev=$(sed -n 's/^ -- .*>  //p' "$kept" | head -1)
		if [ -n "$prev" ] && [ "$(date -d "$prev" +%s)" -ge "$when" ]; then
			when=$(($(date -d "$prev" +%s) + 1))
		fi
		printf 'mediaftpd (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Build of git commit %s, not a release.\n\n' "$commit"
		printf ' -- %s  %s\n\n' "$MAINTAINER" "$(date -u -R -d "@$when")"
	fi
	cat "$kept"
}
changelog >"$work/changelog"

# license_name guesses the Debian short name of the license text in file $1.
license_name() {
	if grep -q 'Apache License' "$1" && grep -q 'Permission is hereby granted, free of charge' "$1"; then
		echo "Expat and Apache-2.0"
	elif grep -q 'Apache License' "$1"; then
		echo "Apache-2.0"
	elif grep -q 'Permission is hereby granted, free of charge' "$1"; then
		echo "Expat"
	elif grep -q 'Neither the name' "$1"; then
		echo "BSD-3-clause"
	elif grep -q 'Redistribution and use in source and binary forms' "$1"; then
		echo "BSD-2-clause"
	else
		echo "other"
	fi
}

# license_stanza FILES-PATTERN LICENSE-FILE [NOTICE-FILE] prints one
# copyright-format paragraph with the license text in it.
license_stanza() {
	local holder
	# The first "Copyright [(c)|©] YEAR HOLDER" line, without the word.
	holder=$(grep -m1 -i '^ *copyright\( *(c)\| *©\)* *[0-9]' "$2" |
		sed -e 's/^ *copyright\( *(c)\| *©\)* *//I' -e 's/[[:space:]]*$//') || true
	printf '\nFiles: %s\n' "$1"
	printf 'Copyright: %s\n' "${holder:-see the license text below}"
	printf 'License: %s\n' "$(license_name "$2")"
	# Text lines are indented by one space, empty lines are " .".
	cat "$2" ${3:+"$3"} | sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /'
	if [[ $(license_name "$2") == *Apache-2.0* ]]; then
		printf ' .\n On Debian systems, the Apache License 2.0 is also in\n /usr/share/common-licenses/Apache-2.0.\n'
	fi
}

# copyright: packaging/debian/copyright, then the license of Go and of
# every module compiled into the binary (the same modules on every
# architecture: golang.org/x/sys covers them all).
copyright() {
	cat "$here/debian/copyright"
	license_stanza "go/src/*" "$(go env GOROOT)/LICENSE"
	(cd "$top" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go list -deps \
		-f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Dir}}{{end}}{{end}}' ./cmd/mediaftpd) |
		sort -u | while read -r path dir; do
		lic=""
		for name in LICENSE LICENSE.txt LICENSE.md COPYING; do
			if [ -f "$dir/$name" ]; then
				lic=$dir/$name
				break
			fi
		done
		[ -n "$lic" ] || die "module $path has no LICENSE file in $dir"
		notice=""
		[ -f "$dir/NOTICE" ] && notice=$dir/NOTICE
		license_stanza "$path/*" "$lic" "$notice"
	done
}
copyright >"$work/copyright"

gzip -9n <"$work/changelog" >"$work/changelog.gz"
gzip -9n <"$top/README.md" >"$work/README.md.gz"
gzip -9n <"$here/mediaftpd.1" >"$work/mediaftpd.1.gz"

# --- Per architecture ----------------------------------------------------------

# build DEBARCH GOARCH GOARM TARNAME
build() {
	local debarch=$1 goarch=$2 goarm=$3 tarname=$4
	local out="$work/$debarch" pkg="$work/$debarch/pkg" bin="$work/$debarch/mediaftpd"
	local deb="$DIST/mediaftpd_${version}_$debarch.deb"
	local tgz="$DIST/mediaftpd-$version-linux-$tarname.tar.gz"
	mkdir -p "$out"

	echo "building $debarch (GOARCH=$goarch${goarm:+ GOARM=$goarm})"
	(cd "$top" && CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
		go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=$version" \
		-o "$bin" ./cmd/mediaftpd)

	# The package's tree, laid out as it is installed.
	install -D -m 0755 "$bin" "$pkg/usr/bin/mediaftpd"
	install -D -m 0644 "$here/mediaftpd.service" "$pkg/lib/systemd/system/mediaftpd.service"
	install -D -m 0644 "$here/config.yaml" "$pkg/etc/mediaftpd/config.yaml"
	install -D -m 0644 "$here/sysctl.conf" "$pkg/usr/lib/sysctl.d/60-mediaftpd.conf"
	install -D -m 0644 "$work/copyright" "$pkg/usr/share/doc/mediaftpd/copyright"
	install -D -m 0644 "$work/changelog.gz" "$pkg/usr/share/doc/mediaftpd/changelog.gz"
	install -D -m 0644 "$work/README.md.gz" "$pkg/usr/share/doc/mediaftpd/README.md.gz"
	install -D -m 0644 "$top/internal/config/example.yaml" "$pkg/usr/share/doc/mediaftpd/examples/config.yaml"
	install -D -m 0644 "$work/mediaftpd.1.gz" "$pkg/usr/share/man/man1/mediaftpd.1.gz"
	install -D -m 0644 "$here/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/mediaftpd"

	# The control area.
	install -d -m 0755 "$pkg/DEBIAN"
	install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$pkg/DEBIAN/"
	install -m 0644 "$here/debian/conffiles" "$pkg/DEBIAN/conffiles"
	# md5sums of every file but the conffiles, which dpkg tracks itself.
	(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
		grep -vxF -f <(sed 's,^/,,' DEBIAN/conffiles) | xargs md5sum) >"$pkg/DEBIAN/md5sums"
	chmod 0644 "$pkg/DEBIAN/md5sums"
	local size
	size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
	local control
	control=$(<"$here/debian/control")
	control=${control//@VERSION@/$version}
	control=${control//@ARCH@/$debarch}
	control=${control//@SIZE@/$size}
	control=${control//@MAINTAINER@/$MAINTAINER}
	printf '%s\n' "$control" >"$pkg/DEBIAN/control"
	chmod 0644 "$pkg/DEBIAN/control"

	find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null

	# The archive for other systems: the same files, in one folder.
	local name="mediaftpd-$version-linux-$tarname" t="$out/tar"
	mkdir -p "$t/$name"
	install -m 0755 "$bin" "$t/$name/mediaftpd"
	install -m 0644 "$here/mediaftpd.service" "$here/config.yaml" "$here/mediaftpd.1" "$top/README.md" "$t/$name/"
	install -m 0644 "$here/sysctl.conf" "$t/$name/60-mediaftpd.conf"
	install -m 0644 "$work/copyright" "$t/$name/LICENSES"
	find "$t" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	tar -C "$t" --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -cf - "$name" |
		gzip -9n >"$tgz"

	echo "  $deb"
	echo "  $tgz"
}

build amd64 amd64 "" amd64
build arm64 arm64 "" arm64
build armhf arm 6 armv6

(cd "$DIST" && sha256sum "mediaftpd_${version}_"*.deb "mediaftpd-$version-linux-"*.tar.gz >SHA256SUMS)
echo "  $DIST/SHA256SUMS"
