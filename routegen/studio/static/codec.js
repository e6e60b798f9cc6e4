// Pure helpers shared by the studio's views; no DOM here. share + LED encodings mirror routegen/studio/share.py
// and bluetooth.py (tests check the same strings come out of both).
export const ROLES = ["start", "middle", "end"];
export const COLUMNS = "ABCDEFGHIJK";
export const ROWS = 18;
const MAX_START_ROW = 6, MAX_HOLDS = 14;

export const emptyRoute = () => ({ start: [], middle: [], end: [] });
export const parseHold = (h) => ({ col: COLUMNS.indexOf(h[0]), row: parseInt(h.slice(1), 10) });
const order = (a, b) => parseHold(a).row - parseHold(b).row || parseHold(a).col - parseHold(b).col;

export function normalise(route) {
  const out = emptyRoute();
  for (const role of ROLES) out[role] = [...(route?.[role] || [])].sort(order);
  return out;
}

export const roleOf = (route, hold) => ROLES.find((role) => route[role].includes(hold)) || null;
export const holdCount = (route) => ROLES.reduce((n, role) => n + route[role].length, 0);

function without(route, hold) {
  const out = emptyRoute();
  for (const role of ROLES) out[role] = route[role].filter((h) => h !== hold);
  return out;
}

// May `hold` take `role` in a route that does not yet contain it? (The rules of check_route.)
function allowed(rest, hold, role) {
  if (role === null) return true;
  if (holdCount(rest) >= MAX_HOLDS) return false;
  const row = parseHold(hold).row;
  if (role === "start") return row <= MAX_START_ROW && rest.start.length < 2;
  if (role === "end") return row === ROWS && rest.end.length < 2;
  return true;
}

// A click: none -> start -> middle -> end -> none, skipping a role the rules do not allow here.
export function cycle(route, hold) {
  const cycleOrder = [null, "start", "middle", "end"];
  const rest = without(route, hold);
  const at = cycleOrder.indexOf(roleOf(route, hold));
  for (let k = 1; k <= cycleOrder.length; k++) {
    const role = cycleOrder[(at + k) % cycleOrder.length];
    if (allowed(rest, hold, role)) {
      if (role) rest[role].push(hold);
      return normalise(rest);
    }
  }
  return route;
}

export const formatRoute = (r) => ROLES.map((role) => r[role].join(" ")).join(" | ");

export function formatRowFirst(r) {
  const holds = ROLES.flatMap((role) => r[role]).map(parseHold);
  holds.sort((a, b) => b.row - a.row || a.col - b.col);
  return "[" + holds.map((h) => `${h.row}${COLUMNS[h.col]}`).join(", ") + "]";
}

// --- share links: #b=2016&g=7A&r=C5.E6|E8.F11|D18 ('+' of a grade travels as 'p') ---------------------------
export function encodeShare(board, route, grade) {
  const parts = [`b=${board}`];
  if (grade) parts.push(`g=${grade.replace(/\+/g, "p")}`);
  parts.push("r=" + ROLES.map((role) => route[role].join(".")).join("|"));
  return parts.join("&");
}

const HOLD_RE = /^[A-K]([1-9]|1[0-8])$/;

export function decodeShare(fragment) {
  const fields = new URLSearchParams(fragment.replace(/^#/, ""));
  const groups = (fields.get("r") || "").split("|");
  if (groups.length !== 3) return null;
  const route = emptyRoute();
  groups.forEach((g, i) => (route[ROLES[i]] = g.split(".").filter(Boolean).map((h) => h.toUpperCase())));
  if (!ROLES.every((role) => route[role].every((h) => HOLD_RE.test(h)))) return null;
  const g = fields.get("g");
  return { board: fields.get("b") || "2016", route: normalise(route), grade: g ? g.replace(/p/g, "+") : null };
}

// --- MoonBoard LED controller (Nordic UART): l#S4,P93,E169#, holds numbered along the serpentine strip ---------
export const LED_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
export const LED_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
const LETTER = { start: "S", middle: "P", end: "E" };

export function ledNumber(hold) {
  const { col, row } = parseHold(hold);
  return col * ROWS + (col % 2 === 0 ? row - 1 : ROWS - row);
}

export const encodeLed = (route) =>
  "l#" + ROLES.flatMap((role) => route[role].map((h) => LETTER[role] + ledNumber(h))).join(",") + "#";

export function ledChunks(message, size = 20) {
  const bytes = new TextEncoder().encode(message);
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}
