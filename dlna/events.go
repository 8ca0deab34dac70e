package dlna

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/gena"
	"github.com/mediaftpd/mediaftpd/library"
)

// ContentDirectory eventing: SystemUpdateID rises with every change of the
// content, and ContainerUpdateIDs ("id,updateID,id,updateID,...") tells a
// TV which open folder to reload. Server.watch reads Content.Watch and
// sends at most one event per eventInterval, the first change after a
// quiet spell at once, so a TV sees a new file within about two seconds
// of the index noticing it.

const (
	// eventInterval is the least time between two ContentDirectory
	// events (ContentDirectory:1 2.5.21 moderates at 0.5 Hz).
	eventInterval = 2 * time.Second
	// maxTrackedContainers bounds the containers whose own update ID is
	// remembered; past it they are forgotten and all report the then
	// current SystemUpdateID, which is never less than what they reported.
	maxTrackedContainers = 4096
	// maxPendingContainers bounds the containers one event lists; others
	// changed meanwhile are told by SystemUpdateID alone.
	maxPendingContainers = 512
	// updateIDFile is the file in StateDir where earlier versions kept a
	// SystemUpdateID not yet used; State's valueUpdateID holds it now.
	updateIDFile = "dlna-updateid"
	// updateIDReserve is how far ahead the kept value is set, so it is
	// written once per that many changes.
	updateIDReserve = 1000
)

// updateTracker holds SystemUpdateID, each container's update ID and the
// containers changed since the last event. It is safe for concurrent use.
type updateTracker struct {
	st  State // keeps valueUpdateID
	log *slog.Logger

	mu         sync.Mutex // guards the fields below
	system     uint32
	reserved   uint32            // the value kept in st; system stays below it
	floor      uint32            // update ID of containers not in containers
	containers map[string]uint32 // container ID -> its update ID
	pending    map[string]struct{}
	last       time.Time // when the last event was taken; zero before the first
}

// newUpdateTracker returns the tracker whose SystemUpdateID starts above
// the value kept in st, or in stateDir's updateIDFile when st has none
// (an earlier version kept it there), or at 1.
func newUpdateTracker(st State, stateDir string, log *slog.Logger) *updateTracker {
	u := &updateTracker{
		st:         st,
		log:        log,
		system:     1,
		containers: make(map[string]uint32),
		pending:    make(map[string]struct{}),
	}
	b, ok := st.Value(valueUpdateID)
	from := "the store"
	if !ok && stateDir != "" {
		path := filepath.Join(stateDir, updateIDFile)
		var err error
		b, err = os.ReadFile(path)
		ok, from = err == nil, path
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("cannot read the DLNA update ID of an earlier version; starting from 1", "err", err)
		}
	}
	if ok {
		if n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 32); err == nil && n > 0 {
			u.system = uint32(n)
		} else {
			log.Warn("the kept DLNA update ID is no number; starting from 1", "from", from)
		}
	}
	u.reserve()
	u.floor = u.system
	return u
}

// reserve keeps a value ahead of system in st. u.mu is held, or u is not
// shared yet.
func (u *updateTracker) reserve() {
	if u.system < u.reserved {
		return
	}
	next := u.system + updateIDReserve
	if next < u.system {
		next = ^uint32(0) // the ui4 wraps; keep the largest
	}
	u.reserved = next
	if err := u.st.SetValue(valueUpdateID, []byte(strconv.FormatUint(uint64(next), 10))); err != nil {
		u.log.Warn("cannot keep the DLNA update ID", "err", err)
	}
}

// systemID returns SystemUpdateID.
func (u *updateTracker) systemID() uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.system
}

// containerID returns the update ID of the container with the given ID.
func (u *updateTracker) containerID(id string) uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if v, ok := u.containers[id]; ok {
		return v
	}
	return u.floor
}

// changed records that the containers with the given IDs changed:
// SystemUpdateID rises once and each container takes its value.
func (u *updateTracker) changed(ids []string) {
	if len(ids) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.system++
	u.reserve()
	for _, id := range ids {
		if _, ok := u.containers[id]; !ok && len(u.containers) >= maxTrackedContainers {
			clear(u.containers)
			u.floor = u.system
		}
		u.containers[id] = u.system
		if len(u.pending) < maxPendingContainers {
			u.pending[id] = struct{}{}
		}
	}
}

// due returns when the next event may be sent, and false when there is
// nothing to send.
func (u *updateTracker) due(now time.Time) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) == 0 {
		return time.Time{}, false
	}
	at := u.last.Add(eventInterval)
	if u.last.IsZero() || at.Before(now) {
		at = now
	}
	return at, true
}

// take returns the event to send now and clears the pending containers.
func (u *updateTracker) take(now time.Time) []gena.Property {
	u.mu.Lock()
	defer u.mu.Unlock()
	ids := make([]string, 0, len(u.pending))
	for id := range u.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
		b.WriteByte(',')
		b.WriteString(strconv.FormatUint(uint64(u.containers[id]), 10))
	}
	clear(u.pending)
	u.last = now
	return []gena.Property{
		{Name: "SystemUpdateID", Value: strconv.FormatUint(uint64(u.system), 10)},
		{Name: "ContainerUpdateIDs", Value: b.String()},
	}
}

// changedContainers returns the IDs of the containers whose listing the
// changes alter: each changed folder and its parent (which shows the
// folder's childCount), "Recently added", and for a whole share or
// everything, the root.
func changedContainers(changes []library.Change, names func() []string) []string {
	seen := make(map[string]struct{})
	add := func(id string) { seen[id] = struct{}{} }
	for _, c := range changes {
		add(recentID)
		switch {
		case c.Share == "":
			add(rootID)
			for _, n := range names() {
				add(pathObject(n, ".").id())
			}
		case c.Dir == "." || c.Dir == "":
			add(rootID)
			add(pathObject(c.Share, ".").id())
		default:
			o := pathObject(c.Share, c.Dir)
			add(o.id())
			add(o.parentID())
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// cdsState is ContentDirectory's evented state, for a new subscriber.
func (srv *Server) cdsState() []gena.Property {
	return []gena.Property{
		{Name: "SystemUpdateID", Value: strconv.FormatUint(uint64(srv.updates.systemID()), 10)},
		{Name: "ContainerUpdateIDs", Value: ""},
	}
}

// watch follows the content's changes that w reports until ctx is done,
// and sends ContentDirectory's events. It closes w.
func (srv *Server) watch(ctx context.Context, w *library.Watcher) {
	defer w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-w.C():
			ids := changedContainers(w.Take(), srv.Content.Names)
			srv.updates.changed(ids)
			srv.logger().Debug("DLNA content changed", "containers", len(ids), "system_update_id", srv.updates.systemID())
		case <-timer.C:
		}
		now := time.Now() // the timer's clock, not srv.clock
		at, ok := srv.updates.due(now)
		if !ok {
			continue
		}
		if wait := at.Sub(now); wait > 0 {
			timer.Reset(wait)
			continue
		}
		srv.cds.pub.Publish(srv.updates.take(now))
	}
}
