package store

import (
	"bytes"
	"slices"
	"strings"
)

// dkey names a file or folder of a share; rel "" is the whole share.
type dkey struct{ share, rel string }

// covers reports whether forgetting f forgets k.
func (f dkey) covers(k dkey) bool {
	if f.share != k.share {
		return false
	}
	return f.rel == "" || k.rel == f.rel || strings.HasPrefix(k.rel, f.rel) && k.rel[len(f.rel)] == '/'
}

// pendingPut is a queued PutDetails.
type pendingPut struct {
	st  Stamp
	raw []byte
}

// queue holds writes of details not yet in a transaction. A forget
// removes the queued puts it covers, so every put left in the queue came
// after every forget that covers it: a batch applies its forgets first,
// then its puts.
type queue struct {
	puts    map[dkey]pendingPut
	forgets []dkey
}

func newQueue() *queue { return &queue{puts: map[dkey]pendingPut{}} }

// len is the number of writes queued.
func (q *queue) len() int {
	if q == nil {
		return 0
	}
	return len(q.puts) + len(q.forgets)
}

// put queues a put.
func (q *queue) put(k dkey, p pendingPut) { q.puts[k] = p }

// forget queues a forget and drops the puts it covers.
func (q *queue) forget(f dkey) {
	for k := range q.puts {
		if f.covers(k) {
			delete(q.puts, k)
		}
	}
	q.forgets = append(q.forgets, f)
}

// lookup tells what the queue knows of k: a put, that it was forgotten,
// or nothing (look further).
func (q *queue) lookup(k dkey) (p pendingPut, put, forgotten bool) {
	if q == nil {
		return pendingPut{}, false, false
	}
	if p, ok := q.puts[k]; ok {
		return p, true, false
	}
	for _, f := range q.forgets {
		if f.covers(k) {
			return pendingPut{}, false, true
		}
	}
	return pendingPut{}, false, false
}

// keyedPut is a queued put with its key in the store.
type keyedPut struct {
	key []byte
	pendingPut
}

// byShare returns the queue's puts per share, each sorted by key.
func (q *queue) byShare() map[string][]keyedPut {
	m := map[string][]keyedPut{}
	for k, p := range q.puts {
		m[k.share] = append(m[k.share], keyedPut{relKey(k.rel), p})
	}
	for _, puts := range m {
		slices.SortFunc(puts, func(a, b keyedPut) int { return bytes.Compare(a.key, b.key) })
	}
	return m
}
