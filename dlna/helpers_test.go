package dlna

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// fakeContent is a Content held in memory, with files on disk for Open
// when made by newFake.
type fakeContent struct {
	mu      sync.Mutex
	names   []string
	shares  map[string]*fakeShare
	recent  []library.Addition
	disk    string       // folder holding one folder per share; "" for none
	set     *library.Set // Watch's source
	fetched atomic.Int64 // entries returned by Children, for cost tests
}

type fakeShare struct {
	offline    bool
	notIndexed bool
	entries    map[string]library.Entry   // rel -> entry; "." is the share
	dirs       map[string][]library.Entry // folder rel -> children in the default order
}

// fakeFile describes a file of a fake share: a path ending in "/" is an
// empty folder.
type fakeFile struct {
	share, path string
	size        int
	mod         time.Time
	data        string // the file's contents, if set (size is then its length)
}

var testTime = time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)

// newFake returns a fake holding files, written to disk (with size bytes
// of a repeating pattern) when onDisk.
func newFake(t testing.TB, onDisk bool, files ...fakeFile) *fakeContent {
	t.Helper()
	f := &fakeContent{shares: make(map[string]*fakeShare), set: &library.Set{}}
	if onDisk {
		f.disk = t.TempDir()
	}
	for _, ff := range files {
		f.add(t, ff)
	}
	f.sortAll()
	return f
}

func (f *fakeContent) share(name string) *fakeShare {
	sh, ok := f.shares[name]
	if !ok {
		sh = &fakeShare{
			entries: map[string]library.Entry{".": {Name: name, Dir: true}},
			dirs:    map[string][]library.Entry{".": nil},
		}
		f.shares[name] = sh
		f.names = append(f.names, name)
		if f.disk != "" {
			os.MkdirAll(filepath.Join(f.disk, name), 0o755)
		}
	}
	return sh
}

func (f *fakeContent) add(t testing.TB, ff fakeFile) {
	if ff.data != "" {
		ff.size = len(ff.data)
	}
	sh := f.share(ff.share)
	p := strings.TrimSuffix(ff.path, "/")
	isDir := strings.HasSuffix(ff.path, "/")
	// Make the folders on the way.
	dir := "."
	comps := strings.Split(p, "/")
	for i, c := range comps {
		rel := joinRel(dir, c)
		last := i == len(comps)-1
		if _, ok := sh.entries[rel]; !ok {
			e := library.Entry{Name: c, Dir: !last || isDir}
			if !e.Dir {
				e.Size = int64(ff.size)
				e.ModTime = ff.mod
				if e.ModTime.IsZero() {
					e.ModTime = testTime
				}
				e.Added = e.ModTime
				e.Kind = library.KindOf(c)
			} else {
				sh.dirs[rel] = nil
			}
			sh.entries[rel] = e
			sh.dirs[dir] = append(sh.dirs[dir], e)
			if f.disk != "" {
				hp := filepath.Join(f.disk, ff.share, filepath.FromSlash(rel))
				if e.Dir {
					os.MkdirAll(hp, 0o755)
				} else {
					data := bytes.Repeat([]byte("0123456789abcdef"), ff.size/16+1)[:ff.size]
					if ff.data != "" {
						data = []byte(ff.data)
					}
					if err := os.WriteFile(hp, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		dir = rel
	}
}

// sortAll puts every folder in the default order and sets the counts.
func (f *fakeContent) sortAll() {
	for _, sh := range f.shares {
		for dir, list := range sh.dirs {
			// Refresh entries (Children counts) from the map.
			for i := range list {
				list[i] = sh.entries[joinRel(dir, list[i].Name)]
				if list[i].Dir {
					list[i].Children = len(sh.dirs[joinRel(dir, list[i].Name)])
					sh.entries[joinRel(dir, list[i].Name)] = list[i]
				}
			}
			slices.SortFunc(list, defaultCompare)
			e := sh.entries[dir]
			e.Children = len(list)
			sh.entries[dir] = e
		}
		// Counts of folders changed above; copy them into their parents' lists.
		for dir, list := range sh.dirs {
			for i := range list {
				list[i] = sh.entries[joinRel(dir, list[i].Name)]
			}
		}
	}
}

func (f *fakeContent) lookupShare(name string) (*fakeShare, error) {
	sh, ok := f.shares[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", library.ErrNoShare, name)
	case sh.offline:
		return nil, fmt.Errorf("%w: %q", library.ErrOffline, name)
	case sh.notIndexed:
		return nil, fmt.Errorf("%w: %q", library.ErrNotIndexed, name)
	}
	return sh, nil
}

func (f *fakeContent) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.names)
}

// shows reports whether the view shows e, as library's views do.
func shows(v library.View, e library.Entry) bool {
	return v == library.AllFiles || e.Dir || library.KindOf(e.Name) != library.Other
}

// inView returns the entries of list that the view shows.
func inView(v library.View, list []library.Entry) []library.Entry {
	if v == library.AllFiles {
		return list
	}
	var out []library.Entry
	for _, e := range list {
		if shows(v, e) {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeContent) Entry(share, rel string, v library.View) (library.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sh, err := f.lookupShare(share)
	if err != nil {
		return library.Entry{}, err
	}
	e, ok := sh.entries[rel]
	if !ok || !shows(v, e) {
		return library.Entry{}, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	if e.Dir {
		e.Children = len(inView(v, sh.dirs[rel]))
	}
	return e, nil
}

func (f *fakeContent) Children(share, rel string, v library.View, offset, limit int) ([]library.Entry, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sh, err := f.lookupShare(share)
	if err != nil {
		return nil, 0, err
	}
	list, ok := sh.dirs[rel]
	if !ok {
		if _, ok := sh.entries[rel]; ok {
			return nil, 0, errors.New("not a folder")
		}
		return nil, 0, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	list = inView(v, list)
	offset = max(offset, 0)
	end := len(list)
	if limit > 0 && offset < end && limit < end-offset {
		end = offset + limit
	}
	page := slices.Clone(list[min(offset, len(list)):end])
	for i, e := range page {
		if e.Dir {
			page[i].Children = len(inView(v, sh.dirs[joinRel(rel, e.Name)]))
		}
	}
	f.fetched.Add(int64(len(page)))
	return page, len(list), nil
}

func (f *fakeContent) Walk(share, rel string, v library.View, fn func(rel string, e library.Entry) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sh, err := f.lookupShare(share)
	if err != nil {
		return err
	}
	if _, ok := sh.dirs[rel]; !ok {
		return fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	var walk func(dir string) bool
	walk = func(dir string) bool {
		for _, e := range inView(v, sh.dirs[dir]) {
			crel := joinRel(dir, e.Name)
			if !fn(crel, e) {
				return false
			}
			if e.Dir && !walk(crel) {
				return false
			}
		}
		return true
	}
	walk(rel)
	return nil
}

func (f *fakeContent) Recent(n int) []library.Addition {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.recent[:min(n, len(f.recent))])
}

func (f *fakeContent) Open(share, rel string) (*os.File, fs.FileInfo, error) {
	if _, err := f.Entry(share, rel, library.AllFiles); err != nil {
		return nil, nil, err
	}
	if f.disk == "" {
		return nil, nil, fs.ErrNotExist
	}
	file, err := os.Open(filepath.Join(f.disk, share, filepath.FromSlash(rel)))
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		file.Close()
		return nil, nil, fmt.Errorf("%s: %w", rel, library.ErrNotRegular)
	}
	return file, fi, nil
}

func (f *fakeContent) Watch() *library.Watcher { return f.set.Watch() }

// fakeDetails is a Details held in memory, keyed by "share/rel", counting
// its lookups.
type fakeDetails struct {
	m     map[string]probe.Details
	calls atomic.Int64
}

func (f *fakeDetails) Of(share, rel string, e library.Entry) (probe.Details, bool) {
	f.calls.Add(1)
	if e.Dir {
		return probe.Details{}, false
	}
	d, ok := f.m[share+"/"+rel]
	return d, ok
}

func (f *fakeDetails) OfMany(share string, rels []string, es []library.Entry, fn func(i int, d probe.Details)) {
	for i, e := range es {
		if d, ok := f.Of(share, rels[i], e); ok {
			fn(i, d)
		}
	}
}

// testServer is a Server serving on loopback.
type testServer struct {
	*Server
	base string // "http://127.0.0.1:port"
	host string // "127.0.0.1:port"
}

// newTestServer starts srv (with a fake machine ID and UTC dates unless
// set) on 127.0.0.1 and stops it at the end of the test.
func newTestServer(t testing.TB, srv *Server) *testServer {
	t.Helper()
	if srv.machineIDFile == "" {
		p := filepath.Join(t.TempDir(), "machine-id")
		os.WriteFile(p, []byte("0123456789abcdef0123456789abcdef\n"), 0o444)
		srv.machineIDFile = p
	}
	if srv.location == nil {
		srv.location = time.UTC
	}
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.DiscardHandler)
	}
	if srv.Name == "" {
		srv.Name = "Test Media"
	}
	if srv.Version == "" {
		srv.Version = "1.0-test"
	}
	srv.init() // before Serve, so the test may look at the services
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &testServer{Server: srv, base: "http://" + l.Addr().String(), host: l.Addr().String()}
}

// soapResult is a decoded control response.
type soapResult struct {
	status int
	out    map[string]string // output arguments
	code   int               // UPnP error code of a fault
	body   string
}

// soap calls action of the service with args given as name, value pairs,
// with the extra request headers hdr.
func soap(t testing.TB, base, svc, action string, hdr http.Header, args ...string) soapResult {
	t.Helper()
	typ := map[string]string{
		"ContentDirectory":            cdsType,
		"ConnectionManager":           cmType,
		"X_MS_MediaReceiverRegistrar": registrarType,
	}[svc]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`)
	fmt.Fprintf(&b, `<u:%s xmlns:u="%s">`, action, typ)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, "<%s>%s</%s>", args[i], xmlString(args[i+1]), args[i])
	}
	fmt.Fprintf(&b, `</u:%s></s:Body></s:Envelope>`, action)
	return soapRaw(t, base, svc, `"`+typ+"#"+action+`"`, hdr, b.String())
}

// soapRaw posts body to the service's control URL.
func soapRaw(t testing.TB, base, svc, soapAction string, hdr http.Header, body string) soapResult {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/control/"+svc, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	req.Header.Set("SOAPACTION", soapAction)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	res := soapResult{status: resp.StatusCode, body: string(data), out: map[string]string{}}
	if resp.StatusCode != 200 && resp.StatusCode != 500 {
		return res
	}
	// Walk the envelope: the first element in Body is the response or
	// the fault.
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, data)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tk.Name.Local)
			if len(stack) == 4 && stack[2] != "Fault" {
				var v string
				if err := d.DecodeElement(&v, &tk); err != nil {
					t.Fatalf("argument %s: %v", tk.Name.Local, err)
				}
				res.out[tk.Name.Local] = v
				stack = stack[:len(stack)-1]
			}
			if tk.Name.Local == "errorCode" {
				var v string
				d.DecodeElement(&v, &tk)
				res.code, _ = strconv.Atoi(v)
				stack = stack[:len(stack)-1]
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return res
}

// didlDoc is a parsed DIDL-Lite document.
type didlDoc struct {
	Objects []didlObj `xml:",any"`
}

type didlObj struct {
	XMLName     xml.Name
	ID          string    `xml:"id,attr"`
	ParentID    string    `xml:"parentID,attr"`
	RefID       string    `xml:"refID,attr"`
	Restricted  string    `xml:"restricted,attr"`
	Searchable  string    `xml:"searchable,attr"`
	ChildCount  string    `xml:"childCount,attr"`
	Title       string    `xml:"http://purl.org/dc/elements/1.1/ title"`
	Class       string    `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ class"`
	Date        string    `xml:"http://purl.org/dc/elements/1.1/ date"`
	DcmInfo     string    `xml:"http://www.sec.co.kr/ dcmInfo"`
	Artist      string    `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ artist"`
	Album       string    `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ album"`
	Track       string    `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ originalTrackNumber"`
	Creator     string    `xml:"http://purl.org/dc/elements/1.1/ creator"`
	AlbumArt    []didlArt `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ albumArtURI"`
	CaptionInfo []didlCap `xml:"http://www.sec.co.kr/ CaptionInfoEx"`
	Res         []didlRes `xml:"res"`
}

type didlRes struct {
	ProtocolInfo    string `xml:"protocolInfo,attr"`
	Size            string `xml:"size,attr"`
	Duration        string `xml:"duration,attr"`
	Resolution      string `xml:"resolution,attr"`
	Bitrate         string `xml:"bitrate,attr"`
	NrAudioChannels string `xml:"nrAudioChannels,attr"`
	SampleFrequency string `xml:"sampleFrequency,attr"`
	URL             string `xml:",chardata"`
}

type didlArt struct {
	ProfileID string `xml:"urn:schemas-dlna-org:metadata-1-0/ profileID,attr"`
	URL       string `xml:",chardata"`
}

type didlCap struct {
	Type string `xml:"http://www.sec.co.kr/ type,attr"`
	URL  string `xml:",chardata"`
}

func (o didlObj) isContainer() bool { return o.XMLName.Local == "container" }

func parseDIDL(t testing.TB, s string) []didlObj {
	t.Helper()
	var doc didlDoc
	if err := xml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("DIDL-Lite is not XML: %v\n%s", err, s)
	}
	return doc.Objects
}

// browseResult is a Browse or Search answer.
type browseResult struct {
	soapResult
	objects                 []didlObj
	returned, total, update int
}

func browseCall(t testing.TB, base string, hdr http.Header, args ...string) browseResult {
	t.Helper()
	r := soap(t, base, "ContentDirectory", "Browse", hdr, args...)
	return decodeBrowse(t, r)
}

func decodeBrowse(t testing.TB, r soapResult) browseResult {
	t.Helper()
	br := browseResult{soapResult: r}
	if r.status != 200 {
		return br
	}
	br.objects = parseDIDL(t, r.out["Result"])
	br.returned, _ = strconv.Atoi(r.out["NumberReturned"])
	br.total, _ = strconv.Atoi(r.out["TotalMatches"])
	br.update, _ = strconv.Atoi(r.out["UpdateID"])
	if br.returned != len(br.objects) {
		t.Errorf("NumberReturned %d, but %d objects", br.returned, len(br.objects))
	}
	return br
}

// browse is Browse with every argument.
func browse(t testing.TB, base, id, flag string, start, count int, sort string) browseResult {
	t.Helper()
	return browseCall(t, base, nil, "ObjectID", id, "BrowseFlag", flag, "Filter", "*",
		"StartingIndex", strconv.Itoa(start), "RequestedCount", strconv.Itoa(count), "SortCriteria", sort)
}

func titles(objs []didlObj) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Title)
	}
	return out
}

// allowAll lets every address in, for tests that use loopback anyway.
func allowAll(netip.Addr) bool { return true }
