// mediaftpd status page: live updates, logins, share and user management.
// No framework and no build step. The server renders the status section
// (escaped by html/template) for whoever is looking, and pushes it again
// over Server-Sent Events whenever something changes; this script swaps it
// in and drives the JSON API for the login and the admin's forms.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let csrf = "";
  // who is looking, as the server rendered the page for.
  let who = {
    admin: document.body.classList.contains("admin"),
    user: document.body.classList.contains("user") && $("whoami") ? $("whoami").textContent : "",
  };

  // setSession shows the page for the admin, a user, or a visitor (s
  // null), and reopens the live stream when that changed: the server
  // makes its events for the session whose cookie opened it.
  function setSession(s) {
    const next = s ? { admin: !!s.admin, user: s.user || "" } : { admin: false, user: "" };
    csrf = s ? s.csrf_token || "" : "";
    const changed = next.admin !== who.admin || next.user !== who.user;
    who = next;
    const body = document.body.classList;
    body.toggle("admin", who.admin);
    body.toggle("user", who.user !== "");
    body.toggle("in", who.admin || who.user !== "");
    const whoami = $("whoami");
    if (whoami) whoami.textContent = who.user;
    if (changed) reconnect();
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
    if (r.status === 401 && url !== "/api/login") setSession(null);
    return { ok: r.ok, status: r.status, data, retryAfter: r.headers.get("Retry-After") };
  }
  const errorText = (res) => (res.data && res.data.error) || "The server answered " + res.status + ".";

  // Live updates.
  const live = $("live");
  // armed is the share ("share:Name") or user ("user:Name") whose Remove
  // button was pressed once; opened is a share whose "everyone" box was
  // unticked, whose users can now be ticked.
  let armed = null, armTimer = 0, opened = null;
  function showArmed() {
    for (const b of document.querySelectorAll("#status button[data-action=remove], #status button[data-action=remove-user]")) {
      const key = b.dataset.action === "remove" ? "share:" + b.closest("[data-share]").dataset.share : "user:" + b.closest("[data-user]").dataset.user;
      const on = key === armed;
      b.classList.toggle("armed", on);
      b.textContent = on ? "Really remove?" : "Remove";
    }
    for (const li of document.querySelectorAll("#status [data-share]")) {
      if (li.dataset.share !== opened) continue;
      const pub = li.querySelector("input[data-action=public]");
      if (!pub || !pub.checked) continue;
      pub.checked = false;
      for (const box of li.querySelectorAll("input[data-action=access]")) box.disabled = false;
    }
  }
  let es = null;
  function connect() {
    es = new EventSource("/events");
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
  function reconnect() {
    if (!window.EventSource) return;
    if (es) es.close();
    connect();
  }
  if (window.EventSource) connect();

  api("GET", "/api/session").then((res) => {
    if (res.ok) setSession(res.data.admin || res.data.user ? res.data : null);
  }, () => {});

  const loginForm = $("login-form");
  if (!loginForm) return; // management is off

  loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("login-error"), btn = $("login");
    err.textContent = "";
    btn.disabled = true;
    try {
      const userIn = $("login-user"), user = userIn ? userIn.value.trim() : "";
      const body = user ? { user, password: $("password").value } : { password: $("password").value };
      const res = await api("POST", "/api/login", body);
      if (res.ok) {
        $("password").value = "";
        setSession(res.data);
      } else if (res.status === 429) {
        err.textContent = "Too many wrong passwords. Try again in " + (res.retryAfter || "a few") + " seconds.";
      } else if (res.status === 401) {
        err.textContent = user ? "Wrong name or password." : "Wrong password.";
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
    setSession(null);
  });

  const addForm = $("add-form");
  if (!addForm) return; // user logins only: management is off

  // Adding a share. The name follows the folder's until it is typed in.
  const pathIn = $("share-path"), nameIn = $("share-name");
  let nameTyped = false;
  const baseName = (p) => p.replace(/\/+$/, "").split("/").pop();
  nameIn.addEventListener("input", () => { nameTyped = nameIn.value !== ""; });
  pathIn.addEventListener("input", () => { if (!nameTyped) nameIn.value = baseName(pathIn.value); });

  addForm.addEventListener("submit", async (e) => {
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

  // Adding a user, or setting a user's password: a name already listed
  // gets a new password.
  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = $("user-error"), ok = $("user-ok"), btn = $("user-save");
    const name = $("user-name").value.trim(), password = $("user-password").value;
    err.textContent = ok.textContent = "";
    btn.disabled = true;
    try {
      const known = [...document.querySelectorAll("#status [data-user]")].some((li) => li.dataset.user === name);
      const res = known
        ? await api("PUT", "/api/users/" + encodeURIComponent(name) + "/password", { password })
        : await api("POST", "/api/users", { name, password });
      if (res.ok) {
        ok.textContent = known ? "New password set for “" + name + "”; they log in again with it." : "Added “" + name + "”.";
        $("user-name").value = $("user-password").value = "";
      } else {
        err.textContent = errorText(res);
      }
    } catch (_) {
      err.textContent = "The server cannot be reached.";
    } finally {
      btn.disabled = false;
    }
  });

  // arm asks for a second press of a Remove button: it returns true when
  // key was armed already.
  function arm(key) {
    clearTimeout(armTimer);
    if (armed !== key) {
      armed = key;
      armTimer = setTimeout(() => { armed = null; showArmed(); }, 5000);
      showArmed();
      return false;
    }
    armed = null;
    showArmed();
    return true;
  }

  // Who sees which share: the "everyone" box and the users' boxes on a
  // share's card, the private shares' boxes on a user's.
  $("status").addEventListener("change", async (e) => {
    const box = e.target;
    const act = box.dataset && box.dataset.action;
    if (!act) return;
    let res = null;
    if (act === "public" || act === "access") {
      const li = box.closest("[data-share]"), name = li.dataset.share;
      const users = [...li.querySelectorAll("input[data-action=access]:checked")].map((b) => b.value);
      if (act === "public" && !box.checked) {
        // Private to whom? Let the users be ticked first.
        opened = name;
        for (const b of li.querySelectorAll("input[data-action=access]")) b.disabled = false;
        if (!li.querySelector("input[data-action=access]")) {
          alert("Add a user first: a private share is seen only by the users it lists.");
          box.checked = true;
          opened = null;
        }
        return;
      }
      if (act === "access" && !users.length) {
        alert("Tick “everyone” to make “" + name + "” public: a private share needs at least one user.");
        box.checked = true;
        return;
      }
      opened = null;
      res = await api("PUT", "/api/shares/" + encodeURIComponent(name) + "/access", { access: act === "public" ? "public" : users });
    } else if (act === "user-share") {
      const li = box.closest("[data-user]");
      const shares = [...li.querySelectorAll("input[data-action=user-share]:checked")].map((b) => b.value);
      res = await api("PUT", "/api/users/" + encodeURIComponent(li.dataset.user) + "/shares", { shares });
    }
    if (res && !res.ok) {
      box.checked = !box.checked;
      alert(errorText(res));
    }
  });

  // Remove (pressed twice) and rename, on the share and user cards.
  $("status").addEventListener("click", async (e) => {
    const btn = e.target.closest("button[data-action]");
    if (!btn) return;
    const act = btn.dataset.action;
    if (act === "password" || act === "remove-user") {
      const name = btn.closest("[data-user]").dataset.user;
      if (act === "password") {
        $("user-name").value = name;
        $("user-password").value = "";
        $("user-form").scrollIntoView({ block: "center" });
        $("user-password").focus();
        return;
      }
      if (!arm("user:" + name)) return;
      const res = await api("DELETE", "/api/users/" + encodeURIComponent(name));
      if (!res.ok) alert(errorText(res));
      return;
    }
    const name = btn.closest("[data-share]").dataset.share;
    if (act === "remove") {
      if (!arm("share:" + name)) return;
      const res = await api("DELETE", "/api/shares/" + encodeURIComponent(name));
      if (!res.ok) alert(errorText(res));
    } else if (act === "rename") {
      const next = prompt("New name for “" + name + "”:", name);
      if (!next || next === name) return;
      const res = await api("PATCH", "/api/shares/" + encodeURIComponent(name), { name: next });
      if (!res.ok) alert(errorText(res));
    }
  });
})();
