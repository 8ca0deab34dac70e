// Package dlna is the HTTP side of mediaftpd's DLNA Digital Media Server
// (DMS-1.50), which lets the built-in player of a Samsung, LG or Sony TV
// browse the shares and stream from them. Package dlna/ssdp advertises it;
// [Server] answers everything after that: the device description and its
// icons, the SOAP control and GENA eventing of ContentDirectory:1,
// ConnectionManager:1 and X_MS_MediaReceiverRegistrar:1, and the media
// files. Everything is answered from the live index ([Content], which
// *library.Set implements); nothing is written to a share.
//
// # Routes
//
//	GET  /description.xml                       the device description (DescriptionPath)
//	GET  /icons/{48,120}.{png,jpg}              the icons
//	GET  /scpd/<service>.xml                    the service descriptions
//	POST /control/<service>                     SOAP actions
//	SUBSCRIBE, UNSUBSCRIBE /event/<service>     GENA (package dlna/gena)
//	GET, HEAD /m/<share>/<path>                 a file, with byte ranges and DLNA headers (package dlna/media)
//	GET, HEAD /s/<share>/<path>                 a subtitle file
//	GET, HEAD /t/<share>/<path>.jpg             the JPEG_TN thumbnail of a file or folder (/t/<share>.jpg: a share's)
//
// where <service> is ContentDirectory, ConnectionManager or
// X_MS_MediaReceiverRegistrar, and each path component is percent-escaped
// (only ASCII letters, digits and "-._~" are kept), so the file's
// extension stays at the end of its URL. URLs sent to a client are built
// from the Host it reached the server by, so each network interface's
// clients get an address they can reach; the description needs no
// URLBase. Requests from addresses Server.Allow refuses get 403 on every
// route.
//
// # Objects
//
// The root "0" lists the shares that are online, in display order, and
// "Recently added" ("R", the files Content.Recent names, newest first).
// Object IDs are derived from the share name and path ("0/<share>/<path>",
// each component escaped as in URLs), so they are the same after a
// restart without any table, and names with "&", "<", quotes or invalid
// UTF-8 round-trip exactly. An empty ObjectID means "0", as Samsung TVs
// send it. Titles are file names without their extension, with invalid
// UTF-8 and control characters shown as U+FFFD.
//
// A TV sees what it can play: folders, and video, audio and image files
// (library.MediaFiles); a subtitle goes with its video (see Subtitles),
// and .nfo, .txt and the like are not listed. Browse lists a folder in the
// default order (folders first, then names in natural order, so
// "Episode 2" comes before "Episode 10") straight from Content.Children,
// in time proportional to the page; a SortCriteria
// on dc:title, dc:date or upnp:class sorts the folder first. Search walks
// the container's subtree and understands ContentDirectory:1's
// SearchCriteria grammar: "*", the relational operators, contains,
// doesNotContain, derivedfrom, exists, "and", "or" and parentheses.
//
// # Actions
//
// ContentDirectory: Browse, Search, GetSearchCapabilities,
// GetSortCapabilities, GetSystemUpdateID, and Samsung's X_GetFeatureList
// and X_SetBookmark. ConnectionManager: GetProtocolInfo,
// GetCurrentConnectionIDs, GetCurrentConnectionInfo (one connection, 0).
// X_MS_MediaReceiverRegistrar: IsAuthorized, IsValidated (always 1) and
// RegisterDevice.
//
// Errors are SOAP faults with HTTP status 500 carrying the UPnP error: 401
// Invalid Action (also for a body from which no action can be read), 402
// Invalid Args, 501 Action Failed, 701 No such object, 706 Invalid
// connection reference, 708 bad SearchCriteria, 709 bad SortCriteria, 710
// No such container, 720 Cannot process the request (a share still being
// indexed). A body over 64 KiB gets 413.
//
// # Refused on purpose
//
// CreateObject, DestroyObject, UpdateObject, MoveObject, ImportResource,
// ExportResource, DeleteResource, StopTransferResource and CreateReference
// all get 401 Invalid Action from one place: the server is read-only, and
// its SCPDs do not offer them.
//
// # DIDL-Lite
//
// Containers are object.container.storageFolder with childCount and
// searchable; items have dc:title, upnp:class, dc:date and a res with its
// protocolInfo (package media, for the client's quirks) and size.
//
// Media details (Server.Details: library.Prober, read from the store, one
// lookup per object of the page; nothing is probed during a Browse) add
// the res attributes duration ("H:MM:SS.mmm"), resolution ("WxH"),
// bitrate (bytes per second), nrAudioChannels and sampleFrequency. Songs
// (object.item.audioItem.musicTrack) get their tag title as dc:title and
// upnp:artist, dc:creator, upnp:album and upnp:originalTrackNumber; photos
// (object.item.imageItem.photo) get the time they were taken (EXIF, the
// wall clock as written) as dc:date, which sorting by dc:date uses too.
//
// Artwork (Server.Thumbs) is offered as upnp:albumArtURI with
// dlna:profileID="JPEG_TN" and, for items, as a second res of protocolInfo
// "http-get:*:image/jpeg:DLNA.ORG_PN=JPEG_TN;..." (LG webOS wants one),
// both pointing at /t/: a 160-pixel JPEG made on the first request from a
// video's or song's picture beside it (library.Artwork: "Film-poster.jpg",
// a lone film's or an album's "poster.jpg", "folder.jpg", "cover.jpg"), or
// else its embedded cover art, or else, for a video when Thumbs grabs
// frames (the config's "thumbnails: ffmpeg"), a frame of it grabbed by
// ffmpeg on the first request; from a photo itself (JPEG, PNG, GIF, WebP),
// or for a folder from its own picture (library.FolderArtwork). Only a
// thumbnail that can be made is offered (a video found to have no frame
// is no longer offered one). The names around each object are
// read from the index as for subtitles, so a page costs what it costs.
//
// A video's subtitles beside it or in a Subs folder (library.Subtitles)
// are offered as extra text/srt res to clients with quirks.SubtitleRes and
// as sec:CaptionInfoEx to those with quirks.CaptionInfoEx, and through the
// CaptionInfo.sec header to whoever asks; a subtitle that does not exist
// is never offered. A Samsung bookmark comes back as sec:dcmInfo
// "CREATIONDATE=0,FOLDER=<folder>,BM=<position>". A Filter of "*" or ""
// sends everything; a list sends the properties it names besides the
// required ones (a "res@..." attribute brings its res).
//
// # Eventing
//
// ContentDirectory's SystemUpdateID rises with every change Content.Watch
// reports, and ContainerUpdateIDs names the containers changed (each
// folder and its parent, the root for a share's own change, and "Recently
// added"), each with its own update ID; events go out at most every 2
// seconds, the first after a quiet spell at once. The counter's
// high-water mark is kept in Server.State, so it keeps rising across
// restarts.
//
// # Identity and state
//
// The UDN is made once and kept in Server.State (the store): from
// /etc/machine-id with an application-specific HMAC (as systemd's
// sd_id128_get_machine_app_specific), so the machine ID is not disclosed
// and each box gets its own, or at random without one. The serial number
// is derived from it. Samsung bookmarks (X_SetBookmark) are the store's
// resume positions, keyed by share and path and shared with the web
// player: a film stopped on the TV resumes there in a browser, and the
// other way round. Earlier versions kept the UDN, the update counter and
// the bookmarks in files of Server.StateDir (dlna-udn, dlna-updateid,
// dlna-bookmarks.json); they are taken over once and left in place, so an
// upgrade keeps the UDN TVs know.
package dlna
