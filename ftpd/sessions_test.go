package ftpd

import "testing"

// TestSessionsSnapshot checks what a status page sees: each session with
// its user, and a running transfer with its path, offset and size.
func TestSessionsSnapshot(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	sparseFile(t, dir, "big.mkv", 64<<20)
	c := login(t, ts.Addr)
	idle := login(t, ts.Addr)
	idle.cmd("USER fetch-user", 331)

	d := dialStalling(t, c.epsv())
	c.cmd("REST 1000", 350)
	c.cmd("RETR /Media/big.mkv", 150)

	var got []SessionInfo
	waitFor(t, "the transfer in the snapshot", func() bool {
		got = ts.Sessions()
		return len(got) == 2 && got[0].Transfer != nil
	})
	if got[0].User != "anonymous" || got[1].User != "fetch-user" || got[1].Transfer != nil {
		t.Errorf("sessions = %+v", got)
	}
	if tr := got[0].Transfer; tr.Path != "/Media/big.mkv" || tr.Offset != 1000 || tr.Size != 64<<20-1000 {
		t.Errorf("transfer = %+v", tr)
	}
	abortStrict(t, c, d)
	if got := ts.Sessions(); got[0].Transfer != nil {
		t.Errorf("transfer still shown after ABOR: %+v", got[0].Transfer)
	}
}
