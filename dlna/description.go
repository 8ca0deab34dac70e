package dlna

import (
	"bytes"
	"embed"
	"net/http"
	"strconv"
)

// The SCPDs are data, one file per service, served as they are.
//
//go:embed static/*.xml
var scpdFiles embed.FS

// modelDescription and manufacturer are the description's fixed texts.
const (
	manufacturer     = "mediaftpd"
	manufacturerURL  = "https://github.com/mediaftpd/mediaftpd"
	modelName        = "mediaftpd"
	modelDescription = "mediaftpd media server"
	modelURL         = "https://github.com/mediaftpd/mediaftpd"
	// productCap is Samsung's list of extensions the server answers:
	// DCM10 for bookmarks (X_SetBookmark and sec:dcmInfo),
	// getCaptionInfo.sec for the CaptionInfo.sec header. Announcing what
	// is not answered trips old Samsungs (gerbera#2986), so smi and
	// getMediaInfo.sec are left out.
	productCap = "DCM10,getCaptionInfo.sec"
)

// description returns the device description (UPnP Device Architecture
// 1.1, 2.3) for a client that reached the server at host. All URLs in it
// are absolute paths, resolved against the description's own URL, so no
// URLBase is needed and each interface's clients get their own address.
func (srv *Server) description(host string) []byte {
	var b bytes.Buffer
	el := func(indent, name, value string) {
		b.WriteString(indent + "<" + name + ">")
		escapeXML(&b, value)
		b.WriteString("</" + name + ">\n")
	}
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:dlna="urn:schemas-dlna-org:device-1-0" xmlns:sec="http://www.sec.co.kr/dlna">` + "\n")
	b.WriteString("  <specVersion>\n    <major>1</major>\n    <minor>0</minor>\n  </specVersion>\n")
	b.WriteString("  <device>\n")
	const in = "    "
	el(in, "deviceType", DeviceType)
	el(in, "friendlyName", cleanText(srv.name()))
	el(in, "manufacturer", manufacturer)
	el(in, "manufacturerURL", manufacturerURL)
	el(in, "modelDescription", modelDescription)
	el(in, "modelName", modelName)
	el(in, "modelNumber", srv.version())
	el(in, "modelURL", modelURL)
	el(in, "serialNumber", srv.serial)
	el(in, "UDN", srv.udn)
	el(in, "dlna:X_DLNADOC", "DMS-1.50")
	el(in, "sec:ProductCap", productCap)
	if srv.PresentationURL != nil {
		if u := srv.PresentationURL(host); u != "" {
			el(in, "presentationURL", u)
		}
	}
	b.WriteString(in + "<iconList>\n")
	for _, ic := range srv.icons {
		b.WriteString(in + "  <icon>\n")
		el(in+"    ", "mimetype", ic.mime)
		el(in+"    ", "width", strconv.Itoa(ic.size))
		el(in+"    ", "height", strconv.Itoa(ic.size))
		el(in+"    ", "depth", "24")
		el(in+"    ", "url", "/icons/"+ic.file)
		b.WriteString(in + "  </icon>\n")
	}
	b.WriteString(in + "</iconList>\n")
	b.WriteString(in + "<serviceList>\n")
	for _, svc := range srv.services {
		b.WriteString(in + "  <service>\n")
		el(in+"    ", "serviceType", svc.typ)
		el(in+"    ", "serviceId", svc.id)
		el(in+"    ", "SCPDURL", "/scpd/"+svc.name+".xml")
		el(in+"    ", "controlURL", "/control/"+svc.name)
		el(in+"    ", "eventSubURL", "/event/"+svc.name)
		b.WriteString(in + "  </service>\n")
	}
	b.WriteString(in + "</serviceList>\n")
	b.WriteString("  </device>\n</root>\n")
	return b.Bytes()
}

func (srv *Server) serveDescription(w http.ResponseWriter, r *http.Request) {
	writeXML(w, r, srv.description(r.Host))
}

func (srv *Server) serveSCPD(w http.ResponseWriter, r *http.Request) {
	data, err := scpdFiles.ReadFile("static/" + r.PathValue("file"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	writeXML(w, r, data)
}

// writeXML sends an XML document (for GET and HEAD).
func writeXML(w http.ResponseWriter, r *http.Request, data []byte) {
	h := w.Header()
	h.Set("Content-Type", `text/xml; charset="utf-8"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
}
