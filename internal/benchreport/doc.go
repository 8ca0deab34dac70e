// Package benchreport holds what the bench commands (cmd/ftpbench,
// cmd/detailsbench) print the same way: figures with about three
// significant digits, medians, the Markdown table of medians against what
// they are compared with and their targets, and the description of the
// machine a bench ran on.
//
// Each command keeps its own figures, rows and header lines; this package
// only formats them. It holds no state.
package benchreport
