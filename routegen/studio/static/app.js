// The studio's page: state (board, route, grade, model) kept in localStorage, the editor with undo / redo, live
// validity + critic grade, generate / complete, export and share. Views live in board.js / views.js.
import { drawBoard, downloadPng } from "./board.js";
import { LED_RX, LED_SERVICE, cycle, decodeShare, emptyRoute, encodeLed, encodeShare, formatRoute, formatRowFirst,
  holdCount, ledChunks, normalise } from "./codec.js";
import { initLibrary } from "./library.js";
import { api, toast } from "./net.js";
import { criticBar, h, nearestLine, resultCard, validityLine } from "./views.js";

const WIP = "routegen-studio-wip";
const $ = (id) => document.getElementById(id);
const app = { state: { board: "2016", grade: "7A", model: "", n: 6, route: emptyRoute() }, undo: [], redo: [] };
let boards = {}, grades = [], liveSeq = 0;

function persist() {
  localStorage.setItem(WIP, JSON.stringify({ ...app.state, name: $("route-name").value, notes: $("route-notes").value }));
}

// --- the editor -------------------------------------------------------------------------------------------
function setRoute(route, { record = true } = {}) {
  if (record) {
    app.undo.push(app.state.route);
    app.redo = [];
  }
  app.state.route = normalise(route);
  render();
}

function render() {
  const board = boards[app.state.board];
  if (!board) return;
  const svg = drawBoard(board, app.state.route, { cell: 30, interactive: true });
  svg.id = "board-svg";
  $("board-view").replaceChildren(svg);
  $("route-text").textContent = holdCount(app.state.route) ? formatRoute(app.state.route) : "no holds yet";
  $("undo").disabled = !app.undo.length;
  $("redo").disabled = !app.redo.length;
  persist();
  live();
}

// Validity and the critic's grade for the route being edited; a late answer to an older edit is dropped.
async function live() {
  const seq = ++liveSeq, route = app.state.route, board = app.state.board;
  if (!holdCount(route)) {
    app.lastCritic = null;
    $("live").replaceChildren();
    return;
  }
  const body = { board, route };
  const graded = boards[board].critic ? api("POST", "/api/grade", body) : api("POST", "/api/check", body);
  const [g, s] = await Promise.all([graded, api("POST", "/api/similar", body)]).catch(() => [null, null]);
  if (seq !== liveSeq || !g) return;
  app.lastCritic = g.critic || null;
  $("live").replaceChildren(validityLine(g), criticBar(g.critic), nearestLine(s.nearest));
  $("live").dataset.seq = String(seq);  // tests wait on this to know the view caught up with the last edit
}

$("board-view").addEventListener("click", (e) => {
  const hold = e.target.closest("[data-hold]")?.dataset.hold;
  if (hold) setRoute(cycle(app.state.route, hold));
});
$("undo").addEventListener("click", () => step(app.undo, app.redo));
$("redo").addEventListener("click", () => step(app.redo, app.undo));
$("clear").addEventListener("click", () => setRoute(emptyRoute()));
document.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || e.target.matches("input, textarea")) return;
  if (e.key === "z") step(app.undo, app.redo);
  if (e.key === "y") step(app.redo, app.undo);
});

function step(from, to) {
  if (!from.length) return;
  to.push(app.state.route);
  app.state.route = from.pop();
  render();
}

// --- pickers ----------------------------------------------------------------------------------------------
function fillPickers() {
  const board = boards[app.state.board];
  const gens = board.generators;
  if (!gens.some((g) => g.name === app.state.model)) app.state.model = gens[0]?.name || "";
  $("model").replaceChildren(...gens.map((g) => h("option", { value: g.name, text: g.label })));
  $("model").value = app.state.model;
  const trained = new Set(gens.find((g) => g.name === app.state.model)?.grades || []);
  $("grade").replaceChildren(...grades.map((g) => {
    const opt = h("option", { value: g.font, text: `${g.font} (V${g.v})` });
    opt.disabled = gens.length > 0 && !trained.has(g.number);
    return opt;
  }));
  $("grade").value = app.state.grade;
  for (const id of ["generate", "complete"]) $(id).disabled = !gens.length;
  if (!gens.length) $("results-title").textContent = `no generator for board ${board.name}: start with --generator`;
}

$("board").addEventListener("change", () => {
  app.state.board = $("board").value;
  app.undo = [];
  app.redo = [];
  app.state.route = emptyRoute();
  fillPickers();
  render();
});
$("model").addEventListener("change", () => { app.state.model = $("model").value; fillPickers(); persist(); });
$("grade").addEventListener("change", () => { app.state.grade = $("grade").value; persist(); });
$("count").addEventListener("change", () => { app.state.n = Number($("count").value) || 6; persist(); });

// --- generate and complete --------------------------------------------------------------------------------
async function propose(kind) {
  const s = app.state;
  const body = { board: s.board, model: s.model, grade: s.grade, n: s.n };
  if (kind === "complete") body.route = s.route;
  $("busy").hidden = false;
  try {
    const res = await api("POST", `/api/${kind}`, body);
    const board = boards[s.board];
    $("results-title").textContent = kind === "complete"
      ? `completions of ${formatRoute(s.route)} at ${res.grade}` : `${res.routes.length} routes at ${res.grade}`;
    $("results").replaceChildren(...res.routes.map((r) => resultCard(board, r, (picked) => setRoute(picked.route))));
  } finally {
    $("busy").hidden = true;
  }
}
$("generate").addEventListener("click", () => propose("generate").catch(() => {}));
$("complete").addEventListener("click", () => {
  if (!holdCount(app.state.route)) return toast("place a hold or two first, then fill the rest", true);
  propose("complete").catch(() => {});
});

// --- export and share -------------------------------------------------------------------------------------
app.copy = async (text, what) => {
  try {
    await navigator.clipboard.writeText(text);
  } catch {  // no clipboard permission (plain http on another host): show the text to copy by hand
    prompt(`copy the ${what}:`, text);
    return;
  }
  toast(`copied ${what}`);
};
const shareLink = () => location.origin + location.pathname + "#" + encodeShare(app.state.board, app.state.route, app.state.grade);
$("copy-text").addEventListener("click", () => app.copy(formatRoute(app.state.route), "route"));
$("copy-rowfirst").addEventListener("click", () => app.copy(formatRowFirst(app.state.route), "route"));
$("png").addEventListener("click", () => downloadPng($("board-svg"), `route-${app.state.board}.png`));
$("share").addEventListener("click", () => {
  history.replaceState(null, "", shareLink());
  app.copy(shareLink(), "share link");
});

// "light it up": the route to a MoonBoard LED controller over Web Bluetooth (button only where the API exists).
if (navigator.bluetooth) $("bluetooth").hidden = false;
$("bluetooth").addEventListener("click", async () => {
  try {
    const device = await navigator.bluetooth.requestDevice({ filters: [{ services: [LED_SERVICE] }] });
    const rx = await (await (await device.gatt.connect()).getPrimaryService(LED_SERVICE)).getCharacteristic(LED_RX);
    for (const chunk of ledChunks(encodeLed(app.state.route))) await rx.writeValue(chunk);
    toast("sent to the board");
  } catch (e) {
    toast(`bluetooth: ${e.message}`, true);
  }
});

// --- opening a route: library row, share link, last session -----------------------------------------------
app.open = (row) => {
  if (row.board !== app.state.board && boards[row.board]) {
    app.state.board = row.board;
    $("board").value = row.board;
    app.undo = [];
  }
  if (row.grade_font) app.state.grade = row.grade_font;
  $("route-name").value = row.name || "";
  $("route-notes").value = row.notes || "";
  fillPickers();
  setRoute({ start: row.start, middle: row.middle, end: row.end });
};

function fromHash() {
  const shared = location.hash.length > 1 ? decodeShare(location.hash) : null;
  if (!shared || !boards[shared.board]) return false;
  app.open({ ...shared.route, board: shared.board, grade_font: shared.grade, name: "" });
  return true;
}
window.addEventListener("hashchange", fromHash);

async function main() {
  const data = await api("GET", "/api/boards");
  grades = data.grades;
  for (const b of data.boards) boards[b.name] = b;
  $("board").replaceChildren(...data.boards.map((b) => h("option", { value: b.name, text: b.title })));
  $("count").max = data.max_n;
  const gradeOpts = () => grades.map((g) => h("option", { value: g.font, text: `${g.font} (V${g.v})` }));
  $("setter-grade").replaceChildren(h("option", { value: "", text: "-" }), ...gradeOpts());
  $("lib-grade").append(...gradeOpts());
  const saved = JSON.parse(localStorage.getItem(WIP) || "null");
  if (saved && boards[saved.board]) {
    Object.assign(app.state, { board: saved.board, grade: saved.grade || "7A", model: saved.model || "",
      n: saved.n || 6, route: normalise(saved.route) });
    $("route-name").value = saved.name || "";
    $("route-notes").value = saved.notes || "";
  } else if (!data.boards[0].generators.length) {
    app.state.board = data.boards.find((b) => b.generators.length)?.name || "2016";
  }
  $("board").value = app.state.board;
  $("count").value = app.state.n;
  for (const id of ["route-name", "route-notes"]) $(id).addEventListener("input", persist);
  fillPickers();
  if (!fromHash()) render();
  await initLibrary(app).refresh();
  document.body.dataset.ready = "1";
}
main();
