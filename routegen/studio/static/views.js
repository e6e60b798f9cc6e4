// Small DOM builders for the studio: the critic's grade bar, the nearest real problem, result cards.
// User and model text always goes in through textContent (never innerHTML), so nothing in it is markup.
import { drawBoard } from "./board.js";

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

// The critic's distribution over the grades around its answer (3 either side), as bars: one number hides how
// unsure it is, a bar shows it.
export function criticBar(critic, span = 3) {
  const box = h("div", { class: "critic" });
  if (!critic) {
    box.appendChild(h("span", { class: "muted", text: "no critic grade" }));
    return box;
  }
  const names = critic.distribution.map(([n]) => n);
  const at = Math.max(0, names.indexOf(critic.grade));
  const lo = Math.max(0, at - span), hi = Math.min(names.length, at + span + 1);
  const top = Math.max(...critic.distribution.slice(lo, hi).map(([, p]) => p), 1e-6);
  const bars = h("div", { class: "bars" });
  for (const [name, p] of critic.distribution.slice(lo, hi)) {
    const bar = h("div", { class: "bar" + (name === critic.grade ? " best" : ""), title: `${name}: ${(p * 100).toFixed(1)}%` },
      h("div", { class: "fill", style: `height:${Math.round((p / top) * 100)}%` }),
      h("div", { class: "label", text: name }));
    bars.appendChild(bar);
  }
  box.appendChild(h("div", { class: "critic-grade", "data-testid": "critic-grade",
    text: `${critic.grade} (V${critic.v}) · ${Math.round(critic.confidence * 100)}%` }));
  box.appendChild(bars);
  return box;
}

export function nearestLine(nearest) {
  if (!nearest) return h("div", { class: "nearest muted", text: "nearest real problem: unknown" });
  const pct = Math.round(nearest.similarity * 100);
  const cls = "nearest" + (nearest.similarity >= 0.8 ? " copy" : "");  // 0.8: novelty.NEAR_COPY
  return h("div", { class: cls, "data-testid": "nearest", title: "Jaccard similarity of the hold sets" },
    `nearest: ${nearest.name} (${nearest.grade}) · ${pct}% same holds`);
}

export function validityLine(result) {
  return h("div", { class: result.valid ? "valid ok" : "valid bad", "data-testid": "validity",
    text: result.valid ? "valid" : result.validity });
}

// One generated / completed route: a thumbnail, its critic bar, validity and nearest problem; click opens it.
export function resultCard(board, result, onOpen) {
  const card = h("button", { class: "card", type: "button", "data-testid": "result", title: result.text,
    on: { click: () => onOpen(result) } });
  card.appendChild(drawBoard(board, result.route, { cell: 10, labels: false }));
  card.appendChild(criticBar(result.critic, 2));
  card.appendChild(validityLine(result));
  card.appendChild(nearestLine(result.nearest));
  return card;
}
