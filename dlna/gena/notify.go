package gena

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
)

// outcome is what became of one event for one subscriber.
type outcome uint8

const (
	delivered  outcome = iota
	failed             // no callback took it
	unknownSID         // a callback answered 412: the subscriber forgot us
)

// notify sends one event to s, trying its callbacks in order.
func (p *Publisher) notify(ctx context.Context, client *http.Client, s *subscription, seq uint32, body []byte) outcome {
	for _, u := range s.callbacks {
		res := p.notifyOne(ctx, client, u.String(), s.sid, seq, body)
		if res != failed {
			return res
		}
	}
	return failed
}

func (p *Publisher) notifyOne(ctx context.Context, client *http.Client, url, sid string, seq uint32, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, p.timeoutPerTry())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "NOTIFY", url, bytes.NewReader(body))
	if err != nil {
		return failed
	}
	h := req.Header
	h["CONTENT-TYPE"] = []string{`text/xml; charset="utf-8"`}
	h["NT"] = []string{"upnp:event"}
	h["NTS"] = []string{"upnp:propchange"}
	h["SID"] = []string{sid}
	h["SEQ"] = []string{strconv.FormatUint(uint64(seq), 10)}
	h["User-Agent"] = []string{p.ServerHeader} // "" sends none
	resp, err := client.Do(req)
	if err != nil {
		p.log().Debug("GENA: NOTIFY failed", "sid", sid, "seq", seq, "err", err)
		return failed
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return delivered
	case http.StatusPreconditionFailed:
		return unknownSID
	}
	p.log().Debug("GENA: NOTIFY refused", "sid", sid, "seq", seq, "status", resp.StatusCode)
	return failed
}

// propertySet returns the body of an event with props. Properties whose
// name is not an XML name are left out and logged.
func (p *Publisher) propertySet(props []Property) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">`)
	for _, prop := range props {
		if !xmlName(prop.Name) {
			p.log().Error("GENA: property name is not an XML name; left out", "name", prop.Name)
			continue
		}
		b.WriteString("<e:property><" + prop.Name + ">")
		xml.EscapeText(&b, []byte(prop.Value))
		b.WriteString("</" + prop.Name + "></e:property>")
	}
	b.WriteString("</e:propertyset>\n")
	return b.Bytes()
}

// xmlName reports whether s is a plain XML name: an ASCII letter or _
// followed by ASCII letters, digits, _, - and dots. Evented variables are
// named so.
func xmlName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
