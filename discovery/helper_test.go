package discovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grandcat/zeroconf"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/library"
)

// TestHelperProcess is not a test: the integration tests run this binary
// inside a network namespace as a helper (netlab.Helper), and it then acts as the
// server or one of the clients, printing "EVENT <json>" lines. Run
// normally, it does nothing.
func TestHelperProcess(t *testing.T) {
	// Mode exits a helper that finds itself in the namespace the tests
	// were started in: mDNS never goes there.
	mode, params := helper.Mode()
	if mode == "" {
		return
	}
	var err error
	switch mode {
	case "serve":
		err = helperServe(params)
	case "zeroconf":
		err = helperZeroconf(params)
	case "query":
		err = helperQuery(params)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

var emitMu sync.Mutex

func emit(kind string, data any) {
	js, err := json.Marshal(map[string]any{"kind": kind, "data": data})
	if err != nil {
		panic(err)
	}
	emitMu.Lock()
	defer emitMu.Unlock()
	fmt.Printf("EVENT %s\n", js)
}

// serveParams configure the "serve" helper: mediaftpd's FTP server on a
// share of Dir, an HTTP server if Web, and the Advertiser for them.
type serveParams struct {
	Name       string
	Host       string
	Interfaces []string
	Dir        string
	Web        bool
	PollMS     int
}

type listening struct{ FTP, Web int }

func helperServe(raw []byte) error {
	var p serveParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set, err := library.NewSet(library.Share{Name: "Media", Path: p.Dir})
	if err != nil {
		return err
	}
	set.Logger = log
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return err
	}
	srv := &ftpd.Server{Shares: set, Name: p.Name, Logger: log}
	go srv.Serve(l)
	ports := listening{FTP: l.Addr().(*net.TCPAddr).Port}
	services := []discovery.Service{discovery.FTP(ports.FTP)}
	if p.Web {
		wl, err := net.Listen("tcp", ":0")
		if err != nil {
			return err
		}
		go http.Serve(wl, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "status") }))
		ports.Web = wl.Addr().(*net.TCPAddr).Port
		services = append(services, discovery.HTTP(ports.Web))
	}
	emit("listening", ports)

	a := &discovery.Advertiser{
		Name:         p.Name,
		Host:         p.Host,
		Services:     services,
		Interfaces:   p.Interfaces,
		Logger:       log,
		PollInterval: time.Duration(p.PollMS) * time.Millisecond,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		select {
		case err := <-ran:
			emit("stopped", map[string]any{"err": fmt.Sprint(err), "status": a.Status()})
			srv.Close()
			return err
		case <-tick.C:
			st := a.Status()
			js, _ := json.Marshal(st)
			if string(js) != last {
				last = string(js)
				emit("status", st)
			}
		}
	}
}

type zeroconfParams struct {
	Service string
	Iface   string
}

// zcEntry is what zeroconf's browser reported.
type zcEntry struct {
	Instance string // as zeroconf gives it: in DNS presentation format
	Host     string
	Port     int
	Text     []string
	IPv4     []string
	IPv6     []string
	TTL      uint32
}

func helperZeroconf(raw []byte) error {
	var p zeroconfParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(p.Iface)
	if err != nil {
		return err
	}
	r, err := zeroconf.NewResolver(zeroconf.SelectIfaces([]net.Interface{*ifi}), zeroconf.SelectIPTraffic(zeroconf.IPv4))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	entries := make(chan *zeroconf.ServiceEntry)
	if err := r.Browse(ctx, p.Service, "local.", entries); err != nil {
		return err
	}
	emit("browsing", nil)
	for e := range entries {
		ze := zcEntry{Instance: e.Instance, Host: e.HostName, Port: e.Port, Text: e.Text, TTL: e.TTL}
		for _, ip := range e.AddrIPv4 {
			ze.IPv4 = append(ze.IPv4, ip.String())
		}
		for _, ip := range e.AddrIPv6 {
			ze.IPv6 = append(ze.IPv6, ip.String())
		}
		emit("entry", ze)
	}
	return nil
}

// queryParams configure the "query" helper, a raw mDNS querier.
type queryParams struct {
	Iface string
	Name  string // the question
	Type  string // "PTR", "SRV", "A", "ANY", ...
	// Mode is "legacy" (a one-shot query from a random port, answered
	// by unicast), "multicast" (from port 5353, as VLC's microdns and
	// avahi do, answered by multicast) or "qu" (from port 5353 with the
	// unicast-response bit).
	Mode       string
	Count      int // queries to send
	IntervalMS int // between queries
	WaitMS     int // to keep listening after the last query
	Known      []string
}

// rrJSON is one record of a response.
type rrJSON struct {
	Name  string
	Type  string
	Flush bool // cache-flush bit
	TTL   uint32
	Data  string // rdata in presentation format
}

type responseJSON struct {
	Query   int // which query this followed (1-based)
	From    string
	To      string
	ID      uint16
	Qs      []string
	Answer  []rrJSON
	Extra   []rrJSON
	Elapsed time.Duration // since the query was sent
}

func rrsJSON(rrs []dns.RR) []rrJSON {
	var out []rrJSON
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, rrJSON{
			Name:  h.Name,
			Type:  dns.TypeToString[h.Rrtype],
			Flush: h.Class&(1<<15) != 0,
			TTL:   h.Ttl,
			Data:  strings.TrimPrefix(rr.String(), h.String()),
		})
	}
	return out
}

func helperQuery(raw []byte) error {
	var p queryParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(p.Iface)
	if err != nil {
		return err
	}
	laddr := "0.0.0.0:5353"
	if p.Mode == "legacy" {
		laddr = "0.0.0.0:0"
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		return serr
	}}
	c, err := lc.ListenPacket(context.Background(), "udp4", laddr)
	if err != nil {
		return err
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	err = errors.Join(
		pc.SetMulticastInterface(ifi),
		pc.SetMulticastTTL(255),
		pc.SetControlMessage(ipv4.FlagDst, true),
	)
	if err == nil && p.Mode != "legacy" {
		err = pc.JoinGroup(ifi, group)
	}
	if err != nil {
		return err
	}
	typ, ok := dns.StringToType[p.Type]
	if !ok {
		return fmt.Errorf("unknown type %q", p.Type)
	}
	q := new(dns.Msg)
	q.Question = []dns.Question{{Name: p.Name, Qtype: typ, Qclass: dns.ClassINET}}
	if p.Mode == "qu" {
		q.Question[0].Qclass |= 1 << 15
	}
	for _, k := range p.Known {
		rr, err := dns.NewRR(k)
		if err != nil {
			return err
		}
		q.Answer = append(q.Answer, rr)
	}

	var mu sync.Mutex
	var sent time.Time
	n := 0
	go func() {
		buf := make([]byte, 9000)
		for {
			size, cm, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:size]) != nil || !m.Response {
				continue // our own query, looped back
			}
			mu.Lock()
			r := responseJSON{Query: n, From: from.String(), ID: m.Id, Answer: rrsJSON(m.Answer), Extra: rrsJSON(m.Extra), Elapsed: time.Since(sent)}
			mu.Unlock()
			if cm != nil {
				r.To = cm.Dst.String()
			}
			for _, q := range m.Question {
				r.Qs = append(r.Qs, q.String())
			}
			emit("response", r)
		}
	}()
	for i := range max(p.Count, 1) {
		if i > 0 {
			time.Sleep(time.Duration(p.IntervalMS) * time.Millisecond)
		}
		q.Id = 0
		if p.Mode == "legacy" {
			q.Id = uint16(0x4d00 + i)
		}
		b, err := q.Pack()
		if err != nil {
			return err
		}
		mu.Lock()
		n, sent = i+1, time.Now()
		mu.Unlock()
		if _, err := pc.WriteTo(b, nil, group); err != nil {
			return err
		}
		emit("sent", i+1)
	}
	time.Sleep(time.Duration(p.WaitMS) * time.Millisecond)
	emit("done", nil)
	return nil
}
