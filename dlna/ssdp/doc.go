// Package ssdp announces mediaftpd's DLNA media server on the local
// network with SSDP (UPnP Device Architecture 1.1, section 1), so that a
// TV's own media player lists it as a source, and answers the TV's
// searches for it. It speaks IPv4 only, on 239.255.255.250:1900.
//
// A [Server] announces one root device: its UDN, its device type and its
// service types (for mediaftpd MediaServer:1 with ContentDirectory:1,
// ConnectionManager:1 and X_MS_MediaReceiverRegistrar:1).
//
// # What it does on the wire
//
//   - Interfaces: every interface that is up, multicast-capable, not
//     loopback and has an IPv4 address (or the named ones), found with
//     internal/netif and polled every PollInterval as discovery does.
//   - NOTIFY ssdp:alive for upnp:rootdevice, the UUID, the device type
//     and each service type (USN "uuid:X::type"), with HOST,
//     CACHE-CONTROL max-age, LOCATION, NT, NTS, SERVER, USN,
//     BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG. Each set goes out twice,
//     100-250 ms apart (UDP may lose one; MiniDLNA does the same), when an
//     interface is first used and every NotifyInterval after (60 s:
//     Samsung and LG TVs list only servers they heard from recently). An
//     interface that appears, or whose IPv4 addresses change, is announced
//     at once (alive only: a byebye is not needed to move a LOCATION).
//     The LOCATION in a NOTIFY is the interface's first IPv4 address that
//     is not link-local (169.254/16), or a link-local one when that is all
//     it has.
//   - M-SEARCH (1.3.2) must be "M-SEARCH * HTTP/1.1" with HOST, MAN
//     "ssdp:discover" and ST; sent to the group it must also carry MX,
//     decimal seconds. ssdp:all gets one reply per notification type;
//     upnp:rootdevice, our UUID, our device type and each service type
//     one reply. A search for a lower version of a type we have is
//     answered, with the version searched for in ST and USN, as 1.3.2
//     requires ("the response MUST specify the same version as was
//     contained in the search request"); a higher version is not.
//   - Replies wait a random delay below MX, each reply of an ssdp:all on
//     its own, with MX capped at 5 s. MX 0 means no delay (UDA 1.1 asks
//     for at least 1, but MiniDLNA answers 0 and dms once crashed on it);
//     a missing, negative or non-numeric MX gets no answer.
//   - Decision on unicast searches: an M-SEARCH sent to one of our own
//     addresses on port 1900 (UDA 1.1 allows this; the control point then
//     sends no MX) is answered at once, whatever its MX says.
//   - The reply is a unicast "HTTP/1.1 200 OK" out of the interface the
//     search came in on, with CACHE-CONTROL, DATE, EXT, LOCATION, SERVER,
//     ST, USN, BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG. Its LOCATION is the
//     address the search was sent to if it was unicast; otherwise the
//     interface's address on the searcher's subnet (IP_PKTINFO tells the
//     interface), then its first address that is not link-local, then a
//     link-local one.
//   - ssdp:byebye for every notification type on every interface where
//     alive went out, twice, when Run's context ends.
//   - BOOTID.UPNP.ORG is the Unix time Run started and stays the same
//     for the whole run; ssdp:update (1.2.4) is not sent. SERVER says
//     UPnP/1.0, so UDA 1.0 control points treat us as one of theirs and
//     ignore the UDA 1.1 headers.
//
// # Hostile input
//
//   - Only sources Allow accepts get anything (by default private,
//     link-local and loopback addresses); the others are dropped without
//     a word and counted.
//   - Malformed datagrams (over 8 KiB, more than 64 header fields,
//     control characters, folded lines, a header among HOST, MAN, MX, ST,
//     NT, NTS and USN twice, an M-SEARCH without what it needs) are
//     dropped and counted, never answered and never a panic (FuzzParse).
//   - A flood of searches stays bounded: a second search from the same
//     socket for a target whose reply is still queued is collapsed into
//     it; a source address may queue 60 replies at once and 20 a second
//     after (a generic cell rate limiter), at most 60 replies wait per
//     source and 512 in all, and at most 1024 sources are remembered. The
//     receive queue holds 64 datagrams; more are dropped. One goroutine
//     reads the socket and Run's goroutine does the rest, whatever
//     arrives. Dropped packets are logged at debug level at most once
//     every 10 s per reason.
//
// # Structure
//
// The protocol logic (engine.go) has no sockets and no clock: it is fed
// interface lists, datagrams, the time and a random source, and its
// output is a list of datagrams, so its tests need no network. Run
// (server.go) drives it through an internal/mcast Loop, shared with mDNS
// (the interfaces polled with internal/netif, problems reported once, the
// timers), with the real socket (transport.go, an mcast.Conn). The
// integration tests run the server and real control points (gssdp-discover
// and a Go client) in network namespaces that they create; SSDP is never
// sent in the test machine's own network namespace.
package ssdp
