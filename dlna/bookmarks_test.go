package dlna

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/store"
)

// openStore opens a store in dir, closed at the end of the test.
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestBookmarksArePositions checks that Samsung's bookmarks are the
// store's resume positions, which the web player shares: one set by
// X_SetBookmark is the file's position, and one set by the web player is
// what the TV resumes from.
func TestBookmarksArePositions(t *testing.T) {
	st := openStore(t, t.TempDir())
	ts := newTestServer(t, &Server{Content: newTestContent(t), State: st, now: func() time.Time { return testTime }})
	const film = "0/Movies/Film%20A.mkv"
	setBM := func(id, pos string) {
		t.Helper()
		if r := soap(t, ts.base, "ContentDirectory", "X_SetBookmark", hdr("User-Agent", samsungOld),
			"ObjectID", id, "PosSecond", pos); r.status != 200 {
			t.Fatalf("X_SetBookmark %s %s: %d %d", id, pos, r.status, r.code)
		}
	}

	// The TV sets it: the store has it.
	setBM(film, "754")
	pos, at, ok := st.Position("Movies", "Film A.mkv")
	if !ok || pos != 754*time.Second || !at.Equal(testTime) {
		t.Errorf("after X_SetBookmark 754: position %v at %v, %v", pos, at, ok)
	}
	// Set through "Recently added": the file's.
	setBM("R/Movies/Kids/Cartoon.mp4", "300")
	if pos, _, ok := st.Position("Movies", "Kids/Cartoon.mp4"); !ok || pos != 300*time.Second {
		t.Errorf("bookmark through R: %v, %v", pos, ok)
	}

	// The web player sets it: the TV resumes there, in whole seconds.
	if err := st.SetPosition("Movies", "Film A.mkv", 42*time.Minute+500*time.Millisecond, testTime); err != nil {
		t.Fatal(err)
	}
	if got, want := dcmInfo(t, ts.base, film, samsungOld), "CREATIONDATE=0,FOLDER=Movies,BM=2520"; got != want {
		t.Errorf("after the web player's position: dcmInfo %q, want %q", got, want)
	}
	// A position under 30 s is not offered, as MiniDLNA does.
	st.SetPosition("Movies", "Film A.mkv", 20*time.Second, testTime)
	if got := dcmInfo(t, ts.base, film, samsungOld); got != "" {
		t.Errorf("a position of 20 s: dcmInfo %q", got)
	}
	// The TV starting over removes the position.
	setBM(film, "100")
	setBM(film, "12")
	if _, _, ok := st.Position("Movies", "Film A.mkv"); ok {
		t.Error("X_SetBookmark 12 left a position")
	}
	// A position no file has is refused.
	if r := soap(t, ts.base, "ContentDirectory", "X_SetBookmark", hdr("User-Agent", samsungOld),
		"ObjectID", film, "PosSecond", strconv.Itoa(maxBookmark+1)); r.code != 402 {
		t.Errorf("PosSecond past the limit: %d %d", r.status, r.code)
	}
}

// TestStateMigration checks an upgrade from the version that kept its
// state in files: the UDN, the update counter and the bookmarks move into
// the store once, and the files are left as they were.
func TestStateMigration(t *testing.T) {
	stateDir := t.TempDir()
	const udn = "uuid:11111111-2222-4333-8444-555555555555"
	set := testTime.Add(-24 * time.Hour)
	files := map[string]string{
		udnFile:      udn + "\n",
		updateIDFile: "7000\n",
		oldBookmarksFile: `{"version":1,"bookmarks":{` +
			`"0/Movies/Film%20A.mkv":{"pos":754,"set":"` + set.Format(time.RFC3339) + `"},` +
			`"0/Movies/Kids/Cartoon.mp4":{"pos":300,"set":"` + set.Format(time.RFC3339) + `"},` +
			`"0/Movies/Episode%202.mkv":{"pos":900,"set":"` + set.Format(time.RFC3339) + `"},` +
			`"0/Movies/Gone%20Film.mkv":{"pos":100,"set":"` + set.Format(time.RFC3339) + `"},` +
			`"R/Movies/Episode%2010.mkv":{"pos":100,"set":"` + set.Format(time.RFC3339) + `"},` +
			`"0/Movies":{"pos":100,"set":"` + set.Format(time.RFC3339) + `"}}}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(stateDir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	storeDir := t.TempDir()
	st := openStore(t, storeDir)
	// The web player already has a position for Episode 2: it stays.
	st.SetPosition("Movies", "Episode 2.mkv", 60*time.Second, testTime)

	ts := newTestServer(t, &Server{Content: newTestContent(t), State: st, StateDir: stateDir})
	if ts.UDN() != udn {
		t.Errorf("UDN %s, want the one of the old file, %s", ts.UDN(), udn)
	}
	if v, ok := st.Value(valueUDN); !ok || string(v) != udn {
		t.Errorf("store's UDN %q", v)
	}
	if got := ts.updates.systemID(); got != 7000 {
		t.Errorf("SystemUpdateID %d, want 7000 from the old file", got)
	}
	for _, p := range []struct {
		rel  string
		want time.Duration
	}{
		{"Film A.mkv", 754 * time.Second},
		{"Kids/Cartoon.mp4", 300 * time.Second},
		{"Episode 2.mkv", 60 * time.Second},
		{"Gone Film.mkv", 100 * time.Second}, // the file may come back: kept
	} {
		pos, at, ok := st.Position("Movies", p.rel)
		if !ok || pos != p.want {
			t.Errorf("%s: position %v, %v; want %v", p.rel, pos, ok, p.want)
		}
		if p.rel == "Film A.mkv" && !at.Equal(set) {
			t.Errorf("%s: set at %v, want %v", p.rel, at, set)
		}
	}
	if _, _, ok := st.Position("Movies", "Episode 10.mkv"); ok {
		t.Error("a bookmark under an R/ ID (never written) was taken")
	}
	if got := dcmInfo(t, ts.base, "0/Movies/Film%20A.mkv", samsungOld); got != "CREATIONDATE=0,FOLDER=Movies,BM=754" {
		t.Errorf("dcmInfo after the migration: %q", got)
	}
	for name, data := range files {
		if b, err := os.ReadFile(filepath.Join(stateDir, name)); err != nil || string(b) != data {
			t.Errorf("old file %s changed: %q, %v", name, b, err)
		}
	}

	// Once only: a bookmark removed since is not brought back by the old
	// file at the next start.
	st.SetPosition("Movies", "Film A.mkv", 0, testTime)
	srv2 := &Server{Content: newTestContent(t), State: st, StateDir: stateDir, Logger: slog.New(slog.DiscardHandler)}
	if srv2.UDN() != udn {
		t.Errorf("second start: UDN %s", srv2.UDN())
	}
	if _, _, ok := st.Position("Movies", "Film A.mkv"); ok {
		t.Error("the old bookmarks were moved again")
	}
	if got := srv2.updates.systemID(); got < 7000 {
		t.Errorf("second start: SystemUpdateID %d", got)
	}
}

// TestStateMigrationDamaged checks that damaged old files are survived:
// a new UDN from the machine ID, the counter from 1, no bookmarks, and
// no second try at a file that will never be readable.
func TestStateMigrationDamaged(t *testing.T) {
	stateDir := t.TempDir()
	for name, data := range map[string]string{udnFile: "garbage", updateIDFile: "x", oldBookmarksFile: "{not json"} {
		os.WriteFile(filepath.Join(stateDir, name), []byte(data), 0o644)
	}
	st := openStore(t, t.TempDir())
	var logs bytes.Buffer
	srv := &Server{Content: newTestContent(t), State: st, StateDir: stateDir,
		machineIDFile: writeMachineID(t, "3d1219c7c4c5404aaa1f6d2a48adfda4"), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if want := formatUDN(appSpecificID(mustMachineID(t, "3d1219c7c4c5404aaa1f6d2a48adfda4"))); srv.UDN() != want {
		t.Errorf("UDN %s, want %s from the machine ID", srv.UDN(), want)
	}
	if srv.updates.systemID() != 1 {
		t.Errorf("SystemUpdateID %d", srv.updates.systemID())
	}
	if _, ok := st.Value(valueBookmarksMigrated); !ok {
		t.Error("an unreadable bookmarks file is tried again at every start")
	}
	if n, _ := st.Stats(); n.Positions != 0 {
		t.Errorf("%d positions", n.Positions)
	}
	t.Logf("log:\n%s", logs.String())
}

// TestMemState checks the State of a server without one: bookmarks in
// memory, the UDN from the machine ID.
func TestMemState(t *testing.T) {
	ts := newTestServer(t, &Server{Content: newTestContent(t)})
	soap(t, ts.base, "ContentDirectory", "X_SetBookmark", hdr("User-Agent", samsungOld), "ObjectID", "0/Movies/Film%20A.mkv", "PosSecond", "100")
	if got := dcmInfo(t, ts.base, "0/Movies/Film%20A.mkv", samsungOld); got != "CREATIONDATE=0,FOLDER=Movies,BM=100" {
		t.Errorf("dcmInfo %q", got)
	}
	srv2 := &Server{Content: newTestContent(t), machineIDFile: ts.machineIDFile, Logger: slog.New(slog.DiscardHandler)}
	if srv2.UDN() != ts.UDN() {
		t.Errorf("UDN without State: %s then %s", ts.UDN(), srv2.UDN())
	}
}

func writeMachineID(t *testing.T, id string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "machine-id")
	if err := os.WriteFile(p, []byte(id+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustMachineID(t *testing.T, id string) [16]byte {
	t.Helper()
	mid, err := parseMachineID([]byte(id))
	if err != nil {
		t.Fatal(err)
	}
	return mid
}
