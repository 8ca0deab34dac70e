package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// browser is a chromium tab on a test server, with the steps tests take.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go
}

func newBrowserTab(t *testing.T) *browser {
	t.Helper()
	chromium := testtool.Need(t, "chromium")
	b := &browser{t: t, ctx: newBrowser(t, chromium)}
	shots, err := os.MkdirTemp("", "mediaftpd-web-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	b.shots = shots
	t.Logf("screenshots in %s", shots)
	// Record Content-Security-Policy violations and script errors.
	b.do("watch for errors", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__problems = [];
			document.addEventListener("securitypolicyviolation", (e) => __problems.push("CSP: " + e.violatedDirective + " " + e.blockedURI));
			window.addEventListener("error", (e) => __problems.push("error: " + e.message));
			window.addEventListener("unhandledrejection", (e) => __problems.push("rejection: " + e.reason));`})
		return err
	}))
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// poll waits until the script is true.
func (b *browser) poll(what, js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// present reports whether an element matches sel.
func (b *browser) present(sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector(%q)`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return ok
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) checkProblems() {
	b.t.Helper()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.__problems`))
	if err != nil || len(problems) > 0 {
		b.t.Errorf("problems in the page: %q, %v", problems, err)
	}
}

// TestBrowserAccounts drives the page with chromium: a visitor sees only
// the public share; alice logs in with her name and password and sees her
// private share on the page and in the file browser, and no longer once
// logged out; the admin adds a user with the form, gives her a private
// share with its box, makes a share private and public again with the
// "seen by" boxes, and removes the user.
func TestBrowserAccounts(t *testing.T) {
	e := newAccountsServer(t)
	b := newBrowserTab(t)
	family := `#status [data-share="Family"]`
	movies := `#status [data-share="Movies"]`

	b.do("open the page", chromedp.Navigate(e.ts.URL), chromedp.WaitVisible(chromedp.CSS(movies)))
	if b.present(family) || b.present(`#status [data-share="Diary"]`) {
		t.Error("a visitor's page shows a private share")
	}

	// alice logs in: her share appears, live.
	b.do("log in as alice",
		chromedp.SendKeys(chromedp.ID("login-user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), alicePassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(family)),
		chromedp.WaitVisible(chromedp.ID("whoami")),
	)
	if who, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("whoami"))); who != "alice" {
		t.Errorf("logged in as %q", who)
	}
	if b.present(`#status [data-share="Diary"]`) || b.present("#status .users") {
		t.Error("alice sees bob's share or the users")
	}
	b.screenshot("alice.png")

	// The file browser lists it, and its files.
	b.do("browse files",
		chromedp.Navigate(e.ts.URL+"/files/"),
		chromedp.WaitVisible(chromedp.CSS(`a.name[href="./Family/"]`)),
		chromedp.Click(chromedp.CSS(`a.name[href="./Family/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.name[href="./family.txt"]`)),
	)
	b.screenshot("alice-files.png")
	b.checkProblems()

	// Logged out, the share is gone.
	b.do("log out",
		chromedp.Navigate(e.ts.URL),
		chromedp.WaitVisible(chromedp.ID("logout")),
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.WaitNotPresent(chromedp.CSS(family)),
	)
	b.do("browse files logged out", chromedp.Navigate(e.ts.URL+"/files/"), chromedp.WaitVisible(chromedp.CSS(`a.name[href="./Movies/"]`)))
	if b.present(`a.name[href="./Family/"]`) {
		t.Error("the file browser lists Family after logging out")
	}

	// The admin adds carol and gives her Family.
	b.do("log in as the admin",
		chromedp.Navigate(e.ts.URL),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("user-form")),
		chromedp.WaitVisible(chromedp.CSS(`#status [data-user="bob"]`)),
	)
	b.do("add carol",
		chromedp.SendKeys(chromedp.ID("user-name"), "carol"),
		chromedp.SendKeys(chromedp.ID("user-password"), "carol's password"),
		chromedp.Click(chromedp.ID("user-save")),
		chromedp.WaitVisible(chromedp.CSS(`#status [data-user="carol"]`)),
	)
	b.do("give carol Family", chromedp.Click(chromedp.CSS(`#status [data-user="carol"] input[value="Family"]`)))
	waitFor(t, "carol in Family's access", func() bool { return e.set.Allows("Family", "carol") })
	b.poll("Family's card to tick carol", fmt.Sprintf(`document.querySelector(%q).checked`, family+` input[data-action="access"][value="carol"]`))

	// Movies: private to alice, then public again.
	b.do("untick everyone on Movies", chromedp.Click(chromedp.CSS(movies+` input[data-action="public"]`)))
	b.do("tick alice on Movies", chromedp.Click(chromedp.CSS(movies+` input[data-action="access"][value="alice"]`)))
	waitFor(t, "Movies private to alice", func() bool {
		for _, sh := range e.set.List() {
			if sh.Name == "Movies" {
				return slices.Equal(sh.Access, []string{"alice"})
			}
		}
		return false
	})
	b.poll("Movies shown private", fmt.Sprintf(`!!document.querySelector(%q)`, movies+" .private"))
	b.screenshot("admin.png")
	if resp, _ := e.do("GET", "/files/Movies/", ""); resp.StatusCode != 404 {
		t.Errorf("a visitor's /files/Movies/ once private: %s", resp.Status)
	}
	b.do("tick everyone on Movies", chromedp.Click(chromedp.CSS(movies+` input[data-action="public"]`)))
	waitFor(t, "Movies public", func() bool { return e.set.Allows("Movies", library.Anonymous) })

	// Remove carol: the button asks again.
	remove := `#status [data-user="carol"] button[data-action="remove-user"]`
	b.do("remove carol", chromedp.Click(chromedp.CSS(remove)))
	b.poll("the button to ask again", fmt.Sprintf(`document.querySelector(%q).textContent.includes("Really")`, remove))
	b.do("confirm", chromedp.Click(chromedp.CSS(remove)), chromedp.WaitNotPresent(chromedp.CSS(`#status [data-user="carol"]`)))
	if e.users.Has("carol") || e.set.Allows("Family", "carol") {
		t.Error("carol is still a user, or still sees Family")
	}
	data := readFile(t, e.config)
	if strings.Contains(data, "carol") {
		t.Errorf("the config file still names carol:\n%s", data)
	}
	b.checkProblems()
}
