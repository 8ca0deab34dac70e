// Package library owns the set of shares: the folders mediaftpd exports,
// each under a name that is the first component of its virtual paths
// ("/Movies/Film.mkv" is Film.mkv in the share named Movies).
//
// The FTP server resolves every path through a Set, so shares added or
// removed at run time take effect for the next command. Each share's folder
// is reached through an os.Root, so no path can leave it.
package library
