// Package packaging holds the Debian packaging of mediaftpd: build.sh makes
// the .deb and .tar.gz files for amd64, arm64 and armhf, and test.sh proves
// them (see its header). This Go package has no code of its own: its test
// runs test.sh, so that `go test ./...` covers the packages too.
package packaging
