// Package gena is UPnP eventing (GENA, UPnP Device Architecture 1.1
// section 4) for one service: control points subscribe on the service's
// eventSubURL and get NOTIFY requests with the evented state variables.
//
// # Subscriptions
//
// [Publisher.ServeHTTP] answers on the eventSubURL:
//   - SUBSCRIBE with CALLBACK: <url>... and NT: upnp:event subscribes.
//     TIMEOUT: Second-N asks for N seconds, capped at
//     [Publisher.MaxTimeout] (default 1800 s); infinite, a missing or a
//     malformed TIMEOUT get the cap. The answer is 200 with SID:
//     uuid:... and TIMEOUT: Second-N.
//   - SUBSCRIBE with SID and neither NT nor CALLBACK renews, with a new
//     TIMEOUT counted from now.
//   - UNSUBSCRIBE with SID ends a subscription.
//   - SID together with NT or CALLBACK gets 400 Bad Request; a missing NT
//     or one other than upnp:event, a missing or unusable CALLBACK, and a
//     missing, unknown or expired SID get 412 Precondition Failed, as UDA
//     says. Other methods get 405.
//
// # CallStranger (CVE-2020-12695)
//
// A CALLBACK that points at another host turns a server into a reflector
// for floods or an exfiltration channel. So every URL of a CALLBACK must be
// http://, have an IP address as its host (no name to resolve), and that
// address must be the subscriber's own: the source address of the
// SUBSCRIBE (an IPv4-mapped IPv6 source compared as IPv4, zones ignored).
// Otherwise the SUBSCRIBE gets 412. NOTIFYs then go to that source
// address itself (with its zone) and the callback's port and path, and
// redirects are not followed.
//
// Subscriptions are limited to [Publisher.MaxPerAddr] per source address
// (default 8) and [Publisher.MaxTotal] in all (default 64). A SUBSCRIBE
// past a limit gets 503 Service Unavailable: UDA's answer for a publisher
// without the resources to accept one. Renewals are not limited.
//
// # Events
//
// Right after the answer to a new subscription has been flushed, the
// initial event goes out with SEQ 0 and every variable [Publisher.State]
// returns; [Publisher.Publish] then queues one event for every subscriber,
// with SEQ rising by one per event and subscriber (after 4294967295 it
// wraps to 1, as UDA says). A NOTIFY is
//
//	NOTIFY <callback path> HTTP/1.1
//	HOST: <subscriber>:<port>
//	CONTENT-TYPE: text/xml; charset="utf-8"
//	NT: upnp:event
//	NTS: upnp:propchange
//	SID: uuid:...
//	SEQ: <n>
//
//	<?xml version="1.0" encoding="utf-8"?>
//	<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Name>value</Name></e:property>...</e:propertyset>
//
// Each subscriber's events go out one at a time, in order, by a goroutine
// that runs only while it has events queued. A NOTIFY is tried on the
// callback URLs in order until one answers 200; each try may take
// notifyTimeout (3 s), connection included. An event that no URL took is
// not sent again (the gap in SEQ tells the subscriber); after
// maxFailures (3) such events in a row the subscription is dropped, at
// once when the subscriber answers 412 (it does not know the SID), and
// also when more than maxQueue (32) events wait for it. Expired
// subscriptions are dropped when seen, and at least every sweepEvery
// (30 s) while [Publisher.Run] runs.
package gena
