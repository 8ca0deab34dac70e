package dlna

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/dcps/av1"
	gosoap "github.com/huin/goupnp/soap"
)

// TestGoUPnPClient drives the server with a real control point library,
// github.com/huin/goupnp, from the device description on: no SSDP, the
// description's URL is given.
func TestGoUPnPClient(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	loc, _ := url.Parse(ts.base + DescriptionPath)
	root, err := goupnp.DeviceByURL(loc)
	if err != nil {
		t.Fatal(err)
	}
	if root.Device.FriendlyName != "Test Media" || root.Device.UDN != ts.UDN() || root.Device.DeviceType != DeviceType {
		t.Errorf("device %+v", root.Device)
	}
	cds, err := av1.NewContentDirectory1ClientsFromRootDevice(root, loc)
	if err != nil || len(cds) != 1 {
		t.Fatalf("ContentDirectory clients: %v, %v", cds, err)
	}
	cd := cds[0]
	cms, err := av1.NewConnectionManager1ClientsFromRootDevice(root, loc)
	if err != nil || len(cms) != 1 {
		t.Fatalf("ConnectionManager clients: %v, %v", cms, err)
	}
	cm := cms[0]
	regs, err := goupnp.NewServiceClientsFromRootDevice(root, loc, registrarType)
	if err != nil || len(regs) != 1 {
		t.Fatalf("registrar clients: %v, %v", regs, err)
	}
	reg := regs[0]

	upnpCode := func(err error) int {
		var f *gosoap.SOAPFaultError
		if errors.As(err, &f) {
			return f.Detail.UPnPError.Errorcode
		}
		return 0
	}
	tests := []struct {
		name string
		call func() (string, error)
		want string // a substring of the answer
		code int    // the UPnP error, if one is wanted
	}{
		{"Browse root", func() (string, error) {
			r, n, total, _, err := cd.Browse("0", "BrowseDirectChildren", "*", 0, 0, "")
			return strings.Join([]string{r, strconv.Itoa(int(n)), strconv.Itoa(int(total))}, "|"), err
		}, `<dc:title>Music</dc:title>`, 0},
		{"Browse page", func() (string, error) {
			_, n, total, _, err := cd.Browse("0/Movies", "BrowseDirectChildren", "*", 3, 2, "")
			return strconv.Itoa(int(n)) + "/" + strconv.Itoa(int(total)), err
		}, "2/6", 0},
		{"Browse sorted", func() (string, error) {
			r, _, _, _, err := cd.Browse("0/Music", "BrowseDirectChildren", "dc:title", 0, 1, "-dc:title")
			return r, err
		}, "<dc:title>Song 10</dc:title>", 0},
		{"Browse metadata", func() (string, error) {
			r, _, _, _, err := cd.Browse("0/Music/Song%201.mp3", "BrowseMetadata", "*", 0, 0, "")
			return r, err
		}, `size="10"`, 0},
		{"Browse no such object", func() (string, error) {
			_, _, _, _, err := cd.Browse("0/Nope", "BrowseMetadata", "*", 0, 0, "")
			return "", err
		}, "", 701},
		{"Browse bad sort", func() (string, error) {
			_, _, _, _, err := cd.Browse("0", "BrowseDirectChildren", "*", 0, 0, "dc:title;")
			return "", err
		}, "", 709},
		{"Browse bad flag", func() (string, error) {
			_, _, _, _, err := cd.Browse("0", "BrowseAll", "*", 0, 0, "")
			return "", err
		}, "", 402},
		{"Search", func() (string, error) {
			r, n, _, _, err := cd.Search("0", `upnp:class derivedfrom "object.item.audioItem"`, "*", 0, 0, "+dc:title")
			return r + "|" + strconv.Itoa(int(n)), err
		}, "|3", 0},
		{"Search bad criteria", func() (string, error) {
			_, _, _, _, err := cd.Search("0", `dc:title contains`, "*", 0, 0, "")
			return "", err
		}, "", 708},
		{"GetSearchCapabilities", cd.GetSearchCapabilities, "dc:title", 0},
		{"GetSortCapabilities", cd.GetSortCapabilities, "dc:title,dc:date,upnp:class", 0},
		{"GetSystemUpdateID", func() (string, error) {
			id, err := cd.GetSystemUpdateID()
			return strconv.Itoa(int(id)), err
		}, "1", 0},
		{"CreateObject", func() (string, error) {
			_, _, err := cd.CreateObject("0", `<DIDL-Lite/>`)
			return "", err
		}, "", 401},
		{"DestroyObject", func() (string, error) { return "", cd.DestroyObject("0/Music/Song%201.mp3") }, "", 401},
		{"UpdateObject", func() (string, error) { return "", cd.UpdateObject("0/Music/Song%201.mp3", "", "") }, "", 401},
		{"GetProtocolInfo", func() (string, error) {
			src, sink, err := cm.GetProtocolInfo()
			return src + "|" + sink, err
		}, "http-get:*:audio/mpeg:DLNA.ORG_OP=01", 0},
		{"GetCurrentConnectionIDs", cm.GetCurrentConnectionIDs, "0", 0},
		{"GetCurrentConnectionInfo", func() (string, error) {
			_, _, _, _, _, dir, status, err := cm.GetCurrentConnectionInfo(0)
			return dir + "/" + status, err
		}, "Output/OK", 0},
		{"GetCurrentConnectionInfo bad", func() (string, error) {
			_, _, _, _, _, _, _, err := cm.GetCurrentConnectionInfo(7)
			return "", err
		}, "", 706},
		{"IsAuthorized", func() (string, error) {
			var out struct{ Result string }
			err := reg.SOAPClient.PerformAction(registrarType, "IsAuthorized", &struct{ DeviceID string }{""}, &out)
			return out.Result, err
		}, "1", 0},
		{"IsValidated", func() (string, error) {
			var out struct{ Result string }
			err := reg.SOAPClient.PerformAction(registrarType, "IsValidated", &struct{ DeviceID string }{"xbox"}, &out)
			return out.Result, err
		}, "1", 0},
		{"RegisterDevice", func() (string, error) {
			var out struct{ RegistrationRespMsg string }
			err := reg.SOAPClient.PerformAction(registrarType, "RegisterDevice", &struct{ RegistrationReqMsg string }{"AAAA"}, &out)
			return "ok", err
		}, "ok", 0},
	}
	for _, tt := range tests {
		got, err := tt.call()
		if tt.code != 0 {
			if c := upnpCode(err); c != tt.code {
				t.Errorf("%s: error %v (code %d), want UPnP error %d", tt.name, err, c, tt.code)
			}
			continue
		}
		if err != nil || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %.200q, %v; want %q in it", tt.name, got, err, tt.want)
		}
	}
}
