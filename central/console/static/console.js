// vigifeu console: live updates over server-sent events, alert sound, relative times,
// double-submit guard. No framework; every page works without it (plain forms and links).
"use strict";

const SOUND_KEY = "vigifeu.sound";
const OPEN_LIST = "open-incidents";

function fetchFragment(url) {
  return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" }).then((r) => {
    if (r.status === 401) { window.location.reload(); }
    return r.ok ? r.text() : Promise.reject(new Error(`${url}: HTTP ${r.status}`));
  });
}

function parseFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content;
}

// Relative ages ("il y a 4 min"), refreshed locally every 20 s: no request involved.
function refreshAges() {
  const now = Date.now();
  for (const element of document.querySelectorAll(".age[data-since]")) {
    const seconds = Math.max(0, Math.round((now - Date.parse(element.dataset.since)) / 1000));
    element.textContent = seconds < 90 ? `il y a ${seconds} s`
      : seconds < 5400 ? `il y a ${Math.round(seconds / 60)} min`
        : `il y a ${Math.round(seconds / 3600)} h`;
  }
}

function updateOpenCount() {
  const counter = document.getElementById("open-count");
  const list = document.getElementById(OPEN_LIST);
  if (!counter || !list) { return; }
  const unacked = list.querySelectorAll("tr.unacked").length;
  counter.textContent = unacked ? String(unacked) : "";
  document.title = (unacked ? `(${unacked}) ` : "") + document.title.replace(/^\(\d+\) /, "");
  const empty = document.getElementById("no-incident");
  if (empty) { empty.hidden = list.children.length > 0; }
}

const sound = {
  audio: null,
  get enabled() { return localStorage.getItem(SOUND_KEY) === "on"; },
  set enabled(on) { localStorage.setItem(SOUND_KEY, on ? "on" : "off"); this.render(); },
  render() {
    const button = document.getElementById("sound-toggle");
    if (!button) { return; }
    button.setAttribute("aria-pressed", String(this.enabled));
    button.textContent = this.enabled ? "Son : actif" : "Son : coupé";
  },
  play() {
    if (!this.enabled) { return; }
    this.audio = this.audio || new Audio("/alerte.wav");
    this.audio.currentTime = 0;
    this.audio.play().catch(() => { /* autoplay refused until the next click */ });
  },
};

function offeredActions(actions) {
  return [...actions.querySelectorAll("[data-action]")].map((button) => button.dataset.action).join();
}

// Swap in the re-read panel but keep the operator's action forms as they are while the same
// actions are offered: a push (the stream's first resync, a delivery, an escalation) must not
// reset a false-positive type being chosen, nor swap the button under the pointer. Replacing
// them did both, and the next click hit an empty required <select>, so nothing was sent.
function updatePanel(panel, fresh) {
  const kept = panel.querySelector(":scope > .actions");
  const incoming = fresh.querySelector(":scope > .actions");
  if (!kept || !incoming || offeredActions(kept) !== offeredActions(incoming)) {
    panel.replaceWith(fresh);
    return;
  }
  const children = [...fresh.childNodes];
  const at = children.indexOf(incoming);
  for (const name of fresh.getAttributeNames()) { panel.setAttribute(name, fresh.getAttribute(name)); }
  while (kept.previousSibling) { kept.previousSibling.remove(); }
  while (kept.nextSibling) { kept.nextSibling.remove(); }
  kept.before(...children.slice(0, at));
  kept.after(...children.slice(at + 1));
}

async function onIncidentChange(change) {
  const list = document.getElementById(OPEN_LIST);
  if (list) {
    const fragment = parseFragment(await fetchFragment(`/incidents/${change.key}/row`));
    const row = fragment.querySelector("tr");
    const existing = document.getElementById(`incident-${change.key}`);
    if (row.dataset.open !== "yes") {
      if (existing) { existing.remove(); }
    } else if (existing) {
      existing.replaceWith(row);
    } else {
      row.classList.add("fresh");
      list.prepend(row);
    }
    updateOpenCount();
    refreshAges();
  }
  const incident = document.getElementById("incident");
  if (incident && incident.dataset.id === change.key) {
    const panel = parseFragment(await fetchFragment(`/incidents/${change.key}/panel`));
    updatePanel(document.getElementById("panel"), panel.querySelector("section"));
    refreshAges();
  }
  if (change.action === "created") { sound.play(); }
}

async function onCameraChange() {
  const wrap = document.getElementById("camera-table-wrap");
  if (wrap) { wrap.innerHTML = await fetchFragment("/cameras/table"); }
}

async function resync() {
  // The page was rendered before its stream opened: re-read what it shows, so that a change in
  // between (or while the stream was down) is not missed.
  const list = document.getElementById(OPEN_LIST);
  if (list) {
    const page = parseFragment(await fetchFragment("/"));
    const fresh = page.querySelector(`#${OPEN_LIST}`);
    if (fresh) { list.replaceWith(fresh); updateOpenCount(); refreshAges(); }
  }
  const incident = document.getElementById("incident");
  if (incident) { await onIncidentChange({ key: incident.dataset.id, action: "resync" }); }
  await onCameraChange();
}

function connect() {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  const source = new EventSource("/events");
  source.addEventListener("hello", () => {
    live.dataset.state = "on";
    live.textContent = "en direct";
    resync().catch(console.error);
  });
  source.addEventListener("incident", (event) => {
    onIncidentChange(JSON.parse(event.data)).catch(console.error);
  });
  source.addEventListener("camera", () => { onCameraChange().catch(console.error); });
  source.onerror = () => { live.dataset.state = "off"; live.textContent = "reconnexion…"; };
  window.addEventListener("pagehide", () => source.close());
}

function guardDoubleSubmit() {
  // A second click while the first request is on its way is ignored here; the server is
  // idempotent anyway (one dispatch per incident and channel).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.submitted === "yes") { event.preventDefault(); return; }
    form.dataset.submitted = "yes";
    for (const button of form.querySelectorAll("button")) { button.disabled = true; }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  sound.render();
  const toggle = document.getElementById("sound-toggle");
  if (toggle) {
    toggle.addEventListener("click", () => {
      sound.enabled = !sound.enabled;
      if (sound.enabled) { sound.play(); }
    });
  }
  guardDoubleSubmit();
  refreshAges();
  updateOpenCount();
  setInterval(refreshAges, 20000);
  connect();
});
