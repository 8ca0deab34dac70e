package gena

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Defaults and limits; see the package documentation.
const (
	DefaultMaxTimeout = 1800 * time.Second
	DefaultMaxPerAddr = 8
	DefaultMaxTotal   = 64

	notifyTimeout = 3 * time.Second  // one NOTIFY to one URL, connection included
	maxFailures   = 3                // events in a row that reached no callback
	maxQueue      = 32               // events waiting for one subscriber
	maxCallbacks  = 4                // URLs in one CALLBACK header
	maxHeader     = 1024             // bytes of a CALLBACK header
	sweepEvery    = 30 * time.Second // how often Run drops expired subscriptions
)

// Errors of Run.
var (
	// ErrRunning is returned by Run when the Publisher runs already or ran
	// before.
	ErrRunning = errors.New("gena: Publisher already ran")
)

// Property is one evented state variable and its value, as it goes into
// an event's e:property element. Name must be an XML name (the variable's
// name, like SystemUpdateID); the value is escaped.
type Property struct{ Name, Value string }

// Publisher keeps the subscriptions to one service's events and delivers
// them. Its exported fields configure it and must not change once it
// serves; zero values mean the documented defaults. A Publisher must not
// be copied after first use.
type Publisher struct {
	// State returns every evented variable with its value now, for the
	// initial event of a new subscription (SEQ 0). Nil sends an initial
	// event without variables.
	State func() []Property
	// MaxTimeout caps the TIMEOUT a subscriber asks for, and is what one
	// gets that asks for infinite or nothing; default 1800 s.
	MaxTimeout time.Duration
	// MaxPerAddr limits the subscriptions of one source address; default 8.
	MaxPerAddr int
	// MaxTotal limits all subscriptions; default 64.
	MaxTotal int
	// ServerHeader, if set, is sent as SERVER on the answers to SUBSCRIBE
	// and UNSUBSCRIBE (UDA wants "OS/version UPnP/1.0 product/version")
	// and as User-Agent on NOTIFYs.
	ServerHeader string
	// Logger gets dropped subscriptions (info) and refused requests
	// (debug); slog.Default() when nil.
	Logger *slog.Logger

	// Test seams; nil or zero means the real thing.
	now           func() time.Time
	client        *http.Client
	notifyTimeout time.Duration

	mu      sync.Mutex
	subs    map[string]*subscription // by SID
	ctx     context.Context          // Run's; nil until Run starts
	stopped bool                     // Run has returned
	wg      sync.WaitGroup           // delivery goroutines
}

// subscription is one subscriber. Its fields are guarded by Publisher.mu.
// initialEventDelay is how long after answering a SUBSCRIBE the initial
// event waits. UDA requires only that it follow the answer, but a
// subscriber that handles the NOTIFY before it has read the answer does not
// know the SID yet and drops the event, with a 200: GUPnP does
// (gupnp-service-proxy.c, server_handler, "priv->sid == NULL"), and a TV
// that misses the initial event shows stale folders. A quarter of a second
// is far more than a LAN needs, and far less than a TV waits.
const initialEventDelay = 250 * time.Millisecond

type subscription struct {
	sid       string
	addr      netip.Addr // source address, unmapped, without zone
	callbacks []*url.URL // each with the subscriber's own address as host
	expires   time.Time
	seq       uint32    // SEQ of the next event sent
	queue     [][]byte  // bodies of the events waiting, oldest first
	ready     bool      // the initial event is queued: delivery may start
	sending   bool      // a goroutine delivers the queue
	failures  int       // events in a row that reached no callback
	gone      bool      // removed from Publisher.subs
	answered  time.Time // when the SUBSCRIBE was answered

	// ctx, derived from Run's, ends the NOTIFY under way when the
	// subscription is dropped; made by the first kick.
	ctx    context.Context
	cancel context.CancelFunc
}

func (p *Publisher) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Publisher) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *Publisher) maxTimeout() time.Duration {
	if p.MaxTimeout > 0 {
		return p.MaxTimeout
	}
	return DefaultMaxTimeout
}

func (p *Publisher) timeoutPerTry() time.Duration {
	if p.notifyTimeout > 0 {
		return p.notifyTimeout
	}
	return notifyTimeout
}

// httpClient returns the client for NOTIFYs, making it on first use: no
// proxy, no redirects, no keep-alive (events are seconds apart; an idle
// connection per subscriber would hold goroutines), short timeouts.
// p.mu is held.
func (p *Publisher) httpClient() *http.Client {
	if p.client == nil {
		d := p.timeoutPerTry()
		p.client = &http.Client{
			Transport: &http.Transport{
				Proxy:                  nil,
				DialContext:            (&net.Dialer{Timeout: d}).DialContext,
				DisableKeepAlives:      true,
				DisableCompression:     true,
				ResponseHeaderTimeout:  d,
				MaxResponseHeaderBytes: 8 << 10,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return p.client
}

// Count returns the number of live subscriptions.
func (p *Publisher) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expire(p.clock())
	return len(p.subs)
}

// Publish queues one event with props for every subscriber. It does not
// wait for the deliveries; they go out while Run runs. Properties whose
// Name is not an XML name are left out and logged.
func (p *Publisher) Publish(props []Property) {
	body := p.propertySet(props)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.expire(p.clock())
	for _, s := range p.subs {
		if len(s.queue) >= maxQueue {
			p.remove(s, "too many events waiting for it")
			continue
		}
		s.queue = append(s.queue, body)
		p.kick(s)
	}
}

// Run delivers the events and drops expired subscriptions until ctx is
// done, then drops every subscription, waits for the deliveries under way
// to end (ctx's end cancels them) and returns nil. A Publisher runs once;
// another call returns ErrRunning. Subscriptions and events that come
// before Run starts wait for it; SUBSCRIBE after it ended gets 503.
func (p *Publisher) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.ctx != nil {
		p.mu.Unlock()
		return ErrRunning
	}
	p.ctx = ctx
	p.httpClient()
	for _, s := range p.subs {
		p.kick(s)
	}
	p.mu.Unlock()

	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.mu.Lock()
			p.expire(p.clock())
			p.mu.Unlock()
		case <-ctx.Done():
			p.mu.Lock()
			p.stopped = true
			for _, s := range p.subs {
				p.remove(s, "")
			}
			p.mu.Unlock()
			p.wg.Wait()
			p.client.CloseIdleConnections()
			return nil
		}
	}
}

// expire drops the subscriptions that expired before now. p.mu is held.
func (p *Publisher) expire(now time.Time) {
	for _, s := range p.subs {
		if now.After(s.expires) {
			p.remove(s, "expired")
		}
	}
}

// remove drops s, logging why unless why is "". p.mu is held.
func (p *Publisher) remove(s *subscription, why string) {
	if s.gone {
		return
	}
	delete(p.subs, s.sid)
	s.gone = true
	s.queue = nil
	if s.cancel != nil {
		s.cancel()
	}
	if why != "" {
		p.log().Info("GENA: subscription dropped", "sid", s.sid, "subscriber", s.addr, "why", why)
	}
}

// kick starts the delivery goroutine of s if it has events to send and
// none runs. p.mu is held.
func (p *Publisher) kick(s *subscription) {
	if p.ctx == nil || p.stopped || s.gone || !s.ready || s.sending || len(s.queue) == 0 {
		return
	}
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(p.ctx)
	}
	s.sending = true
	p.wg.Add(1)
	go p.deliver(s.ctx, s)
}

// deliver sends the events queued for s, one at a time, until none is
// left or s is gone.
func (p *Publisher) deliver(ctx context.Context, s *subscription) {
	defer p.wg.Done()
	client := p.client
	for {
		p.mu.Lock()
		if s.gone || len(s.queue) == 0 || ctx.Err() != nil {
			s.sending = false
			p.mu.Unlock()
			return
		}
		body := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		seq := s.seq
		s.seq = nextSeq(seq)
		wait := time.Duration(0)
		if seq == 0 {
			wait = initialEventDelay - time.Since(s.answered)
		}
		p.mu.Unlock()
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}

		res := p.notify(ctx, client, s, seq, body)

		p.mu.Lock()
		switch {
		case res == delivered:
			s.failures = 0
		case ctx.Err() != nil: // dropped meanwhile, or Run ended
		case res == unknownSID:
			p.remove(s, "the subscriber does not know the SID (412)")
		default:
			s.failures++
			if s.failures >= maxFailures {
				p.remove(s, fmt.Sprintf("%d events in a row reached no callback", s.failures))
			}
		}
		p.mu.Unlock()
	}
}

// nextSeq returns the SEQ after seq: one more, wrapping from 4294967295
// to 1 (UDA 1.1 section 4.3.2; 0 is only the initial event's).
func nextSeq(seq uint32) uint32 {
	if seq == ^uint32(0) {
		return 1
	}
	return seq + 1
}

// newSID returns a fresh "uuid:" subscription identifier (a random,
// version 4 UUID).
func newSID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// formatTimeout formats d for the TIMEOUT header.
func formatTimeout(d time.Duration) string {
	return "Second-" + strconv.FormatInt(int64(d/time.Second), 10)
}
