// mediaftpd status page: live updates, login and share management.
// No framework and no build step. The server renders the status section
// (escaped by html/template) and pushes it again over Server-Sent Events
// whenever something changes; this script swaps it in and drives the
// JSON API for the admin forms.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let csrf = "";

  function setAdmin(on, token) {
    csrf = on ? token : "";
    document.body.classList.toggle("admin", on);
  }

  // api calls the JSON API and returns {ok, status, data, retryAfter}.
  async function api(method, url, body) {
    const opts = { method, headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(url, opts);
    let data = null;
    if (r.status !== 204) {
      try { data = await r.json(); } catch (_) { data = null; }
    }
    if (r.status === 401 && url !== "/api/login") setAdmin(false);
    return { ok: r.ok, status: r.status, data, retryAfter: r.headers.get("Retry-After") };
  }
  const errorText = (res) => (res.data && res.data.error) || "The server answered " + res.status + ".";

  // Live updates.
  const live = $("live");
  let armed = null, armTimer = 0; // the share whose Remove button was pressed once
  function showArmed() {
    for (const li of document.querySelectorAll("#status [data-share]")) {
      const b = li.querySelector("button[data-action=remove]");
      if (!b) continue;
      const on = li.dataset.share === armed;
      b.classList.toggle("armed", on);
      b.textContent = on ? "Really remove?" : "Remove";
    }
  }
  function connect() {
    const es = new EventSource("/events");
    es.addEventListener("status", (e) => {
      $("status").innerHTML = e.data;
      showArmed();
      live.textContent = "updating live";
      live.classList.remove("down");
    });
    es.addEventListener("error", () => {
      live.textContent = "reconnecting…";
      live.classList.add("down");
    });
  }
  if (window.EventSource) connect();

  api("GET", "/api/session").then((res) => {
    if (res.ok && res.data.admin) setAdmin(true, res.data.csrf_token);
  }, () => {});

  const loginForm = $("login-form");
  if (!loginForm) return; // management is off

  loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("login-error"), btn = $("login");
    err.textContent = "";
    btn.disabled = true;
    try {
      const res = await api("POST", "/api/login", { password: $("password").value });
      if (res.ok) {
        $("password").value = "";
        setAdmin(true, res.data.csrf_token);
      } else if (res.status === 429) {
        err.textContent = "Too many wrong passwords. Try again in " + (res.retryAfter || "a few") + " seconds.";
      } else if (res.status === 401) {
        err.textContent = "Wrong password.";
      } else {
        err.textContent = errorText(res);
      }
    } catch (_) {
      err.textContent = "The server cannot be reached.";
    } finally {
      btn.disabled = false;
    }
  });

  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/logout").catch(() => {});
    setAdmin(false);
  });

  // Adding a share. The name follows the folder's until it is typed in.
  const pathIn = $("share-path"), nameIn = $("share-name");
  let nameTyped = false;
  const baseName = (p) => p.replace(/\/+$/, "").split("/").pop();
  nameIn.addEventListener("input", () => { nameTyped = nameIn.value !== ""; });
  pathIn.addEventListener("input", () => { if (!nameTyped) nameIn.value = baseName(pathIn.value); });

  $("add-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("add-error"), ok = $("add-ok"), btn = $("add");
    err.textContent = ok.textContent = "";
    btn.disabled = true;
    try {
      const name = nameIn.value;
      const res = await api("POST", "/api/shares", { name, path: pathIn.value });
      if (res.ok) {
        ok.textContent = "Added “" + name + "”: players see it now.";
        pathIn.value = nameIn.value = "";
        nameTyped = false;
        closePicker();
      } else {
        err.textContent = errorText(res);
      }
    } catch (_) {
      err.textContent = "The server cannot be reached.";
    } finally {
      btn.disabled = false;
    }
  });

  // The folder picker lists the subfolders of the share roots.
  const picker = $("picker"), browseBtn = $("browse");
  let here = "", parent = "";
  function closePicker() {
    picker.hidden = true;
    browseBtn.setAttribute("aria-expanded", "false");
  }
  async function browse(path) {
    const res = await api("GET", "/api/folders" + (path ? "?path=" + encodeURIComponent(path) : ""));
    if (!res.ok) {
      if (path) return browse("");
      $("add-error").textContent = errorText(res);
      return;
    }
    const d = res.data;
    here = d.path;
    parent = d.parent;
    $("picker-path").textContent = here || "Choose a folder";
    const items = d.folders.map((f) => {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = f.name;
      b.dataset.path = f.path;
      li.append(b);
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = here ? "No folders inside." : "None of the share roots exists.";
      items.push(li);
    }
    $("picker-list").replaceChildren(...items);
    $("picker-up").disabled = !here;
    $("picker-use").disabled = !here;
  }
  $("picker-list").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-path]");
    if (b) browse(b.dataset.path);
  });
  browseBtn.addEventListener("click", () => {
    if (!picker.hidden) return closePicker();
    picker.hidden = false;
    browseBtn.setAttribute("aria-expanded", "true");
    browse(pathIn.value || here);
  });
  $("picker-up").addEventListener("click", () => browse(parent));
  $("picker-use").addEventListener("click", () => {
    pathIn.value = here;
    if (!nameTyped) nameIn.value = baseName(here);
    closePicker();
    nameIn.focus();
  });

  // Remove (pressed twice) and rename, on the share cards.
  $("status").addEventListener("click", async (e) => {
    const btn = e.target.closest("button[data-action]");
    if (!btn) return;
    const name = btn.closest("[data-share]").dataset.share;
    if (btn.dataset.action === "remove") {
      clearTimeout(armTimer);
      if (armed !== name) {
        armed = name;
        armTimer = setTimeout(() => { armed = null; showArmed(); }, 5000);
        showArmed();
        return;
      }
      armed = null;
      showArmed();
      const res = await api("DELETE", "/api/shares/" + encodeURIComponent(name));
      if (!res.ok) alert(errorText(res));
    } else if (btn.dataset.action === "rename") {
      const next = prompt("New name for “" + name + "”:", name);
      if (!next || next === name) return;
      const res = await api("PATCH", "/api/shares/" + encodeURIComponent(name), { name: next });
      if (!res.ok) alert(errorText(res));
    }
  });
})();
