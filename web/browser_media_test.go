package web

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// TestBrowserPlayerResumes drives the folder view and the player with
// chromium, on a real prober, store and thumbnail cache: a film alone in
// its folder with a poster.jpg and an .srt beside it (Night.en.srt) shows the poster and
// its running time; the player loads the subtitles as a text track (SRT
// converted to WebVTT) with its cue; a seek to 4 s is kept in the store,
// and after a reload the player resumes there and offers to start over,
// which forgets the position. No script error or Content-Security-Policy
// violation happens on the way.
func TestBrowserPlayerResumes(t *testing.T) {
	chromium := testtool.Need(t, "chromium")
	e := newMediaServer(t)
	night := filepath.Join(e.media, "Movies", "Night")
	mustMkdir(t, night)
	writeJPEG(t, filepath.Join(night, "poster.jpg"), 400, 600)
	mustWrite(t, filepath.Join(night, "Night.en.srt"), "1\r\n00:00:00,500 --> 00:00:09,500\r\n<i>Hello</i> from the test\r\n")
	e.run("-i", filepath.Join(e.media, "Movies", "Film.webm"), "-c", "copy", filepath.Join(night, "Night.webm"))
	waitFor(t, "the details of Night/Night.webm", func() bool {
		en, err := e.set.Entry("Movies", "Night/Night.webm", library.AllFiles)
		if err != nil {
			return false
		}
		_, ok := e.prober.Of("Movies", "Night/Night.webm", en)
		return ok
	})

	ctx := newBrowser(t, chromium)
	checkProblems := watchProblems(t, ctx)
	shots := screenshots(t)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const v = document.querySelector("video"), tr = document.querySelector("track");
				if (!v) return "no video";
				const tt = v.textTracks[0];
				return JSON.stringify({ready: v.readyState, time: v.currentTime, error: v.error && v.error.message,
					tracks: v.textTracks.length, trackReady: tr && tr.readyState, mode: tt && tt.mode, lang: tt && tt.language,
					cues: tt && tt.cues && Array.from(tt.cues).map((c) => [c.startTime, c.endTime, c.text]),
					resume: !document.getElementById("resume").hidden, problems: window.__problems}); })()`))
			t.Fatalf("waiting for %s: %v; the player: %s", what, err, state)
		}
	}

	// The folder: the poster is shown (a loaded picture), with the film's
	// running time.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/files/Movies/Night/")); err != nil {
		t.Fatal(err)
	}
	poll("the poster", `(() => { const i = document.querySelector("li.kind-video .thumb img");
		return !!i && i.complete && i.naturalWidth > 0 && i.src.includes("/thumbs/Movies/Night/poster.jpg?size=320"); })()`)
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("li.kind-video .duration"))); err != nil || got != "0:10" {
		t.Errorf("running time %q, %v", got, err)
	}
	shots("folder-view.png", ctx)

	// The player: the subtitles load as a showing text track.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`li.kind-video a.name`)), chromedp.WaitReady(chromedp.CSS("video#player"))); err != nil {
		t.Fatal(err)
	}
	if u, _ := chromedp.Run(ctx, chromedp.Location()); u != e.ts.URL+"/play/Movies/Night/Night.webm" {
		t.Errorf("the film's link leads to %s", u)
	}
	poll("the video's metadata", `document.querySelector("video").readyState >= 1`)
	poll("the subtitle cue", `(() => { const tt = document.querySelector("video").textTracks;
		return tt.length === 1 && tt[0].mode === "showing" && tt[0].language === "en" &&
			!!tt[0].cues && tt[0].cues.length === 1 && tt[0].cues[0].text === "<i>Hello</i> from the test" &&
			tt[0].cues[0].startTime === 0.5; })()`)

	// Seek to 4 s: the position is kept.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("video").currentTime = 4`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the position kept", func() bool {
		pos, _, ok := e.store.Position("Movies", "Night/Night.webm")
		return ok && math.Abs(pos.Seconds()-4) < 0.3
	})

	// Reload: the player resumes near 4 s and offers to start over.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("video#player"))); err != nil {
		t.Fatal(err)
	}
	poll("the resumed position", `(() => { const v = document.querySelector("video");
		return v.readyState >= 1 && Math.abs(v.currentTime - 4) < 0.5 && !document.getElementById("resume").hidden; })()`)
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("resume-text"))); err != nil || got != "Resumed at 0:04." {
		t.Errorf("resume text %q, %v", got, err)
	}
	shots("player.png", ctx)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("start-over"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the position forgotten", func() bool {
		_, _, ok := e.store.Position("Movies", "Night/Night.webm")
		return !ok
	})
	checkProblems()
}

// watchProblems records Content-Security-Policy violations and script
// errors of the pages the tab opens from now on; the function it returns
// fails the test if there were any.
func watchProblems(t *testing.T, ctx context.Context) func() {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__problems = [];
			document.addEventListener("securitypolicyviolation", (e) => __problems.push("CSP: " + e.violatedDirective + " " + e.blockedURI));
			window.addEventListener("error", (e) => __problems.push("error: " + e.message));
			window.addEventListener("unhandledrejection", (e) => __problems.push("rejection: " + e.reason));`})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__problems`))
		if err != nil || len(problems) > 0 {
			t.Errorf("problems in the page: %q, %v", problems, err)
		}
	}
}

// screenshots returns a function that saves a screenshot of the tab in a
// folder kept after the test, for a person to look at.
func screenshots(t *testing.T) func(name string, ctx context.Context) {
	dir, err := os.MkdirTemp("", "mediaftpd-web-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return func(name string, ctx context.Context) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("screenshot: %v", err)
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Error(err)
		}
	}
}
