package dlna

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const envStart = `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`
const envEnd = `</s:Body></s:Envelope>`

func TestDecodeSOAP(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *soapRequest
	}{
		{"browse", envStart + `<u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>10</RequestedCount><SortCriteria></SortCriteria></u:Browse>` + envEnd,
			&soapRequest{ns: cdsType, action: "Browse", args: map[string]string{"ObjectID": "0", "BrowseFlag": "BrowseDirectChildren", "Filter": "*", "StartingIndex": "0", "RequestedCount": "10", "SortCriteria": ""}}},
		{"header and whitespace", "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">\n <s:Header><x:Y xmlns:x=\"urn:x\"><z/></x:Y></s:Header>\n <s:Body>\n  <u:GetSystemUpdateID xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\"/>\n </s:Body>\n</s:Envelope>",
			&soapRequest{ns: cdsType, action: "GetSystemUpdateID", args: map[string]string{}}},
		{"entities and CDATA", envStart + `<u:Search xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><SearchCriteria>dc:title contains &quot;A&amp;B&quot;</SearchCriteria><Filter><![CDATA[dc:title,res]]></Filter></u:Search>` + envEnd,
			&soapRequest{ns: cdsType, action: "Search", args: map[string]string{"SearchCriteria": `dc:title contains "A&B"`, "Filter": "dc:title,res"}}},
		{"other prefixes", `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><m:Browse xmlns:m="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0/a</ObjectID></m:Browse></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
			&soapRequest{ns: cdsType, action: "Browse", args: map[string]string{"ObjectID": "0/a"}}},
	}
	for _, tt := range tests {
		got, err := decodeSOAP(strings.NewReader(tt.body))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: decodeSOAP = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestDecodeSOAPRefuses(t *testing.T) {
	action := func(args string) string {
		return envStart + `<u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">` + args + `</u:Browse>` + envEnd
	}
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", "", errInvalidAction},
		{"not XML", "hello", errInvalidAction},
		{"no body", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"></s:Envelope>`, errInvalidAction},
		{"empty body", envStart + envEnd, errInvalidAction},
		{"not an envelope", `<Browse><ObjectID>0</ObjectID></Browse>`, errInvalidAction},
		{"truncated", action(`<ObjectID>0</ObjectID>`)[:150], errInvalidAction},
		{"mismatched tags", envStart + `<u:Browse xmlns:u="x"><ObjectID>0</Filter></u:Browse>` + envEnd, errInvalidArgs},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + action(`<ObjectID>&a;</ObjectID>`), errInvalidAction},
		{"undefined entity", action(`<ObjectID>&xxe;</ObjectID>`), errInvalidArgs},
		{"nested argument", action(`<ObjectID><x>0</x></ObjectID>`), errInvalidArgs},
		{"repeated argument", action(`<ObjectID>0</ObjectID><ObjectID>1</ObjectID>`), errInvalidArgs},
		{"too many arguments", action(strings.Repeat("<a1>x</a1>", 1) + func() string {
			var b strings.Builder
			for i := range maxSOAPArgs + 1 {
				b.WriteString("<x" + strings.Repeat("y", i) + ">v</x" + strings.Repeat("y", i) + ">")
			}
			return b.String()
		}()), errInvalidArgs},
	}
	for _, tt := range tests {
		got, err := decodeSOAP(strings.NewReader(tt.body))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: decodeSOAP = %+v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestEncodeSOAP(t *testing.T) {
	r := soapResponse{cdsType, "Browse", []soapArg{{"Result", `<DIDL-Lite><item id="a&amp;b"/></DIDL-Lite>`, false}, {"NumberReturned", "1", false}}}
	resp := r.String()
	if r.Len() != len(resp) {
		t.Errorf("Len %d, written %d bytes", r.Len(), len(resp))
	}
	var env struct {
		Body struct {
			Resp struct {
				XMLName xml.Name
				Result  string
				N       string `xml:"NumberReturned"`
			} `xml:",any"`
		}
	}
	if err := xml.Unmarshal([]byte(resp), &env); err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, resp)
	}
	if env.Body.Resp.XMLName.Local != "BrowseResponse" || env.Body.Resp.XMLName.Space != cdsType ||
		env.Body.Resp.Result != `<DIDL-Lite><item id="a&amp;b"/></DIDL-Lite>` || env.Body.Resp.N != "1" {
		t.Errorf("decoded %+v from\n%s", env.Body.Resp, resp)
	}
	fault := encodeSOAPFault(errNoSuchObject)
	var f struct {
		Body struct {
			Fault struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
				Detail struct {
					Err struct {
						Code int    `xml:"errorCode"`
						Desc string `xml:"errorDescription"`
					} `xml:"urn:schemas-upnp-org:control-1-0 UPnPError"`
				} `xml:"detail"`
			}
		}
	}
	if err := xml.Unmarshal(fault, &f); err != nil {
		t.Fatalf("fault is not XML: %v\n%s", err, fault)
	}
	if f.Body.Fault.Code != "s:Client" || f.Body.Fault.String != "UPnPError" || f.Body.Fault.Detail.Err.Code != 701 || f.Body.Fault.Detail.Err.Desc != "No such object" {
		t.Errorf("fault decoded as %+v from\n%s", f.Body.Fault, fault)
	}
}

// FuzzDecodeSOAP checks that any body decodes or fails with one of the
// two UPnP errors, without panicking, and that decoded argument values
// survive encoding into a response.
func FuzzDecodeSOAP(f *testing.F) {
	f.Add(envStart + `<u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag></u:Browse>` + envEnd)
	f.Add(envStart + `<u:X_SetBookmark xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1"><ObjectID>0/a</ObjectID><PosSecond>120</PosSecond></u:X_SetBookmark>` + envEnd)
	f.Add(`<s:Envelope><s:Header/><s:Body><a/></s:Body></s:Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeSOAP(strings.NewReader(body))
		if err != nil {
			if !errors.Is(err, errInvalidAction) && !errors.Is(err, errInvalidArgs) {
				t.Fatalf("decodeSOAP(%q): %v is not a UPnP error", body, err)
			}
			return
		}
		if len(req.args) > maxSOAPArgs {
			t.Fatalf("%d arguments", len(req.args))
		}
		var out []soapArg
		for k, v := range req.args {
			out = append(out, soapArg{"V", k + v, false}, soapArg{"E", xmlString(k + v), true})
		}
		r := soapResponse{cdsType, "Browse", out}
		resp := r.String()
		if xml.Unmarshal([]byte(resp), new(struct{})) != nil {
			t.Fatalf("response to %q is not XML:\n%s", body, resp)
		}
		if r.Len() != len(resp) {
			t.Fatalf("response to %q: Len %d, written %d bytes", body, r.Len(), len(resp))
		}
	})
}
