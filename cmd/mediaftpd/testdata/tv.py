#!/usr/bin/python3
"""A TV-shaped DLNA control point for mediaftpd's tests, on GUPnP.

It finds a MediaServer by its friendly name on one interface, as a TV's own
media player does (SSDP, then the device description), and then does what
the test asks on stdin, one command a line:

    browse OBJECTID [START COUNT [SORT]]   BrowseDirectChildren
    meta OBJECTID                          BrowseMetadata
    search CONTAINER CRITERIA...           Search
    subscribe                              ContentDirectory events
    walk OBJECTID [SKIPID...]              the whole tree under OBJECTID, paged
    quit

Each result is printed as a line "EVENT {json}", which the Go test reads;
anything else it prints is log. Run it with Debian's /usr/bin/python3 and
the packages python3-gi, gir1.2-gupnp-1.6 and gir1.2-gupnp-av-1.0.
"""

import json
import sys

import gi

gi.require_version("GUPnP", "1.6")
gi.require_version("GUPnPAV", "1.0")
from gi.repository import GLib, GObject, GUPnP, GUPnPAV  # noqa: E402

MEDIA_SERVER = "urn:schemas-upnp-org:device:MediaServer:1"
CDS = "urn:schemas-upnp-org:service:ContentDirectory"


def emit(kind, **data):
    print("EVENT " + json.dumps({"kind": kind, "data": data}), flush=True)


def parse_didl(xml):
    """Returns the objects of a DIDL-Lite document, as GUPnPAV parses it."""
    out = []

    def on_object(parser, obj):
        o = {
            "id": obj.get_id(),
            "parent": obj.get_parent_id(),
            "title": obj.get_title(),
            "class": obj.get_upnp_class(),
            "container": isinstance(obj, GUPnPAV.DIDLLiteContainer),
            "res": [],
        }
        if o["container"]:
            o["child_count"] = obj.get_child_count()
        for r in obj.get_resources():
            pi = r.get_protocol_info()
            o["res"].append({
                "uri": r.get_uri(),
                "protocol_info": pi.to_string() if pi else "",
                "mime": pi.get_mime_type() if pi else "",
                "size": r.get_size64(),
                "duration": r.get_duration(),
            })
        # What GUPnPAV leaves out or rounds, read from the XML: the exact
        # duration, and what media details add.
        for i, attrs in enumerate(raw.get(o["id"], [])[:len(o["res"])]):
            o["res"][i]["duration_text"] = attrs.get("duration", "")
            o["res"][i]["resolution"] = attrs.get("resolution", "")
            o["res"][i]["bitrate"] = attrs.get("bitrate", "")
            o["res"][i]["channels"] = attrs.get("nrAudioChannels", "")
        for r, d in zip(obj.get_resources(), o["res"]):
            d["width"], d["height"] = r.get_width(), r.get_height()
        o["album_art"] = obj.get_album_art() or ""
        o["artist"] = obj.get_artist() or ""
        o["album"] = obj.get_album() or ""
        out.append(o)

    raw = raw_res(xml)
    parser = GUPnPAV.DIDLLiteParser.new()
    parser.connect("object-available", on_object)
    parser.parse_didl(xml)
    return out


def raw_res(xml):
    """Returns the attributes of the res elements of a DIDL-Lite document,
    in order, by object ID."""
    from xml.etree import ElementTree
    ns = "{urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/}"
    out = {}
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return out
    for el in root:
        out[el.get("id")] = [dict(r.attrib) for r in el.findall(ns + "res")]
    return out


class TV:
    def __init__(self, iface, name):
        self.name = name
        self.cds = None
        self.loop = GLib.MainLoop()
        self.ctx = GUPnP.Context.new(iface, 0)
        self.cp = GUPnP.ControlPoint.new(self.ctx, MEDIA_SERVER)
        self.cp.connect("device-proxy-available", self.on_device)
        self.cp.connect("device-proxy-unavailable", self.on_gone)
        self.cp.set_active(True)
        GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, self.on_stdin)

    def on_device(self, cp, dev):
        name = dev.get_friendly_name()
        if name != self.name:
            emit("other", name=name, udn=dev.get_udn())
            return
        services = [s.get_service_type() for s in dev.list_services()]
        self.cds = next((s for s in dev.list_services() if s.get_service_type().startswith(CDS)), None)
        emit("found", name=name, udn=dev.get_udn(), location=dev.get_location(),
             model=dev.get_model_name(), services=services,
             presentation=dev.get_presentation_url() or "")

    def on_gone(self, cp, dev):
        emit("gone", udn=dev.get_udn())

    def call(self, action, args, outs):
        a = GUPnP.ServiceProxyAction.new_from_list(action, list(args.keys()), [str(v) for v in args.values()])
        try:
            self.cds.call_action(a, None)
            ok, values = a.get_result_list(outs, [GObjectStr] * len(outs))
        except GLib.Error as e:
            return {"error": e.message, "code": e.code}
        return dict(zip(outs, values))

    def browse(self, oid, flag, start=0, count=0, sort=""):
        r = self.call("Browse", {"ObjectID": oid, "BrowseFlag": flag, "Filter": "*",
                                 "StartingIndex": start, "RequestedCount": count, "SortCriteria": sort},
                      ["Result", "NumberReturned", "TotalMatches", "UpdateID"])
        if "error" in r:
            emit("error", action="Browse", id=oid, **r)
            return
        emit("browse", id=oid, flag=flag, returned=int(r["NumberReturned"]), total=int(r["TotalMatches"]),
             update_id=r["UpdateID"], objects=parse_didl(r["Result"]))

    def search(self, container, criteria):
        r = self.call("Search", {"ContainerID": container, "SearchCriteria": criteria, "Filter": "*",
                                 "StartingIndex": 0, "RequestedCount": 0, "SortCriteria": ""},
                      ["Result", "NumberReturned", "TotalMatches", "UpdateID"])
        if "error" in r:
            emit("error", action="Search", id=container, **r)
            return
        emit("search", id=container, total=int(r["TotalMatches"]), objects=parse_didl(r["Result"]))

    def subscribe(self):
        for var in ("SystemUpdateID", "ContainerUpdateIDs"):
            self.cds.add_notify(var, GObjectStr, self.on_notify)
        self.cds.connect("subscription-lost", lambda proxy, err: emit("subscription_lost", error=err.message))
        self.cds.set_subscribed(True)
        emit("subscribed")

    def walk(self, root, skip):
        """Walks the tree under root depth first with BrowseDirectChildren,
        page after page until TotalMatches, leaving out the containers whose
        IDs are in skip, and emits every item and container found, each with
        the titles of the containers above it ("Films/Season 1"). An empty
        container's answer is not parsed: GUPnPAV refuses an empty
        DIDL-Lite."""
        items, containers, errors = [], [], []
        browses = 0

        def children(oid):
            nonlocal browses
            got, total = [], None
            while total is None or len(got) < total:
                browses += 1
                r = self.call("Browse", {"ObjectID": oid, "BrowseFlag": "BrowseDirectChildren", "Filter": "*",
                                         "StartingIndex": len(got), "RequestedCount": 0, "SortCriteria": ""},
                              ["Result", "NumberReturned", "TotalMatches", "UpdateID"])
                if "error" in r:
                    errors.append({"id": oid, **r})
                    return got
                total, returned = int(r["TotalMatches"]), int(r["NumberReturned"])
                if returned == 0:
                    if len(got) < total:
                        errors.append({"id": oid, "error": "NumberReturned 0 at %d of %d" % (len(got), total)})
                    return got
                try:
                    page = parse_didl(r["Result"])
                except GLib.Error as e:
                    errors.append({"id": oid, "error": e.message})
                    return got
                if len(page) != returned:
                    errors.append({"id": oid, "error": "NumberReturned %d, %d objects" % (returned, len(page))})
                got += page
                if len(page) == 0:
                    return got
            return got

        def visit(oid, path):
            for o in children(oid):
                o["path"] = path
                if not o["container"]:
                    items.append(o)
                    continue
                if o["id"] in skip:
                    continue
                sub = (path + "/" + o["title"]).lstrip("/")
                containers.append({"path": sub, "id": o["id"], "child_count": o.get("child_count", -1)})
                visit(o["id"], sub)

        visit(root, "")
        emit("walk", id=root, items=items, containers=containers, errors=errors, browses=browses)

    def on_notify(self, proxy, variable, value, *data):
        emit("notify", variable=variable, value=value)

    def on_stdin(self, source, cond):
        line = sys.stdin.readline()
        if not line:
            self.loop.quit()
            return False
        words = line.split()
        if not words:
            return True
        cmd, rest = words[0], words[1:]
        if self.cds is None and cmd != "quit":
            emit("error", action=cmd, error="no server found yet")
            return True
        if cmd == "browse":
            self.browse(rest[0], "BrowseDirectChildren", *(rest[1:3] or [0, 0]), *(rest[3:4] or [""]))
        elif cmd == "meta":
            self.browse(rest[0], "BrowseMetadata")
        elif cmd == "search":
            self.search(rest[0], " ".join(rest[1:]))
        elif cmd == "subscribe":
            self.subscribe()
        elif cmd == "walk":
            self.walk(rest[0], set(rest[1:]))
        elif cmd == "quit":
            self.loop.quit()
            return False
        else:
            emit("error", action=cmd, error="unknown command")
        return True


GObjectStr = GObject.TYPE_STRING

if __name__ == "__main__":
    iface, name = sys.argv[1], sys.argv[2]
    tv = TV(iface, name)
    emit("ready")
    tv.loop.run()
    # Stop listening before the interpreter tears down: a device the
    # control point drops then would call on_gone without emit (seen as a
    # NameError traceback at exit).
    tv.cp.set_active(False)
    del tv
