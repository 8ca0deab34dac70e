package dlna

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// Samsung's ContentDirectory extensions. X_GetFeatureList must answer: a
// fault there made a Samsung refuse to play (dms#73). X_SetBookmark keeps
// the position a video was stopped at, returned in sec:dcmInfo.

// featureList is X_GetFeatureList's answer: the containers the TV's
// basic view starts from for audio, video and images. The server has no
// views by kind, so all three start at the root.
const featureList = `<?xml version="1.0" encoding="utf-8"?>` +
	`<Features xmlns="urn:schemas-upnp-org:av:avs" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
	` xsi:schemaLocation="urn:schemas-upnp-org:av:avs http://www.upnp.org/schemas/av/avs.xsd">` +
	`<Feature name="samsung.com_BASICVIEW" version="1">` +
	`<container id="0" type="object.item.audioItem"/>` +
	`<container id="0" type="object.item.videoItem"/>` +
	`<container id="0" type="object.item.imageItem"/>` +
	`</Feature></Features>`

func (srv *Server) getFeatureList(*call) ([]string, error) {
	return []string{featureList}, nil
}

// setBookmark answers X_SetBookmark(CategoryType, RID, ObjectID,
// PosSecond). PosSecond is in seconds, or in milliseconds from clients
// with quirks.BookmarkMillis (Samsung's Q series). The object must be a
// file; a bookmark on an item of "Recently added" is kept for the file.
// It is the file's resume position in State, shared with the web player.
func (srv *Server) setBookmark(c *call) ([]string, error) {
	o, err := parseObjectID(c.str("ObjectID"))
	if err != nil {
		return nil, err
	}
	pos, err := strconv.ParseInt(strings.TrimSpace(c.str("PosSecond")), 10, 64)
	if err != nil || pos < 0 {
		return nil, fmt.Errorf("%w: PosSecond %q", errInvalidArgs, c.str("PosSecond"))
	}
	if c.client.Quirks.Has(quirks.BookmarkMillis) {
		pos /= 1000
	}
	if pos > maxBookmark {
		return nil, fmt.Errorf("%w: PosSecond %q", errInvalidArgs, c.str("PosSecond"))
	}
	l, err := srv.lookup(o)
	if err != nil {
		return nil, err
	}
	if l.e.Dir {
		return nil, fmt.Errorf("%w: a bookmark on a container", errInvalidArgs)
	}
	real := o.real()
	if err := srv.keepBookmark(real.share, real.rel, pos); err != nil {
		return nil, fmt.Errorf("keeping a bookmark: %w", err)
	}
	srv.logger().Debug("DLNA bookmark set", "object", o.real().id(), "seconds", pos, "remote", c.r.RemoteAddr)
	return nil, nil
}
