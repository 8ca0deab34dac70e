// Package discovery advertises mediaftpd on the local network with
// multicast DNS (RFC 6762) and DNS service discovery (RFC 6763), so that
// Kodi, VLC (its microdns, avahi and bonjour modules), GNOME Files (gvfs)
// and any Bonjour browser list "Living Room Media" without anyone typing
// an address.
//
// An [Advertiser] announces the FTP service as _ftp._tcp with TXT
// "path=/" (no "u" or "p": logins are anonymous) and, when the status page
// is on, _http._tcp with "path=/", both under the friendly name.
//
// # What it does on the wire
//
//   - Probing (8.1): three probes 250 ms apart for the instance names and
//     the host name before anything is announced; a name that another
//     device answers for is renamed, "Living Room Media (2)" or
//     "<host>-2", and the rename is logged. Simultaneous probes are
//     settled by the lexicographic tiebreak of 8.2.
//   - Announcing (8.3): three unsolicited responses, 1 s then 2 s apart,
//     the unique records with the cache-flush bit.
//   - Answering: PTR, SRV, TXT, A, AAAA and ANY questions, and the
//     service-type enumeration _services._dns-sd._udp (RFC 6763 9). A PTR
//     answer carries the SRV, TXT and address records in the same packet
//     as additional records (RFC 6763 12.1): VLC's microdns and zeroconf's
//     browser use only what one packet holds, and take the first address,
//     so A records come before AAAA.
//   - Addresses per interface (6.2): an answer leaving by an interface
//     lists only that interface's addresses. IPv6 link-local addresses are
//     never advertised (they need a zone the client does not have).
//   - Unicast replies: legacy one-shot queries from a port other than 5353
//     (6.7: ID and question echoed, TTL capped at 10 s), queries with the
//     QU bit (5.4) and queries sent to our unicast address (5.5), only to
//     on-link sources (11).
//   - Known-answer suppression (7.1), a one-second rate limit per record
//     and link for multicast answers (6), and a random 20-120 ms delay for
//     answers with shared PTR records.
//   - Goodbyes (10.1): when Run's context ends, every record is sent again
//     with TTL 0, so browsers drop the entry at once.
//   - Interfaces are polled every PollInterval (2 s): one that comes up or
//     gets its first address (a Pi getting its DHCP lease after boot) is
//     probed and announced; an address change is re-announced with the
//     cache-flush bit.
//
// Both IPv4 (224.0.0.251) and IPv6 (ff02::fb) are used where the
// interface has them; the sockets share port 5353 (SO_REUSEADDR) with
// avahi-daemon if it runs on the same machine. The host name in the SRV
// records is "<hostname>-mediaftpd.local" by default, not the
// "<hostname>.local" that avahi-daemon owns on Raspberry Pi OS: two
// responders publishing different address sets for one name would make
// each other's records look like conflicts, and our goodbyes would
// withdraw avahi's addresses.
//
// # Why not github.com/grandcat/zeroconf's server
//
// The responder is written here on github.com/miekg/dns and
// golang.org/x/net/ipv4 and ipv6. zeroconf v1.0.0 (the version available)
// was read first; its Server fails several of the requirements above:
//
//   - Register collects the addresses of all interfaces once and answers
//     with all of them on every interface, against RFC 6762 6.2: a phone
//     on Wi-Fi is told the Ethernet address too, and may try it first.
//   - With no global IPv6 address it advertises the link-local one.
//   - Addresses are fixed at Register: a Pi that gets its DHCP lease
//     after the service started is never advertised correctly (Register
//     even fails when there is no address yet), nor after Wi-Fi
//     reconnects with a new address.
//   - There is no probing or conflict resolution (a TODO in its source):
//     a second "Living Room Media" silently collides.
//   - It ignores the question type, answering every question about an
//     instance with PTR, SRV, TXT and the enumeration PTR, one packet per
//     question; it does not answer A/AAAA questions for its own host name;
//     and it never answers legacy unicast queries (source port not 5353),
//     replying by multicast to a querier that is not listening there.
//   - It uses the machine's host name as the SRV target, so on a Pi with
//     avahi-daemon its goodbyes on shutdown withdraw avahi's address
//     records for that name.
//   - It logs through the standard log package, not a passed slog.Logger.
//
// zeroconf's Resolver (its browser) is still used, by the tests, as one
// of the clients the advertisement must satisfy.
//
// # Structure
//
// The protocol logic (engine.go) has no sockets and no clock: it is fed
// interface lists, packets and the time, and its output is a list of
// packets, so its tests need no network. Run (advertiser.go) drives it
// through an internal/mcast Loop, shared with SSDP (the interfaces polled
// with internal/netif, problems reported once, the timers), with the real
// sockets (transport.go, made of mcast.Conn).
// The integration tests run the responder and real browsers in network
// namespaces that they create; mDNS is never sent in the test machine's
// own network namespace.
package discovery
