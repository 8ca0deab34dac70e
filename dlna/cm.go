package dlna

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mediaftpd/mediaftpd/dlna/gena"
	"github.com/mediaftpd/mediaftpd/dlna/media"
	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// ConnectionManager:1 for a server that only serves http-get: there is
// one connection, 0, always there (ConnectionManager:1 2.4.3 for devices
// without PrepareForConnection).

// servedExtensions are the extensions GetProtocolInfo announces, one
// sample of each: every extension library.KindOf calls video, audio or
// image (the table in library's package documentation) and the subtitle
// formats. Their protocolInfos come from package media.
var servedExtensions = strings.Fields(`
	3g2 3gp asf avi divx f4v flv m2t m2ts m2v m4v mk3d mkv mov mp4 mpe mpeg mpg mts ogv qt rm rmvb ts vob webm wmv
	aac ac3 aif aifc aiff alac ape dff dsf dts flac m4a m4b mka mp2 mp3 mpc oga ogg opus wav wma wv
	arw avif bmp cr2 cr3 dng gif heic heif jpeg jpg jxl nef orf png raf rw2 tif tiff webp
	srt ass ssa vtt`)

// sourceProtocolInfo returns the protocolInfo of every kind of file served
// to a client with quirks q, comma separated, each once.
func sourceProtocolInfo(q quirks.Set) string {
	var list []string
	for _, ext := range servedExtensions {
		pi := media.ProtocolInfo("x."+ext, q)
		if !slices.Contains(list, pi) {
			list = append(list, pi)
		}
	}
	return strings.Join(list, ",")
}

// cmActions is ConnectionManager:1's action table.
func cmActions() map[string]*action {
	return map[string]*action{
		"GetProtocolInfo": {out: []string{"Source", "Sink"}, run: func(_ *Server, c *call) ([]string, error) {
			return []string{sourceProtocolInfo(c.client.Quirks), ""}, nil
		}},
		"GetCurrentConnectionIDs": {out: []string{"ConnectionIDs"}, run: func(*Server, *call) ([]string, error) {
			return []string{"0"}, nil
		}},
		"GetCurrentConnectionInfo": {
			in:  []string{"ConnectionID"},
			out: []string{"RcsID", "AVTransportID", "ProtocolInfo", "PeerConnectionManager", "PeerConnectionID", "Direction", "Status"},
			run: func(_ *Server, c *call) ([]string, error) {
				if id := strings.TrimSpace(c.str("ConnectionID")); id != "0" {
					return nil, fmt.Errorf("%w: %q", errInvalidConnection, id)
				}
				return []string{"-1", "-1", "", "", "-1", "Output", "OK"}, nil
			},
		},
	}
}

// cmState is ConnectionManager's evented state.
func cmState() []gena.Property {
	return []gena.Property{
		{Name: "SourceProtocolInfo", Value: sourceProtocolInfo(0)},
		{Name: "SinkProtocolInfo", Value: ""},
		{Name: "CurrentConnectionIDs", Value: "0"},
	}
}
