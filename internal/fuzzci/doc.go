// Package fuzzci runs every native fuzz target of the module for a while
// under CI (CI=true), so that .ci/run stays a plain "go test -race ./..."
// and CI still fuzzes. It holds no code, only TestFuzzTargets.
package fuzzci
