package main

// A small DLNA control point in Go for the side-by-side test and the
// benchmarks against MiniDLNA: it reads a device description, calls
// ContentDirectory's Browse and Search over SOAP, decodes DIDL-Lite, and
// receives GENA events on a listener of its own. Every connection it
// makes comes from a namespace of the test's lab (netlab.HTTPClient,
// netlab.DialIn); its event listener is opened inside one (Lab.In).
//
// It also starts the two servers the way these tests need them: mediaftpd
// and MiniDLNA (minidlnad, with its own config and database in a
// temporary folder), each inside the lab's server namespace.

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// The addresses of the side-by-side lab, apart from the other DLNA
// tests' 10.99.21.0/24; veth names exist only inside its namespaces.
const (
	refSrvIf   = "h5s0"
	refCliIf   = "h5c0"
	refSrvAddr = "10.99.51.1"
	refCliAddr = "10.99.51.2"
)

// refLab is a server namespace and a client namespace, for mediaftpd and
// MiniDLNA side by side and their clients.
type refLab struct {
	*netlab.Lab
	tb       testing.TB
	srv, cli string
}

func newRefLab(tb testing.TB) *refLab {
	tb.Helper()
	l := netlab.New(tb, "h5")
	srv, cli := l.Pair(refSrvIf, refSrvAddr+"/24", refCliIf, refCliAddr+"/24")
	return &refLab{Lab: l, tb: tb, srv: srv, cli: cli}
}

// mediaftpdRun is a mediaftpd process in the lab.
type mediaftpdRun struct {
	*netlab.Proc
	dlnaURL string // http://addr:port of its DLNA side
	ftpURL  string // ftp://addr:port
	shares  int
}

// awaitDetails waits until mediaftpd has probed the media files of every
// share for their details (it does so in the background after indexing,
// into the store in its state folder): from then on it is idle.
func (m *mediaftpdRun) awaitDetails(tb testing.TB) {
	tb.Helper()
	for range m.shares {
		m.Await(tb, "line", 10*time.Minute, func(ev netlab.Event) bool { return strings.Contains(ev.Line, `msg="media details ready"`) })
	}
}

// startMediaftpd runs mediaftpd in the server namespace with FTP on
// refSrvAddr:2121, the status page on :8021, mDNS off, DLNA on dlna
// (":8200" or "off"), and the given shares (NAME=DIR), and waits until it
// has indexed every share.
func (r *refLab) startMediaftpd(tb testing.TB, name, dlna string, shares ...string) *mediaftpdRun {
	tb.Helper()
	args := []string{mediaftpdBin, "-listen", refSrvAddr + ":2121", "-web", ":8021", "-mdns=false",
		"-dlna", dlna, "-name", name, "-state-dir", tb.TempDir()}
	p := r.Start("mediaftpd "+name, r.srv, serverEnv(), append(args, shares...)...)
	for range shares {
		p.Await(tb, "line", 10*time.Minute, func(ev netlab.Event) bool { return strings.Contains(ev.Line, `msg="share indexed"`) })
	}
	m := &mediaftpdRun{Proc: p, ftpURL: "ftp://" + refSrvAddr + ":2121", shares: len(shares)}
	if dlna != "off" {
		m.dlnaURL = "http://" + refSrvAddr + ":" + strings.TrimPrefix(dlna, ":")
	}
	return m
}

// miniDLNA is a minidlnad process in the lab.
type miniDLNA struct {
	*netlab.Proc
	url string // http://addr:port
}

// startMiniDLNA runs MiniDLNA in the server namespace on port with the
// friendly name and media folders given, its database and log in a
// temporary folder, and waits until its first scan has finished. verbose
// runs it as "minidlnad -d" (debug log, foreground); otherwise it runs as
// a service does ("-S", foreground, warnings only), which is what
// benchmarks want: -d logs several lines for every request.
func (r *refLab) startMiniDLNA(tb testing.TB, port int, name string, verbose bool, mediaDirs ...string) *miniDLNA {
	tb.Helper()
	bin := needMiniDLNA(tb)
	dir := tb.TempDir()
	var conf strings.Builder
	for _, d := range mediaDirs {
		fmt.Fprintf(&conf, "media_dir=%s\n", d)
	}
	fmt.Fprintf(&conf, "db_dir=%s\nlog_dir=%s\nport=%d\nnetwork_interface=%s\nfriendly_name=%s\n",
		filepath.Join(dir, "db"), filepath.Join(dir, "log"), port, refSrvIf, name)
	// inotify is MiniDLNA's default; said here because the event
	// benchmark relies on it.
	conf.WriteString("inotify=yes\n")
	if !verbose {
		conf.WriteString("log_level=general,artwork,database,inotify,scanner,metadata,http,ssdp,tivo=warn\n")
	}
	confPath := filepath.Join(dir, "minidlna.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	mode := "-S"
	if verbose {
		mode = "-d"
	}
	p := r.Start("minidlnad "+name, r.srv, nil, bin, mode, "-f", confPath, "-P", filepath.Join(dir, "minidlna.pid"))
	// One "Scanning DIR finished (N files)!" per media folder, on its
	// output or in its log file (where it writes instead at times).
	logPath := filepath.Join(dir, "log", "minidlna.log")
	deadline := time.Now().Add(10 * time.Minute)
	for {
		logged, _ := os.ReadFile(logPath)
		if n := strings.Count(p.Output()+string(logged), " finished ("); n >= len(mediaDirs) {
			break
		}
		select {
		case <-p.Exited():
			tb.Fatalf("minidlnad exited before its scan finished; output:\n%s\nlog:\n%s", p.Output(), logged)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("minidlnad has not finished its scan in 10 minutes; output:\n%s\nlog:\n%.10000s", p.Output(), logged)
		}
	}
	return &miniDLNA{Proc: p, url: "http://" + refSrvAddr + ":" + strconv.Itoa(port)}
}

// needMiniDLNA returns the path of minidlnad, skipping the test (failing
// it under CI) without it.
func needMiniDLNA(tb testing.TB) string {
	tb.Helper()
	const bin = "/usr/sbin/minidlnad"
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	return testtool.Need(tb, "minidlnad")
}

// ---------------------------------------------------------------------------
// The device description

// upnpDevice is what a control point reads from a media server's device
// description.
type upnpDevice struct {
	Name       string
	CDSControl string // absolute URL of ContentDirectory's control
	CDSEvent   string // absolute URL of ContentDirectory's eventing
}

// readDevice fetches and reads the device description at location.
func readDevice(ctx context.Context, hc *http.Client, location string) (upnpDevice, error) {
	body, err := httpGet(ctx, hc, location)
	if err != nil {
		return upnpDevice{}, err
	}
	var desc struct {
		URLBase string `xml:"URLBase"`
		Device  struct {
			FriendlyName string `xml:"friendlyName"`
			Services     []struct {
				Type    string `xml:"serviceType"`
				Control string `xml:"controlURL"`
				Event   string `xml:"eventSubURL"`
			} `xml:"serviceList>service"`
		} `xml:"device"`
	}
	if err := xml.Unmarshal(body, &desc); err != nil {
		return upnpDevice{}, fmt.Errorf("description %s: %w", location, err)
	}
	base, err := url.Parse(location)
	if err != nil {
		return upnpDevice{}, err
	}
	if desc.URLBase != "" {
		if base, err = url.Parse(desc.URLBase); err != nil {
			return upnpDevice{}, fmt.Errorf("URLBase: %w", err)
		}
	}
	dev := upnpDevice{Name: desc.Device.FriendlyName}
	for _, s := range desc.Device.Services {
		if strings.HasPrefix(s.Type, "urn:schemas-upnp-org:service:ContentDirectory:") {
			c, err1 := base.Parse(s.Control)
			e, err2 := base.Parse(s.Event)
			if err := errors.Join(err1, err2); err != nil {
				return upnpDevice{}, fmt.Errorf("ContentDirectory URLs: %w", err)
			}
			dev.CDSControl, dev.CDSEvent = c.String(), e.String()
		}
	}
	if dev.CDSControl == "" {
		return upnpDevice{}, fmt.Errorf("description %s has no ContentDirectory", location)
	}
	return dev, nil
}

// httpGet returns the body of a GET that answered 200.
func httpGet(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

// ---------------------------------------------------------------------------
// ContentDirectory over SOAP

// cdsClient calls a ContentDirectory's actions.
type cdsClient struct {
	hc      *http.Client
	control string
}

// cdsPage is the answer to Browse or Search.
type cdsPage struct {
	Returned, Total int
	UpdateID        string
	Objects         []cdsObject
	Size            int // bytes of the SOAP answer
	// Elapsed is from the request written to the answer's last byte
	// read: the server's time and the transfer, not the dial.
	Elapsed time.Duration
}

// cdsObject is a container or item of a DIDL-Lite result.
type cdsObject struct {
	Container  bool
	ID         string   `xml:"id,attr"`
	Parent     string   `xml:"parentID,attr"`
	ChildCount int      `xml:"childCount,attr"`
	Title      string   `xml:"http://purl.org/dc/elements/1.1/ title"`
	Class      string   `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ class"`
	Res        []cdsRes `xml:"res"`
}

// cdsRes is a resource of a DIDL-Lite item.
type cdsRes struct {
	URL          string `xml:",chardata"`
	ProtocolInfo string `xml:"protocolInfo,attr"`
	Size         int64  `xml:"size,attr"`
}

// mime returns the MIME type of the resource's protocolInfo.
func (r cdsRes) mime() string {
	f := strings.Split(r.ProtocolInfo, ":")
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

// upnpError is a SOAP fault carrying a UPnP error.
type upnpError struct {
	Code        int
	Description string
}

func (e *upnpError) Error() string { return fmt.Sprintf("UPnP error %d: %s", e.Code, e.Description) }

// Browse calls Browse with flag BrowseDirectChildren or BrowseMetadata.
func (c *cdsClient) Browse(ctx context.Context, id, flag string, start, count int) (cdsPage, error) {
	return c.call(ctx, "Browse", [][2]string{{"ObjectID", id}, {"BrowseFlag", flag}, {"Filter", "*"},
		{"StartingIndex", strconv.Itoa(start)}, {"RequestedCount", strconv.Itoa(count)}, {"SortCriteria", ""}})
}

// Search calls Search.
func (c *cdsClient) Search(ctx context.Context, container, criteria string, start, count int) (cdsPage, error) {
	return c.call(ctx, "Search", [][2]string{{"ContainerID", container}, {"SearchCriteria", criteria}, {"Filter", "*"},
		{"StartingIndex", strconv.Itoa(start)}, {"RequestedCount", strconv.Itoa(count)}, {"SortCriteria", ""}})
}

func (c *cdsClient) call(ctx context.Context, action string, args [][2]string) (cdsPage, error) {
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:` + action +
		` xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">`)
	for _, a := range args {
		body.WriteString("<" + a[0] + ">")
		xml.EscapeText(&body, []byte(a[1]))
		body.WriteString("</" + a[0] + ">")
	}
	body.WriteString(`</u:` + action + `></s:Body></s:Envelope>`)
	req, err := http.NewRequestWithContext(ctx, "POST", c.control, &body)
	if err != nil {
		return cdsPage{}, err
	}
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	req.Header.Set("SOAPACTION", `"urn:schemas-upnp-org:service:ContentDirectory:1#`+action+`"`)
	var wrote time.Time
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote = time.Now() },
	}))
	resp, err := c.hc.Do(req)
	if err != nil {
		return cdsPage{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return cdsPage{}, err
	}
	elapsed := time.Since(wrote)
	page, err := parseSOAPAnswer(raw, resp.StatusCode)
	page.Elapsed = elapsed
	return page, err
}

// parseSOAPAnswer reads the answer to Browse or Search, or its fault.
func parseSOAPAnswer(raw []byte, status int) (cdsPage, error) {
	var env struct {
		Body struct {
			Answer struct {
				Result         string `xml:"Result"`
				NumberReturned int    `xml:"NumberReturned"`
				TotalMatches   int    `xml:"TotalMatches"`
				UpdateID       string `xml:"UpdateID"`
			} `xml:",any"`
			Fault *struct {
				Code        int    `xml:"detail>UPnPError>errorCode"`
				Description string `xml:"detail>UPnPError>errorDescription"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(raw, &env); err != nil {
		return cdsPage{}, fmt.Errorf("HTTP %d, SOAP answer: %w: %.200q", status, err, raw)
	}
	if f := env.Body.Fault; f != nil {
		return cdsPage{}, &upnpError{f.Code, f.Description}
	}
	if status != http.StatusOK {
		return cdsPage{}, fmt.Errorf("HTTP %d: %.200q", status, raw)
	}
	a := env.Body.Answer
	objs, err := parseDIDL(a.Result)
	if err != nil {
		return cdsPage{}, err
	}
	return cdsPage{Returned: a.NumberReturned, Total: a.TotalMatches, UpdateID: a.UpdateID, Objects: objs, Size: len(raw)}, nil
}

// parseDIDL returns the objects of a DIDL-Lite document in order.
func parseDIDL(doc string) ([]cdsObject, error) {
	var out []cdsObject
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("DIDL-Lite: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || (se.Name.Local != "item" && se.Name.Local != "container") {
			continue
		}
		var o cdsObject
		if err := d.DecodeElement(&o, &se); err != nil {
			return nil, fmt.Errorf("DIDL-Lite %s: %w", se.Name.Local, err)
		}
		o.Container = se.Name.Local == "container"
		for i := range o.Res {
			o.Res[i].URL = strings.TrimSpace(o.Res[i].URL)
		}
		out = append(out, o)
	}
}

// ---------------------------------------------------------------------------
// GENA events

// genaEvent is one NOTIFY a subscriber received.
type genaEvent struct {
	At   time.Time
	SID  string
	Seq  string
	Vars map[string]string
}

// genaSink receives NOTIFYs on a listener in a namespace of the lab.
type genaSink struct {
	callback string // URL to give in CALLBACK
	events   chan genaEvent
	srv      *http.Server
}

// newGenaSink listens on addr (host only) in namespace ns and passes
// every NOTIFY it receives to events; it stops when the test ends.
func newGenaSink(tb testing.TB, lab *netlab.Lab, ns, addr string) *genaSink {
	tb.Helper()
	var l net.Listener
	var err error
	lab.In(tb, ns, func() { l, err = net.Listen("tcp4", net.JoinHostPort(addr, "0")) })
	if err != nil {
		tb.Fatal(err)
	}
	g := &genaSink{callback: "http://" + l.Addr().String() + "/notify", events: make(chan genaEvent, 1000)}
	// A patient server: a publisher may connect long before it sends
	// (MiniDLNA 1.3.0 connects at SUBSCRIBE and then waits).
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serveNotify), ReadHeaderTimeout: 10 * time.Minute}
	go g.srv.Serve(l)
	tb.Cleanup(func() { g.srv.Close() })
	return g
}

func (g *genaSink) serveNotify(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != "NOTIFY" {
		http.Error(w, "NOTIFY only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	ev := genaEvent{At: at, SID: r.Header.Get("SID"), Seq: r.Header.Get("SEQ"), Vars: parsePropertySet(body)}
	select {
	case g.events <- ev:
	default:
	}
}

// parsePropertySet returns the variables of a GENA propertyset, or an
// empty map for a body it cannot read.
func parsePropertySet(body []byte) map[string]string {
	vars := map[string]string{}
	var set struct {
		Props []struct {
			Vars []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"property"`
	}
	if xml.Unmarshal(body, &set) != nil {
		return vars
	}
	for _, p := range set.Props {
		for _, v := range p.Vars {
			vars[v.XMLName.Local] = v.Value
		}
	}
	return vars
}

// subscribe subscribes the sink to the events at eventURL for timeout
// seconds and returns the SID.
func (g *genaSink) subscribe(ctx context.Context, hc *http.Client, eventURL string, timeout int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "SUBSCRIBE", eventURL, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("CALLBACK", "<"+g.callback+">")
	req.Header.Set("NT", "upnp:event")
	req.Header.Set("TIMEOUT", "Second-"+strconv.Itoa(timeout))
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("SID") == "" {
		return "", fmt.Errorf("SUBSCRIBE %s: %s, SID %q", eventURL, resp.Status, resp.Header.Get("SID"))
	}
	return resp.Header.Get("SID"), nil
}

// await returns the first event from sid for which ok holds, and the
// other events of sid received before it; false after timeout. Events of
// other subscriptions are kept for later calls.
func (g *genaSink) await(sid string, timeout time.Duration, ok func(genaEvent) bool) (genaEvent, []genaEvent, bool) {
	deadline := time.After(timeout)
	var before, others []genaEvent
	defer func() {
		for _, ev := range others {
			g.events <- ev
		}
	}()
	for {
		select {
		case ev := <-g.events:
			if ev.SID != sid {
				others = append(others, ev)
				continue
			}
			if ok(ev) {
				return ev, before, true
			}
			before = append(before, ev)
		case <-deadline:
			return genaEvent{}, before, false
		}
	}
}

// ---------------------------------------------------------------------------
// Odds and ends

// labClient returns an HTTP client whose connections come from namespace
// ns: a new connection per request, as both servers are measured alike.
func (r *refLab) labClient(tb testing.TB, ns string) *http.Client {
	return r.HTTPClient(tb, ns, 2*time.Minute)
}
