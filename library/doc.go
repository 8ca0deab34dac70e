// Package library owns the set of shares and their live index: the folders
// mediaftpd exports, each under a name that is the first component of its
// virtual paths ("/Movies/Film.mkv" is Film.mkv in the share named Movies),
// and what is in them.
//
// # Shares
//
// The FTP server resolves every path through a [Set], so shares added,
// removed or renamed at run time take effect for the next command. Each
// share's folder is reached through an [os.Root], so no path can leave it.
//
// # The index
//
// [Set.Run] indexes each share: it scans the folder (several folders at a
// time, while FTP is served) and then watches it with inotify (through
// github.com/fsnotify/fsnotify), or rescans it periodically when
// [Set.SetRescanInterval] says so or when it cannot be watched. Per share
// the index counts files, folders, bytes and files by [Kind]; [Set.Status]
// returns those counts with the share's [State], [Set.Recent] the files
// added last, and [Set.Subscribe] tells when either changes.
//
// The index counts what an FTP client sees: names starting with a dot are
// left out, only regular files and folders count, and a symlink counts as
// what it points to when that stays inside the share. A folder reached
// twice (through a symlink to a folder inside the share, or a bind mount)
// counts once, where it really is.
//
// Watching is recursive: inotify watches single folders, so every folder
// gets a watch, and a folder that appears is watched before it is read,
// so files made in it meanwhile are found either way. A changed path is
// looked at after it has been quiet for [Set.Settle], so a file being
// copied is counted once, with its final size; a burst of events keeps one
// pending entry per path. Files are counted when a scan or a settled change
// finds them through the share's os.Root, never by trusting an event alone.
//
// When the system's inotify watch limit (fs.inotify.max_user_watches) is
// reached, the log says once how to raise it and the share is rescanned
// every [Set.FallbackRescan] instead, which its status says. Lost events
// (the kernel's queue overflowed) cause a rescan. A share whose folder
// disappears (a USB disk unplugged) goes offline and comes back with the
// folder, checked every [Set.OfflineCheck]; other shares carry on.
//
// The index holds, per file, its name, size and time added (32 bytes and
// the name), in a tree of folders whose children are sorted slices: no map
// keyed by path. BenchmarkInitialScan measures it at about 90 bytes of
// heap per file, folders included, for 100,000 files named like
// "Show 042 S07 E13 - Episode Title 12.mkv" in 5,000 folders.
//
// # Kinds
//
// A file's kind is told by its name's extension, without regard to case:
//
//	| kind  | extensions                                                      |
//	|-------|-----------------------------------------------------------------|
//	| video | 3g2 3gp asf avi divx f4v flv m2t m2ts m2v m4v mk3d mkv mov mp4  |
//	|       | mpe mpeg mpg mts ogv qt rm rmvb ts vob webm wmv                 |
//	| audio | aac ac3 aif aifc aiff alac ape dff dsf dts flac m4a m4b mka mp2 |
//	|       | mp3 mpc oga ogg opus wav wma wv                                 |
//	| image | arw avif bmp cr2 cr3 dng gif heic heif jpeg jpg jxl nef orf png |
//	|       | raf rw2 tif tiff webp                                           |
//	| other | anything else: subtitles (srt, ass), .nfo, .iso, ...            |
//
// ts is an MPEG transport stream (a TV recording), not TypeScript; m4b is an
// audiobook; arw, cr2, cr3, dng, nef, orf, raf and rw2 are cameras' raw
// photos. Disc images (.iso) count as other: they are not always video.
package library
