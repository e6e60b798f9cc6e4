// The library panel: save the route being edited, list / filter saved routes, open, share, delete, export, import.
import { api, toast } from "./net.js";
import { h } from "./views.js";

export function initLibrary(app) {
  const $ = (id) => document.getElementById(id);
  const list = $("library-list");

  async function refresh() {
    const q = new URLSearchParams();
    if ($("lib-board").value) q.set("board", $("lib-board").value);
    if ($("lib-grade").value) q.set("grade", $("lib-grade").value);
    const data = await api("GET", "/api/library?" + q);
    list.replaceChildren(...data.routes.map(item));
    if (!data.routes.length) list.appendChild(h("li", { class: "muted", text: "nothing saved yet" }));
  }

  function item(row) {
    const share = location.origin + location.pathname + "#" + row.share;
    return h("li", { "data-testid": "library-item" },
      h("div", { class: "lib-name", text: row.name }),
      h("div", { class: "muted", text: `${row.board} · ${row.grade_font || "?"} (critic ${row.critic_grade || "-"}) · ` +
        `${row.updated.slice(0, 16).replace("T", " ")}` }),
      row.notes ? h("div", { class: "lib-notes", text: row.notes }) : null,
      h("div", { class: "row" },
        h("button", { type: "button", text: "open", on: { click: () => app.open(row) } }),
        h("button", { type: "button", text: "copy link", on: { click: () => app.copy(share, "share link") } }),
        h("button", { type: "button", text: "delete", on: { click: () => remove(row) } })));
  }

  async function remove(row) {
    if (!confirm(`Delete "${row.name}"?`)) return;
    await api("DELETE", `/api/library/${row.id}`);
    refresh();
  }

  $("save").addEventListener("click", async () => {
    const s = app.state;
    const body = { name: $("route-name").value || "untitled", board: s.board, grade_font: $("setter-grade").value || null,
      critic_grade: app.lastCritic?.grade || null, notes: $("route-notes").value, ...s.route };
    const row = await api("POST", "/api/library", body);
    toast(`saved "${row.name}"`);
    refresh();
  });
  for (const id of ["lib-board", "lib-grade"]) $(id).addEventListener("change", refresh);
  $("import-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const res = await api("POST", "/api/library/import", await file.text(), "application/x-ndjson");
    toast(`imported ${res.imported} routes`);
    e.target.value = "";
    refresh();
  });
  return { refresh };
}
