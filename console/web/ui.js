// DOM helpers. Everything the API returns goes into the page as text nodes
// (never innerHTML), so a key alias or secret name cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const errorBox = () => document.getElementById("error");

export function showError(e) {
  const box = errorBox();
  box.replaceChildren();
  if (e && e.code) {
    box.append(h("strong", { class: "code" }, e.code), " ", h("span", { class: "msg" }, e.msg));
  } else {
    box.append(String((e && e.message) || e));
  }
  box.hidden = false;
}

export function clearError() {
  errorBox().hidden = true;
  errorBox().replaceChildren();
}

export function notice(text) {
  document.getElementById("notice").textContent = text;
}

// Runs an API action: clears the last error, shows the new one, and tells
// the caller whether it worked.
export async function run(action) {
  clearError();
  try {
    return { ok: true, value: await action() };
  } catch (e) {
    showError(e);
    return { ok: false };
  }
}

let seq = 0;
// One labelled control. `spec`: {name, label, type?, options?, value?, required?, ...}.
export function field(spec) {
  const id = `f${++seq}-${spec.name}`;
  let input;
  if (spec.options) {
    input = h("select", { id, name: spec.name, required: spec.required },
      spec.options.map((o) => {
        const [value, text] = Array.isArray(o) ? o : [o, o];
        return h("option", { value, selected: value === spec.value }, text);
      }));
  } else if (spec.type === "textarea") {
    input = h("textarea", { id, name: spec.name, required: spec.required, rows: 3, autocomplete: "off" }, spec.value || "");
  } else {
    input = h("input", {
      id, name: spec.name, type: spec.type || "text", value: spec.value, required: spec.required,
      min: spec.min, max: spec.max, placeholder: spec.placeholder, autocomplete: "off",
    });
  }
  return h("div", { class: "field" }, h("label", { for: id }, spec.label), input);
}

// A small form: fields + submit button; `onSubmit(values, form)` gets the
// named values as strings.
export function form(title, fields, submitText, onSubmit) {
  const f = h("form", { class: "card inline", "aria-label": title },
    h("h3", {}, title), fields.map(field), h("button", { type: "submit" }, submitText));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(new FormData(f).entries());
    await onSubmit(values, f);
  });
  return f;
}

export function button(text, onClick, attrs = {}) {
  return h("button", { type: "button", ...attrs, onclick: onClick }, text);
}

// A table with a caption; `columns`: [[header, row => cell]].
export function table(caption, columns, rows, rowAttrs = () => ({})) {
  return h("div", { class: "scroll" }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map(([name]) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, "None"))
      : rows.map((r) => h("tr", rowAttrs(r), columns.map(([, cell]) => h("td", {}, cell(r))))))));
}

// Previous/next over a marker-paged API. `load(marker)` returns
// {rows, next}; the pager keeps the markers of the pages seen so far.
export function markerPager(load, render) {
  const stack = [""];
  let next = null;
  const nav = h("nav", { class: "pager", "aria-label": "Pages" });
  async function show() {
    const res = await run(() => load(stack[stack.length - 1]));
    if (!res.ok) return;
    next = res.value.next || null;
    render(res.value.rows);
    nav.replaceChildren(
      button("Previous page", () => { stack.pop(); show(); }, { disabled: stack.length <= 1 }),
      h("span", { class: "page-no" }, `Page ${stack.length}`),
      button("Next page", () => { stack.push(next); show(); }, { disabled: !next }),
    );
  }
  return { nav, show, reset: () => { stack.length = 1; return show(); } };
}

// Previous/next over an offset-paged API with a total count.
export function offsetPager(limit, load, render) {
  let offset = 0;
  const nav = h("nav", { class: "pager", "aria-label": "Pages" });
  async function show() {
    const res = await run(() => load(offset, limit));
    if (!res.ok) return;
    const { rows, total } = res.value;
    render(rows);
    const pages = Math.max(1, Math.ceil(total / limit));
    nav.replaceChildren(
      button("Previous page", () => { offset = Math.max(0, offset - limit); show(); }, { disabled: offset === 0 }),
      h("span", { class: "page-no" }, `Page ${offset / limit + 1} of ${pages} (${total})`),
      button("Next page", () => { offset += limit; show(); }, { disabled: offset + limit >= total }),
    );
  }
  return { nav, show, reset: () => { offset = 0; return show(); } };
}

export function time(seconds) {
  if (seconds === undefined || seconds === null || seconds === "") return "";
  const n = Number(seconds);
  if (!Number.isFinite(n)) return String(seconds);
  if (n === 0) return ""; // CSMS sends 0 for "never" (e.g. no deletion scheduled)
  // KMS gives milliseconds as strings, CSMS milliseconds as numbers.
  const ms = n > 1e11 ? n : n * 1000;
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function detailsPanel(title, ...children) {
  return h("section", { class: "panel", "aria-label": title }, h("h3", {}, title), ...children);
}
