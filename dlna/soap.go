package dlna

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// SOAP limits. A control request is small: Browse with every argument is
// well under 2 KiB.
const (
	// maxSOAPBody bounds a control request's body; longer ones get 413.
	maxSOAPBody = 64 << 10
	// drainSOAPBody is how much more of a too long body is read before
	// the 413, so that a client still sending it gets the answer.
	drainSOAPBody = 1 << 20
	// maxSOAPArgs bounds the arguments of one action.
	maxSOAPArgs = 32
)

const (
	soapEnvNS      = "http://schemas.xmlsoap.org/soap/envelope/"
	soapEncodingNS = "http://schemas.xmlsoap.org/soap/encoding/"
	upnpControlNS  = "urn:schemas-upnp-org:control-1-0"
)

// soapRequest is a decoded control request.
type soapRequest struct {
	// ns is the action element's namespace: the service type, such as
	// "urn:schemas-upnp-org:service:ContentDirectory:1"; empty if the
	// client gave none.
	ns string
	// action is the action's name, such as "Browse".
	action string
	// args maps each argument's name to its value.
	args map[string]string
}

// decodeSOAP reads a SOAP 1.1 envelope carrying one UPnP action (UDA 1.1,
// 3.2.1) from r, which the caller bounds. Element names are matched by
// their local name, so clients that get the envelope's namespace prefix
// wrong are still understood. A body from which no action can be read is
// errInvalidAction; an action whose arguments are not plain text
// elements, or repeat, is errInvalidArgs. Both wrap the decoding error.
func decodeSOAP(r io.Reader) (*soapRequest, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	// Only the predefined entities; no charset conversion: UPnP is UTF-8.
	depth := 0
	path := []string{"Envelope", "Body"} // what must enclose the action
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: reading the envelope: %w", errInvalidAction, eofIsUnexpected(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth < len(path) {
				if t.Name.Local != path[depth] {
					if depth == 1 && t.Name.Local == "Header" {
						if err := d.Skip(); err != nil {
							return nil, fmt.Errorf("%w: reading the header: %w", errInvalidAction, eofIsUnexpected(err))
						}
						continue
					}
					return nil, fmt.Errorf("%w: <%s> where <%s> belongs", errInvalidAction, t.Name.Local, path[depth])
				}
				depth++
				continue
			}
			req := &soapRequest{ns: t.Name.Space, action: t.Name.Local, args: make(map[string]string)}
			if err := req.readArgs(d); err != nil {
				return nil, err
			}
			return req, nil
		case xml.EndElement:
			return nil, fmt.Errorf("%w: no action in the body", errInvalidAction)
		case xml.CharData, xml.Comment, xml.ProcInst:
			// Whitespace, the XML declaration, comments.
		case xml.Directive:
			return nil, fmt.Errorf("%w: directive in the envelope", errInvalidAction)
		}
	}
}

// readArgs reads the action element's children, each an argument with
// text content, up to the action's end.
func (req *soapRequest) readArgs(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("%w: reading %s: %w", errInvalidAction, req.action, eofIsUnexpected(err))
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			name := t.Name.Local
			if _, dup := req.args[name]; dup {
				return fmt.Errorf("%w: argument %s given twice", errInvalidArgs, name)
			}
			if len(req.args) >= maxSOAPArgs {
				return fmt.Errorf("%w: more than %d arguments", errInvalidArgs, maxSOAPArgs)
			}
			value, err := readText(d)
			if err != nil {
				return fmt.Errorf("%w: argument %s: %w", errInvalidArgs, name, err)
			}
			req.args[name] = value
		case xml.Directive:
			return fmt.Errorf("%w: directive in %s", errInvalidAction, req.action)
		}
	}
}

// readText reads an element's text up to its end; nested elements are an
// error.
func readText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", eofIsUnexpected(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("element <%s> inside an argument", t.Name.Local)
		case xml.Directive:
			return "", errors.New("directive inside an argument")
		}
	}
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// soapArg is one output argument of an action, in SCPD order.
type soapArg struct {
	name, value string
	escaped     bool // value is XML text already
}

// soapResponse is the response envelope of action of the service of type
// serviceType. Its length is known before it is written (Len), so a page
// of megabytes goes to the client as it is escaped, never copied into a
// second buffer.
type soapResponse struct {
	serviceType, action string
	out                 []soapArg
}

func (r soapResponse) head() string {
	return `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<s:Envelope xmlns:s="` + soapEnvNS + `" s:encodingStyle="` + soapEncodingNS + `"><s:Body>` +
		`<u:` + r.action + `Response xmlns:u="` + xmlString(r.serviceType) + `">`
}

func (r soapResponse) tail() string {
	return `</u:` + r.action + `Response></s:Body></s:Envelope>` + "\n"
}

// Len returns how many bytes WriteTo writes.
func (r soapResponse) Len() int {
	n := len(r.head()) + len(r.tail())
	for _, a := range r.out {
		n += len("<></>") + 2*len(a.name)
		if a.escaped {
			n += len(a.value)
		} else {
			n += escapedLen(a.value)
		}
	}
	return n
}

// answerWriter is what a SOAP answer is written to.
type answerWriter interface {
	io.Writer
	io.StringWriter
}

// WriteTo writes the envelope to w; it returns the first write error.
// An escaped value (a Result of megabytes) goes to w as bytes, which
// bufio and net/http hand to the connection in one write instead of
// copying it through their buffers a few KiB at a time: a string would
// take one write(2) per 4 KiB.
func (r soapResponse) WriteTo(w answerWriter) error {
	ew := &errWriter{w: w}
	ew.WriteString(r.head())
	for _, a := range r.out {
		ew.WriteString("<" + a.name + ">")
		if a.escaped {
			ew.Write(stringBytes(a.value))
		} else {
			escapeXML(ew, a.value)
		}
		ew.WriteString("</" + a.name + ">")
	}
	ew.WriteString(r.tail())
	return ew.err
}

// stringBytes returns the bytes of s without a copy, for an io.Writer,
// which must not modify them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// String returns the envelope.
func (r soapResponse) String() string {
	var b strings.Builder
	b.Grow(r.Len())
	r.WriteTo(&b)
	return b.String()
}

// errWriter keeps the first error of its writes and writes nothing after.
type errWriter struct {
	w   answerWriter
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) WriteString(s string) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.WriteString(s)
	e.err = err
	return n, err
}

// encodeSOAPFault returns the SOAP fault carrying a UPnP error (UDA 1.1,
// 3.2.2), sent with HTTP status 500.
func encodeSOAPFault(e *upnpError) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<s:Envelope xmlns:s="` + soapEnvNS + `" s:encodingStyle="` + soapEncodingNS + `"><s:Body>`)
	b.WriteString(`<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>`)
	fmt.Fprintf(&b, `<UPnPError xmlns="%s"><errorCode>%d</errorCode><errorDescription>`, upnpControlNS, e.code)
	escapeXML(&b, e.desc)
	b.WriteString(`</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>` + "\n")
	return b.Bytes()
}
