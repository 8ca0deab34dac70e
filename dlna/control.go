package dlna

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mediaftpd/mediaftpd/dlna/quirks"
)

// action is one entry of a service's action table.
type action struct {
	// in and out are the argument names, in the SCPD's order (a test
	// holds the SCPDs to them).
	in, out []string
	// optional are in-arguments that may be missing: some clients leave
	// out Filter or SortCriteria. A missing argument not listed here is
	// errInvalidArgs.
	optional []string
	// run answers the action with the values of out, in order.
	run func(srv *Server, c *call) ([]string, error)
	// escaped are the out-arguments whose values run returns already
	// escaped as XML text: the DIDL-Lite of Browse and Search is written
	// that way (didlWriter).
	escaped []string
	// refused marks a write action: the server is read-only, so it gets
	// errInvalidAction from one place, without running anything.
	refused bool
}

// writeActions are ContentDirectory's actions that would change the
// content (ContentDirectory:1 2.7 and later versions). None is in the
// SCPD, and each is refused.
var writeActions = []string{
	"CreateObject", "DestroyObject", "UpdateObject", "MoveObject",
	"ImportResource", "ExportResource", "DeleteResource",
	"StopTransferResource", "CreateReference",
}

// call is one action being answered.
type call struct {
	r      *http.Request
	action string
	args   map[string]string
	client quirks.Client
}

// str returns an argument's value, "" if missing.
func (c *call) str(name string) string { return c.args[name] }

// uint returns an argument of type ui4; missing (when optional) or empty
// is 0.
func (c *call) uint(name string) (int64, error) {
	s := strings.TrimSpace(c.args[name])
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not a ui4: %q", errInvalidArgs, name, s)
	}
	return int64(n), nil
}

// serveControl answers a SOAP control request for svc (UDA 1.1, 3.2).
func (srv *Server) serveControl(svc *service, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSOAPBody+1))
	if err == nil && len(body) > maxSOAPBody {
		// Read (and drop) what the client is still sending, up to a
		// point, so that it reads the answer rather than a reset
		// connection; then close it.
		io.CopyN(io.Discard, r.Body, drainSOAPBody)
		w.Header().Set("Connection", "close")
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		srv.logger().Debug("DLNA control request not read", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	client := quirks.Detect(r.Header)
	out, name, err := srv.control(svc, r, body, client)
	srv.seenPlayer(r, client)
	h := w.Header()
	h.Set("Content-Type", `text/xml; charset="utf-8"`)
	h.Set("Ext", "")
	if err != nil {
		var ue *upnpError
		if !errors.As(err, &ue) {
			srv.logger().Warn("DLNA action failed", "service", svc.name, "action", name, "remote", r.RemoteAddr, "err", err)
			ue = errActionFailed
		} else {
			srv.logger().Debug("DLNA action refused", "service", svc.name, "action", name, "remote", r.RemoteAddr, "err", err)
		}
		data := encodeSOAPFault(ue)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(data)
		return
	}
	resp := soapResponse{svc.typ, name, out}
	h.Set("Content-Length", strconv.Itoa(resp.Len()))
	bw := bufio.NewWriterSize(w, soapWriteBuffer)
	err = resp.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		srv.logger().Debug("DLNA answer not sent whole", "service", svc.name, "action", name, "remote", r.RemoteAddr, "err", err)
	}
}

// soapWriteBuffer is how much of an answer is written to the connection
// at once.
const soapWriteBuffer = 32 << 10

// control decodes and runs one action; it returns the output arguments,
// the action's name and its error.
func (srv *Server) control(svc *service, r *http.Request, body []byte, client quirks.Client) ([]soapArg, string, error) {
	req, err := decodeSOAP(bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	if req.ns != "" && !sameServiceType(req.ns, svc.typ) {
		return nil, req.action, fmt.Errorf("%w: %s is not an action of %s", errInvalidAction, req.ns, svc.typ)
	}
	act, ok := svc.actions[req.action]
	if !ok {
		return nil, req.action, fmt.Errorf("%w: no action %q", errInvalidAction, req.action)
	}
	if act.refused {
		srv.logger().Info("DLNA write action refused: the server is read-only", "action", req.action, "remote", r.RemoteAddr)
		return nil, req.action, fmt.Errorf("%w: %s: the server is read-only", errInvalidAction, req.action)
	}
	for _, name := range act.in {
		if _, ok := req.args[name]; !ok && !slices.Contains(act.optional, name) {
			return nil, req.action, fmt.Errorf("%w: %s is missing", errInvalidArgs, name)
		}
	}
	c := &call{r: r, action: req.action, args: req.args, client: client}
	values, err := act.run(srv, c)
	if err != nil {
		return nil, req.action, err
	}
	out := make([]soapArg, len(act.out))
	for i, name := range act.out {
		out[i] = soapArg{name, values[i], slices.Contains(act.escaped, name)}
	}
	return out, req.action, nil
}

// sameServiceType reports whether a request's namespace names the service
// of type typ, in a version up to ours (a control point that knows version
// 1 and one that asks for version 1 of a later service are both served).
func sameServiceType(ns, typ string) bool {
	i, j := strings.LastIndexByte(ns, ':'), strings.LastIndexByte(typ, ':')
	if i < 0 || j < 0 || ns[:i] != typ[:j] {
		return false
	}
	v, err := strconv.Atoi(ns[i+1:])
	our, _ := strconv.Atoi(typ[j+1:])
	return err == nil && v >= 1 && v <= our
}
