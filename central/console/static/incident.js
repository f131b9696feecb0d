// Incident page: a player over the event's frames with the boxes drawn over each picture,
// and pan/zoom on the SVG map (wheel, drag, buttons). Data come from the page itself.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const FRAME_MS = 600;
const CLASS_FR = { smoke: "fumée", fire: "flammes" };

function setupPlayer() {
  const player = document.getElementById("player");
  const data = document.getElementById("frames-data");
  if (!player || !data) { return; }
  const frames = JSON.parse(data.textContent);
  const image = document.getElementById("frame");
  const boxes = document.getElementById("boxes");
  const seek = document.getElementById("seek");
  const caption = document.getElementById("caption");
  const play = document.getElementById("play");
  const flagged = Number(player.dataset.flagged || 0);
  let index = flagged;
  let timer = null;

  if (!frames.length) {
    player.querySelector(".stage").hidden = true;
    player.querySelector(".controls").hidden = true;
    caption.textContent = "Aucune image reçue pour cet incident.";
    return;
  }
  seek.max = String(frames.length - 1);

  function drawBoxes(frame) {
    boxes.replaceChildren();
    for (const box of frame.boxes) {
      const rect = document.createElementNS(SVG_NS, "rect");
      rect.setAttribute("x", `${box.x_min * 100}%`);
      rect.setAttribute("y", `${box.y_min * 100}%`);
      rect.setAttribute("width", `${(box.x_max - box.x_min) * 100}%`);
      rect.setAttribute("height", `${(box.y_max - box.y_min) * 100}%`);
      rect.setAttribute("class", box.detection_class);
      const label = document.createElementNS(SVG_NS, "text");
      label.setAttribute("x", `${box.x_min * 100}%`);
      label.setAttribute("y", `${Math.max(box.y_min * 100 - 1.5, 4)}%`);
      label.textContent = `${CLASS_FR[box.detection_class] || box.detection_class} ${Math.round(box.score * 100)} %`;
      boxes.append(rect, label);
    }
  }

  function show(i) {
    index = (i + frames.length) % frames.length;
    const frame = frames[index];
    image.src = frame.src;
    drawBoxes(frame);
    seek.value = String(index);
    const mark = index === flagged ? " — image signalée" : "";
    caption.textContent = `Image ${index + 1}/${frames.length} · ${frame.camera} · ${frame.captured_at} · score ${Math.round(frame.score * 100)} %${mark}`;
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "▶";
  }

  play.addEventListener("click", () => {
    if (timer) { stop(); return; }
    play.textContent = "❚❚";
    timer = setInterval(() => show(index + 1), FRAME_MS);
  });
  document.getElementById("prev").addEventListener("click", () => { stop(); show(index - 1); });
  document.getElementById("next").addEventListener("click", () => { stop(); show(index + 1); });
  document.getElementById("flagged").addEventListener("click", () => { stop(); show(flagged); });
  seek.addEventListener("input", () => { stop(); show(Number(seek.value)); });
  show(flagged);
}

function setupMap() {
  const wrap = document.getElementById("map");
  const svg = wrap && wrap.querySelector("svg");
  if (!svg) { return; }
  const home = svg.viewBox.baseVal;
  const initial = [home.x, home.y, home.width, home.height];
  let view = [...initial];
  const apply = () => svg.setAttribute("viewBox", view.join(" "));

  function zoom(factor, cx = view[0] + view[2] / 2, cy = view[1] + view[3] / 2) {
    const width = Math.min(initial[2] * 4, Math.max(initial[2] / 16, view[2] * factor));
    const height = width * initial[3] / initial[2];
    view = [cx - (cx - view[0]) * width / view[2], cy - (cy - view[1]) * height / view[3], width, height];
    apply();
  }

  function toSvg(event) {
    const box = svg.getBoundingClientRect();
    return [view[0] + (event.clientX - box.left) / box.width * view[2],
      view[1] + (event.clientY - box.top) / box.height * view[3]];
  }

  wrap.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoom(event.deltaY < 0 ? 0.8 : 1.25, ...toSvg(event));
  }, { passive: false });
  let drag = null;
  wrap.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, view: [...view] };
    wrap.setPointerCapture(event.pointerId);
  });
  wrap.addEventListener("pointermove", (event) => {
    if (!drag) { return; }
    const box = svg.getBoundingClientRect();
    view = [drag.view[0] - (event.clientX - drag.x) / box.width * view[2],
      drag.view[1] - (event.clientY - drag.y) / box.height * view[3], view[2], view[3]];
    apply();
  });
  wrap.addEventListener("pointerup", () => { drag = null; });
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const kind = button.dataset.zoom;
      if (kind === "reset") { view = [...initial]; apply(); } else { zoom(kind === "in" ? 0.66 : 1.5); }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupPlayer();
  setupMap();
});
