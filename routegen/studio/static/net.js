// fetch wrapper: JSON in and out; an error response's one-line `detail` is shown to the user and thrown.
export async function api(method, url, body, type = "application/json") {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = type;
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({ detail: `${res.status} ${res.statusText}` }));
  if (!res.ok) {
    toast(data.detail || `error ${res.status}`, true);
    throw new Error(data.detail);
  }
  return data;
}

let timer;
export function toast(text, error = false) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.className = error ? "show error" : "show";
  clearTimeout(timer);
  timer = setTimeout(() => (box.className = ""), 3500);
}
