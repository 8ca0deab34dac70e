package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jlaffaye/ftp"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestBrowser drives the page with Debian's chromium: it sees the shares
// and their counts, logs in, adds a share with the form and the folder
// picker, sees it listed and served by FTP at once and saved for the next
// start, sees a file added to it and an FTP session appear without a
// reload, takes screenshots (desktop light, phone dark), removes the share
// and logs out.
func TestBrowser(t *testing.T) {
	chromium := testtool.Need(t, "chromium")
	e := newTestServer(t)
	ftpAddr := e.serveFTP()

	shots, err := os.MkdirTemp("", "mediaftpd-web-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	ctx := newBrowser(t, chromium)

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// waitText waits until the element's text contains want.
	waitText := func(sel, want string) {
		t.Helper()
		js := fmt.Sprintf(`(document.querySelector(%q) || {}).textContent?.includes(%q)`, sel, want)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			t.Fatalf("waiting for %q in %s: %v", want, sel, err)
		}
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Record Content-Security-Policy violations and script errors, to
	// check at the end that the page runs under its policy.
	do("watch for errors", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__problems = [];
			document.addEventListener("securitypolicyviolation", (e) => __problems.push("CSP: " + e.violatedDirective + " " + e.blockedURI));
			window.addEventListener("error", (e) => __problems.push("error: " + e.message));
			window.addEventListener("unhandledrejection", (e) => __problems.push("rejection: " + e.reason));`})
		return err
	}))
	checkProblems := func() {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__problems`))
		if err != nil || len(problems) > 0 {
			t.Errorf("problems in the page: %q, %v", problems, err)
		}
	}

	// The page shows the share and its counts.
	movies := `#status [data-share="Movies"]`
	do("open the page", chromedp.Navigate(e.ts.URL), chromedp.WaitVisible(chromedp.CSS(movies)))
	if title, _ := chromedp.Run(ctx, chromedp.Title()); title != "Test Box" {
		t.Errorf("title %q", title)
	}
	for sel, want := range map[string]string{".files": "5", ".video": "2", ".audio": "1", ".image": "1", ".dirs": "1", ".state": "watching"} {
		if got := text(movies + " " + sel); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if got := text(".urls"); got != "ftp://127.0.0.1:2121/" {
		t.Errorf("FTP URLs %q", got)
	}
	// The live stream replaces the status section: mark it and wait for
	// the mark to go.
	do("see the stream connect",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#status section").dataset.old = "1"`),
		chromedp.Poll[chromedp.Void](`!document.querySelector("#status section[data-old]")`),
	)

	// Log in; the admin controls appear.
	do("log in",
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("add-form")),
		chromedp.WaitVisible(chromedp.CSS(movies+` button[data-action="remove"]`)),
	)

	// Pick the folder with the picker: roots, then USB, then Films.
	films := filepath.Join(e.media, "USB", "Films")
	pick := func(path string) chromedp.Action[chromedp.Void] {
		sel := fmt.Sprintf(`#picker-list button[data-path=%q]`, path)
		return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	do("pick a folder",
		chromedp.Click(chromedp.ID("browse")),
		pick(e.media),
		pick(filepath.Join(e.media, "USB")),
		pick(films),
	)
	waitText("#picker-path", films)
	do("use it", chromedp.Click(chromedp.ID("picker-use")))
	if got, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("share-path"))); got != films {
		t.Errorf("path field %q, want %q", got, films)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("share-name"))); got != "Films" {
		t.Errorf("name field %q, want Films", got)
	}
	do("add the share", chromedp.Click(chromedp.ID("add")))
	waitText("#add-ok", "Added")
	filmsCard := `#status [data-share="Films"]`
	do("see it listed", chromedp.WaitVisible(chromedp.CSS(filmsCard)))

	// FTP serves it at once, and the config file has it for the next start.
	c := ftpLogin(t, ftpAddr)
	names, err := c.NameList("/")
	if err != nil || !slices.Contains(names, "Films") {
		t.Errorf("FTP NLST / = %q, %v; want Films in it", names, err)
	}
	if got := e.configShares(); len(got) != 2 || got[1].Name != "Films" || got[1].Path != films {
		t.Errorf("config shares %+v", got)
	}

	// A file added shows up live: counts, recent additions; so does the
	// FTP session.
	mustWrite(t, filepath.Join(films, "New Film.mkv"), "new film")
	waitText(filmsCard+" .video", "1")
	waitText(".recent", "Films/New Film.mkv")
	waitText(".sessions", "127.0.0.1:")
	if got := text("#sessions-h .n"); got != "1" {
		t.Errorf("sessions shown: %q", got)
	}
	screenshot("desktop-light.png")

	do("phone, dark",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}),
	)
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if err != nil || bg != "rgb(15, 18, 23)" {
		t.Errorf("dark background %q, %v", bg, err)
	}
	// Nothing is wider than the phone.
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("page width on a phone %d, %v", w, err)
	}
	screenshot("phone-dark.png")

	// Remove the share: the button asks again, then it is gone.
	remove := filmsCard + ` button[data-action="remove"]`
	do("remove the share", chromedp.Click(chromedp.CSS(remove)))
	waitText(remove, "Really remove?")
	do("confirm", chromedp.Click(chromedp.CSS(remove)), chromedp.WaitNotPresent(chromedp.CSS(filmsCard)))
	if _, err := c.List("/Films"); err == nil {
		t.Error("FTP still lists the removed share")
	}
	if got := e.configShares(); len(got) != 1 {
		t.Errorf("config shares after removal %+v", got)
	}
	c.Quit()

	do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-form")))
	checkProblems()
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains("admin")`)); got {
		t.Error("still admin after logging out")
	}
	screenshot("phone-dark-logged-out.png")
}

// newBrowser starts chromium, headless, with the flags that work on
// these machines and a fresh profile, and returns a context for its tab.
// Everything ends when the test does, or after a minute.
func newBrowser(t *testing.T, chromium string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancel()
	})
	return ctx
}

// TestBrowserPlaysVideo opens a video from a share in the browser, as a
// laptop would: it loads and seeks (Range requests) under the sandboxing
// Content-Security-Policy of files.
func TestBrowserPlaysVideo(t *testing.T) {
	chromium := testtool.Need(t, "chromium")
	ffmpeg := testtool.Need(t, "ffmpeg")
	e := newTestServer(t)
	clip := filepath.Join(e.media, "Movies", "clip.webm")
	cmd := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=duration=4:size=320x240:rate=10",
		"-c:v", "libvpx", "-b:v", "200k", clip)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	ctx := newBrowser(t, chromium)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/files/Movies/")); err != nil {
		t.Fatal(err)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		shots, _ := os.MkdirTemp("", "mediaftpd-web-screenshots-")
		os.WriteFile(filepath.Join(shots, "files.png"), png, 0o644)
		t.Logf("screenshot of the folder listing in %s", shots)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="./clip.webm"]`)), chromedp.WaitReady(chromedp.CSS("video"))); err != nil {
		t.Fatal(err)
	}
	// Seek near the end: the browser fetches that part with a Range request.
	js := `(() => { const v = document.querySelector("video");
		if (!v || v.readyState < 1) return false;
		if (v.currentTime < 3) { v.currentTime = 3.5; return false; }
		return v.readyState >= 2 ? v.duration : false; })()`
	d, err := chromedp.Run(ctx, chromedp.Poll[float64](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the video did not load and seek: %v", err)
	}
	if d < 3.9 || d > 4.1 {
		t.Errorf("duration %v, want 4 s", d)
	}
}

func ftpLogin(t *testing.T, addr string) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("anonymous", "test@"); err != nil {
		t.Fatal(err)
	}
	return c
}
