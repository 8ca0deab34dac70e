// mediaftpd player page: resumes a video or song where playing stopped,
// on this device or another, and keeps the position as it plays. The
// browser's own player does the rest (subtitles come as <track>s).
"use strict";
(() => {
  const v = document.getElementById("player");
  if (!v) return;
  const url = v.dataset.positionUrl; // "" when positions are not kept
  const stored = parseFloat(v.dataset.position) || 0;
  const bar = document.getElementById("resume");
  const barText = document.getElementById("resume-text");

  // Positions under minPosition count as the start; near the end (the
  // last 5%, at most the last 30 s) as watched: both are kept as 0.
  const minPosition = 2, every = 10000;
  let lastSent = stored, lastSentAt = Date.now(), ready = false;

  const clock = (t) => {
    t = Math.floor(t);
    const h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = String(t % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  };
  function here() {
    const d = v.duration, t = v.currentTime;
    if (t < minPosition) return 0;
    if (isFinite(d) && d > 0 && t > d - Math.min(30, d * 0.05)) return 0;
    return Math.round(t * 10) / 10;
  }
  function save(seconds, leaving) {
    if (!url || !ready || seconds === lastSent) return;
    lastSent = seconds;
    lastSentAt = Date.now();
    fetch(url, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ seconds }),
      credentials: "same-origin",
      keepalive: !!leaving,
    }).catch(() => {});
  }

  v.addEventListener("loadedmetadata", () => {
    if (ready) return;
    ready = true;
    const d = v.duration;
    if (stored >= minPosition && (!isFinite(d) || stored < d - 1)) {
      v.currentTime = stored;
      barText.textContent = "Resumed at " + clock(stored) + ".";
      bar.hidden = false;
    }
  });
  document.getElementById("start-over").addEventListener("click", () => {
    bar.hidden = true;
    v.currentTime = 0;
    save(0);
    v.play().catch(() => {});
  });
  v.addEventListener("timeupdate", () => {
    if (!v.paused && Date.now() - lastSentAt >= every) save(here());
  });
  v.addEventListener("pause", () => save(here()));
  v.addEventListener("seeked", () => { if (v.paused) save(here()); });
  v.addEventListener("ended", () => save(0));
  window.addEventListener("pagehide", () => save(here(), true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save(here(), true);
  });
})();
