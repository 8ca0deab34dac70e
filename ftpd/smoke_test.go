package ftpd

import "testing"

func TestSmoke(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "Films/a.mkv", "hello world")
	c := login(t, ts.Addr)
	c.cmd("SYST", 215)
	t.Log(c.cmd("FEAT", 211))
	t.Log(c.list("LIST"))
	t.Log(c.list("MLSD /Media"))
	c.cmd("CWD Media/Films", 250)
	t.Log(c.cmd("PWD", 257))
	if got := c.retr("a.mkv"); got != "hello world" {
		t.Fatal(got)
	}
	c.cmd("REST 6", 350)
	if got := c.retr("a.mkv"); got != "world" {
		t.Fatal(got)
	}
	c.cmd("ABOR", 225)
	c.cmd("STOR x", 550)
	c.cmd("QUIT", 221)
}
