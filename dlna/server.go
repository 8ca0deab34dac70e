package dlna

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/dlna/access"
	"github.com/mediaftpd/mediaftpd/dlna/gena"
)

// Server is the HTTP side of a DLNA Digital Media Server: the device
// description, the SOAP control and GENA eventing of its three services,
// and the media files. SSDP (package dlna/ssdp) advertises it, pointing
// at DescriptionPath on the address and port it listens on.
//
// Its exported fields are its configuration: set them before the first
// call to a method and do not change them afterwards. The zero value of
// each field but Content means its documented default.
type Server struct {
	// Content is what is shown and streamed; required.
	Content Content
	// Name is the friendly name TVs list the server by (the same as
	// mDNS's); empty means "mediaftpd".
	Name string
	// Version is the program's version, the description's modelNumber and
	// part of the Server header; empty means "dev".
	Version string
	// State keeps the UDN, the high-water mark of SystemUpdateID and the
	// resume positions (Samsung's bookmarks, shared with the web player)
	// across restarts; *store.Store implements it. Nil keeps them in
	// memory only: the UDN is then derived from the machine ID each time
	// (random without one) and SystemUpdateID starts at 1.
	State State
	// StateDir is the folder where earlier versions kept the UDN (file
	// dlna-udn), the SystemUpdateID's high-water mark (dlna-updateid) and
	// Samsung bookmarks (dlna-bookmarks.json). What State lacks is taken
	// from there once (the bookmarks only once ever), so an upgrade keeps
	// the UDN TVs know and their bookmarks; the files are only read, and
	// left as they are. Empty means none.
	StateDir string
	// Details returns the media details of the files (duration, picture
	// size, tags: library.Prober), shown in DIDL-Lite. Nil shows none.
	Details Details
	// Thumbs makes the JPEG_TN thumbnails offered as upnp:albumArtURI and
	// as a res of items and folders that have artwork, and of videos
	// without any when it grabs frames (*thumb.Cache). Nil offers none.
	Thumbs Thumbs
	// PresentationURL returns the status page's URL for a client that
	// reached this server at host (the request's Host, "ip:port"), or ""
	// when there is none. Nil means none. TVs offer it as the device's
	// web page.
	PresentationURL func(host string) string
	// Allow reports whether a source address may use the server; others
	// get 403 on every route. Nil means access.List(nil).Allows: private,
	// link-local and loopback addresses only.
	Allow func(netip.Addr) bool
	// Logger receives start-up facts and refused writes at info level,
	// problems at warning level and requests at debug level; nil means
	// slog.Default().
	Logger *slog.Logger

	// Test seams; the zero value of each means the real thing.
	machineIDFile string         // /etc/machine-id
	location      *time.Location // of dc:date; time.Local
	now           func() time.Time
	headerTimeout time.Duration // readHeaderTimeout
	bodyTimeout   time.Duration // requestTimeout

	once     sync.Once
	udn      string
	serial   string
	handler  http.Handler
	services []*service
	cds      *service // services[0]
	st       State    // State, or one in memory
	updates  *updateTracker
	status   statusTracker
	icons    []icon

	mu       sync.Mutex // guards the fields below
	hs       *http.Server
	closed   bool
	bgCancel context.CancelFunc
	bgDone   chan struct{}
}

// Timeouts of the HTTP side. Streams have none: a paused TV stops reading
// for as long as it likes.
const (
	// readHeaderTimeout cuts a client that does not finish its request
	// headers in time (slowloris).
	readHeaderTimeout = 10 * time.Second
	// requestTimeout bounds reading the body of every request but a
	// stream; writing the answer may take as long again.
	requestTimeout = 30 * time.Second
	// idleTimeout closes kept-alive connections that send nothing.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 32 << 10
)

// Device and service types.
const (
	// DeviceType is the UPnP device type of the server, for SSDP.
	DeviceType = "urn:schemas-upnp-org:device:MediaServer:1"
	// DescriptionPath is the path of the device description, for SSDP's
	// LOCATION: "http://<address>:<port>" + DescriptionPath.
	DescriptionPath = "/description.xml"

	cdsType       = "urn:schemas-upnp-org:service:ContentDirectory:1"
	cmType        = "urn:schemas-upnp-org:service:ConnectionManager:1"
	registrarType = "urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1"
)

// ServiceTypes returns the service types of the server, for SSDP.
func ServiceTypes() []string {
	return []string{cdsType, cmType, registrarType}
}

// service is one UPnP service of the device.
type service struct {
	name    string // last part of its URLs: /control/<name>, /event/<name>, /scpd/<name>.xml
	typ     string
	id      string // serviceId
	actions map[string]*action
	pub     *gena.Publisher
}

func (srv *Server) logger() *slog.Logger {
	if srv.Logger != nil {
		return srv.Logger
	}
	return slog.Default()
}

func (srv *Server) clock() time.Time {
	if srv.now != nil {
		return srv.now()
	}
	return time.Now()
}

func (srv *Server) name() string {
	if srv.Name != "" {
		return srv.Name
	}
	return "mediaftpd"
}

func (srv *Server) version() string {
	if srv.Version != "" {
		return srv.Version
	}
	return "dev"
}

// UDN returns the server's unique device name, "uuid:...", for SSDP. It
// is made on the first call (see State).
func (srv *Server) UDN() string {
	srv.init()
	return srv.udn
}

// ServerHeader returns the value of the SERVER header the server sends,
// "Linux/1.0 UPnP/1.0 mediaftpd/<version>", for SSDP to send the same.
func (srv *Server) ServerHeader() string {
	return "Linux/1.0 UPnP/1.0 mediaftpd/" + srv.version()
}

func (srv *Server) init() {
	srv.once.Do(func() {
		if srv.Content == nil {
			panic("dlna: Server.Content is nil")
		}
		srv.st = srv.State
		if srv.st == nil {
			srv.st = newMemState()
		}
		srv.udn = srv.loadUDN()
		srv.serial = serialNumber(srv.udn)
		srv.migrateBookmarks()
		srv.updates = newUpdateTracker(srv.st, srv.StateDir, srv.logger())
		srv.icons = makeIcons()
		srv.services = []*service{
			{name: "ContentDirectory", typ: cdsType, id: "urn:upnp-org:serviceId:ContentDirectory", actions: cdsActions()},
			{name: "ConnectionManager", typ: cmType, id: "urn:upnp-org:serviceId:ConnectionManager", actions: cmActions()},
			{name: "X_MS_MediaReceiverRegistrar", typ: registrarType, id: "urn:microsoft.com:serviceId:X_MS_MediaReceiverRegistrar", actions: registrarActions()},
		}
		srv.cds = srv.services[0]
		states := []func() []gena.Property{srv.cdsState, cmState, registrarState}
		for i, svc := range srv.services {
			svc.pub = &gena.Publisher{
				State:        states[i],
				ServerHeader: srv.ServerHeader(),
				Logger:       srv.logger().With("service", svc.name),
			}
		}
		srv.handler = srv.routes()
	})
}

// routes returns the server's handler: every route behind the access
// check.
func (srv *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DescriptionPath, srv.serveDescription)
	mux.HandleFunc("GET /icons/{file}", srv.serveIcon)
	mux.HandleFunc("GET /scpd/{file}", srv.serveSCPD)
	for _, svc := range srv.services {
		mux.HandleFunc("/control/"+svc.name, func(w http.ResponseWriter, r *http.Request) { srv.serveControl(svc, w, r) })
		mux.Handle("/event/"+svc.name, svc.pub)
	}
	mux.HandleFunc("GET "+mediaPrefix, srv.serveMedia)
	mux.HandleFunc("GET "+subtitlePrefix, srv.serveSubtitle)
	mux.HandleFunc("GET "+thumbPrefix, srv.serveThumb)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, ok := remoteAddr(r)
		allow := srv.Allow
		if allow == nil {
			allow = access.List(nil).Allows
		}
		if !ok || !allow(addr) {
			srv.logger().Debug("DLNA request refused: address not allowed", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Server", srv.ServerHeader())
		rc := http.NewResponseController(w)
		if !strings.HasPrefix(r.URL.Path, mediaPrefix) {
			// Streams take as long as the TV plays; all else is short.
			// The answer may take as long again as the request.
			d := cmp.Or(srv.bodyTimeout, requestTimeout)
			rc.SetReadDeadline(time.Now().Add(d))
			rc.SetWriteDeadline(time.Now().Add(2 * d))
		}
		srv.logger().Debug("DLNA request", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
			"user_agent", r.Header.Get("User-Agent"))
		mux.ServeHTTP(w, r)
	})
}

// remoteAddr returns the request's source address, IPv4-mapped IPv6
// addresses unmapped.
func remoteAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

// baseURL returns "http://<host>" for URLs sent to the client of r: the
// Host it reached us by, or else the local address of its connection.
func baseURL(r *http.Request) string {
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/ \"<>\\") {
		host = ""
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return "http://" + host
}

// Serve accepts HTTP connections on l and serves them until Shutdown or
// Close; it may be called for several listeners. The first call also
// starts eventing: the GENA publishers and the watch of Content that
// raises SystemUpdateID and sends ContainerUpdateIDs. Serve always returns
// a non-nil error: ErrServerClosed after Shutdown or Close.
func (srv *Server) Serve(l net.Listener) error {
	srv.init()
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	if srv.hs == nil {
		srv.hs = &http.Server{
			Handler:           srv.handler,
			ReadHeaderTimeout: cmp.Or(srv.headerTimeout, readHeaderTimeout),
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(srv.logger().Handler(), slog.LevelDebug),
		}
		srv.startBackground()
	}
	hs := srv.hs
	srv.mu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// startBackground starts the eventing goroutines. srv.mu is held.
func (srv *Server) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	srv.bgCancel, srv.bgDone = cancel, done
	var wg sync.WaitGroup
	for _, svc := range srv.services {
		wg.Go(func() {
			if err := svc.pub.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				srv.logger().Warn("DLNA eventing stopped", "service", svc.name, "err", err)
			}
		})
	}
	w := srv.Content.Watch() // now, so no change after Serve starts is missed
	wg.Go(func() { srv.watch(ctx, w) })
	go func() {
		wg.Wait()
		close(done)
	}()
}

// stopBackground stops eventing and waits for it to end, or for ctx.
// A later call waits again.
func (srv *Server) stopBackground(ctx context.Context) error {
	srv.mu.Lock()
	cancel, done := srv.bgCancel, srv.bgDone
	srv.mu.Unlock()
	if cancel == nil {
		return nil // never started
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops the server gracefully, as http.Server.Shutdown does: it
// closes the listeners, waits for running requests (streams included) to
// end or ctx to be done, then stops eventing. It returns ctx's error if
// ctx ended first.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	hs := srv.hs
	srv.mu.Unlock()
	var err error
	if hs != nil {
		err = hs.Shutdown(ctx)
	}
	return errors.Join(err, srv.stopBackground(ctx))
}

// Close stops the server at once: it closes the listeners and every
// connection, streams included, and stops eventing.
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed = true
	hs := srv.hs
	srv.mu.Unlock()
	var err error
	if hs != nil {
		err = hs.Close()
	}
	return errors.Join(err, srv.stopBackground(context.Background()))
}
