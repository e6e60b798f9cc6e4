// The board as SVG: every real hold of the chosen board at its grid position, rows 1-18 and columns A-K labelled,
// the route's holds ringed green (start), blue (middle) and red (end). Colours are attributes, not CSS, so the
// SVG draws the same when serialised to a PNG.
import { COLUMNS, ROLES, ROWS, parseHold } from "./codec.js";

const NS = "http://www.w3.org/2000/svg";
const COLOURS = { start: "#1fa34a", middle: "#2563eb", end: "#dc2626" };
const ANGLE = { N: 0, NE: 45, E: 90, SE: 135, S: 180, SW: 225, W: 270, NW: 315 };

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// board: {name, title, holds: ["A5", ...], orientation: {"A5": "NE"}}; options: {cell, labels, interactive}
export function drawBoard(board, route, { cell = 30, labels = true, interactive = false } = {}) {
  const margin = labels ? cell : cell / 3;
  const w = margin * 2 + cell * COLUMNS.length, h = margin * 2 + cell * ROWS;
  const svg = el("svg", { xmlns: NS, width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img" });
  el("rect", { x: 0, y: 0, width: w, height: h, fill: "#f4efe6", rx: cell / 4 }, svg);
  const x = (col) => margin + col * cell + cell / 2;
  const y = (row) => margin + (ROWS - row) * cell + cell / 2;
  if (labels) {
    const font = { "font-size": cell * 0.42, "font-family": "sans-serif", fill: "#6b5e4b", "text-anchor": "middle" };
    [...COLUMNS].forEach((c, i) => {
      el("text", { ...font, x: x(i), y: margin * 0.7 }, svg).textContent = c;
      el("text", { ...font, x: x(i), y: h - margin * 0.3 }, svg).textContent = c;
    });
    for (let r = 1; r <= ROWS; r++) {
      el("text", { ...font, x: margin / 2, y: y(r) + cell * 0.15 }, svg).textContent = String(r);
      el("text", { ...font, x: w - margin / 2, y: y(r) + cell * 0.15 }, svg).textContent = String(r);
    }
  }
  const roles = {};
  for (const role of ROLES) for (const hold of route[role]) roles[hold] = role;
  for (const hold of board.holds) {
    const { col, row } = parseHold(hold);
    const g = el("g", { transform: `translate(${x(col)} ${y(row)})`, "data-hold": hold }, svg);
    el("circle", { r: cell * (labels ? 0.2 : 0.13), fill: "#5b4a3a" }, g);
    const dir = ANGLE[board.orientation?.[hold]];
    if (dir !== undefined && labels) {  // a tick towards where the hold is best pulled: a hint for setters, as on the wall
      el("line", { x1: 0, y1: 0, x2: 0, y2: -cell * 0.3, stroke: "#5b4a3a", "stroke-width": cell * 0.07,
                   transform: `rotate(${dir})` }, g);
    }
    if (roles[hold]) {
      el("circle", { r: cell * 0.42, fill: "none", stroke: COLOURS[roles[hold]], "stroke-width": cell * (labels ? 0.11 : 0.18),
                     "data-role": roles[hold] }, g);
    }
    if (interactive) {
      const hit = el("circle", { r: cell * 0.48, fill: "transparent", "data-hold": hold, class: "hit" }, g);
      el("title", {}, hit).textContent = hold;
    }
  }
  return svg;
}

// A PNG of an SVG, drawn client side on a canvas (nothing leaves the browser).
export function downloadPng(svg, filename) {
  const text = new XMLSerializer().serializeToString(svg);
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = img.width * 2;
    canvas.height = img.height * 2;
    const ctx = canvas.getContext("2d");
    ctx.scale(2, 2);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((blob) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, "image/png");
  };
  img.src = url;
}
