// Helpers shared by report.html and compare.html. Every text from the data goes on the page through text nodes
// (`h` and `textContent`), never as markup.
"use strict";

/** The page's data: the JSON value in <script type="application/json" id="data">. */
function pageData() {
  return JSON.parse(document.getElementById("data").textContent);
}

/**
 * An element: h("td", {class: "num", title: "…"}, child, …). Children are nodes, text (strings and numbers become
 * text nodes, never markup), arrays of children, or null (skipped). Attribute names starting with "on" are refused:
 * the page attaches its handlers with addEventListener.
 */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error("event attribute " + name + " refused");
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.appendChild(child);
    else element.appendChild(document.createTextNode(String(child)));
  }
}

/** What a statistic that cannot be computed shows as. */
const NOT_AVAILABLE = "n/a";

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** A number with fixed decimals, or "n/a". */
function fixed(value, decimals) {
  return isNumber(value) ? value.toFixed(decimals) : NOT_AVAILABLE;
}

/** A signed number with fixed decimals ("+1.5", "−0.3"), or "n/a". */
function signed(value, decimals) {
  if (!isNumber(value)) return NOT_AVAILABLE;
  const text = Math.abs(value).toFixed(decimals);
  if (Number(text) === 0) return text;
  return (value > 0 ? "+" : "\u2212") + text;
}

/** An interval {lower, upper} as "a to b". */
/** The confidence level of intervals at significance level `alpha`, as a label: "90%" at α = 0.1, "99.5%" at 0.005. */
function levelLabel(alpha) {
  if (!isNumber(alpha)) return "";
  return String(Number(((1 - alpha) * 100).toFixed(4))) + "%";
}

function interval(value, decimals, withSign) {
  if (!value || !isNumber(value.lower) || !isNumber(value.upper)) return NOT_AVAILABLE;
  const show = withSign ? (v) => signed(v, decimals) : (v) => fixed(v, decimals);
  return show(value.lower) + " to " + show(value.upper);
}

/** A p-value as reviewers read it: "< 0.001" below that, three decimals otherwise. */
function pValue(value) {
  if (!isNumber(value)) return NOT_AVAILABLE;
  return value < 0.001 ? "< 0.001" : value.toFixed(3);
}

/** A number as a general value: integers as they are, others to at most four decimals. */
function plainNumber(value) {
  if (!isNumber(value)) return NOT_AVAILABLE;
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return String(Number(value.toFixed(4)));
}

/**
 * A sortable table: `columns` are {label, value(row) → number | string | null, text?(row) → node or string,
 * numeric?, wide? (a sentence, wrapped), title?}; clicking a header sorts by its column (again: the other way); missing values sort last. A table
 * with an id keeps its order in the URL's fragment (`#configs-table=quality+(points),desc`), so it can be shared.
 */
function sortableTable(columns, rows, attributes) {
  const id = attributes && attributes.id;
  const body = h("tbody");
  const headers = columns.map((column, index) => {
    const button = h("button", { type: "button", title: column.title || "sort by " + column.label }, column.label);
    button.addEventListener("click", () => {
      const ascending = order.index === index ? !order.ascending : true;
      sortBy(index, ascending);
      if (id) updateFragment({ [id]: column.label + (ascending ? "" : ",desc") });
    });
    return h("th", { scope: "col", class: column.numeric ? "num" : null }, button);
  });
  let order = { index: -1, ascending: true };
  function draw(ordered) {
    body.replaceChildren(
      ...ordered.map((row) =>
        h(
          "tr",
          {},
          columns.map((column) => {
            const content = column.text ? column.text(row) : column.value(row);
            return h("td", { class: column.numeric ? "num" : column.wide ? "wide" : null }, content === null ? NOT_AVAILABLE : content);
          })
        )
      )
    );
  }
  function sortBy(index, ascending) {
    order = { index, ascending };
    const value = columns[index].value;
    const ordered = rows.slice().sort((a, b) => compareValues(value(a), value(b), ascending));
    headers.forEach((th, i) => {
      if (i === index) th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    draw(ordered);
  }
  const wanted = id ? readFragment().get(id) : null;
  const [label, direction] = wanted ? wanted.split(/,(?=(?:asc|desc)$)/) : [null, null];
  const initial = columns.findIndex((column) => column.label === label);
  if (initial >= 0) sortBy(initial, direction !== "desc");
  else draw(rows);
  return h("div", { class: "table-wrap" }, h("table", attributes || {}, h("thead", {}, h("tr", {}, headers)), body));
}

function compareValues(a, b, ascending) {
  const missing = (v) => v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));
  if (missing(a) || missing(b)) return missing(a) - missing(b);
  const order = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
  return ascending ? order : -order;
}

/** Longest texts compared word by word (the product of both word counts); longer ones are shown undiffed. */
const DIFF_LIMIT = 4000000;

/**
 * Word-level diff of `from` → `to`: [op, text] pieces, op "=" (in both), "-" (only in `from`), "+" (only in
 * `to`); words keep the whitespace that follows them. `null` when the texts are too long to compare.
 */
function wordDiff(from, to) {
  const a = words(from);
  const b = words(to);
  let start = 0;
  while (start < a.length && start < b.length && a[start].word === b[start].word) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1].word === b[endB - 1].word) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  if (n * m > DIFF_LIMIT) return null;
  // lcs[i][j]: the longest common subsequence of a[start + i..endA] and b[start + j..endB].
  const width = m + 1;
  const lcs = Math.min(n, m) < 65535 ? new Uint16Array((n + 1) * width) : new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[start + i].word === b[start + j].word
          ? lcs[(i + 1) * width + j + 1] + 1
          : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const pieces = [];
  const push = (op, text) => {
    const last = pieces[pieces.length - 1];
    if (last && last[0] === op) last[1] += text;
    else pieces.push([op, text]);
  };
  a.slice(0, start).forEach((w) => push("=", w.text));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i].word === b[start + j].word) {
      push("=", a[start + i].text);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])) {
      push("-", a[start + i].text);
      i++;
    } else {
      push("+", b[start + j].text);
      j++;
    }
  }
  a.slice(endA).forEach((w) => push("=", w.text));
  return pieces;
}

function words(text) {
  const found = [];
  const leading = /^\s+/.exec(text);
  if (leading) found.push({ word: "", text: leading[0] });
  for (const match of text.matchAll(/\S+\s*/g)) found.push({ word: match[0].trimEnd(), text: match[0] });
  return found;
}

/** A diff as a <pre>: removed words in <del>, added words in <ins>. */
function diffView(from, to) {
  const pieces = wordDiff(from, to);
  if (pieces === null) return h("p", { class: "note" }, "Too long to compare word by word.");
  const added = pieces.filter((p) => p[0] === "+").length;
  const removed = pieces.filter((p) => p[0] === "-").length;
  return h(
    "pre",
    { class: "text diff", "data-added": added, "data-removed": removed },
    pieces.map(([op, text]) => (op === "=" ? text : h(op === "+" ? "ins" : "del", {}, text)))
  );
}

/** The view named in the URL's fragment (`#config=few-shot&lost=1&q=router`). */
function readFragment() {
  return new URLSearchParams(location.hash.slice(1));
}

/** Changes some of the fragment's parameters (null or "" removes one) and keeps the others, so the view can be
 * shared and survives a reload. */
function updateFragment(changes) {
  const params = readFragment();
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "") params.delete(name);
    else params.set(name, value);
  }
  const text = params.toString();
  try {
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  } catch (error) {
    // Some browsers refuse replaceState on file:// pages; the fragment then changes the ordinary way.
    location.hash = text;
  }
}

/** Any JSON value, shown generically: objects as name/value lists, arrays of objects as tables. */
function valueView(value) {
  if (value === null || value === undefined) return h("span", { class: "na" }, NOT_AVAILABLE);
  if (typeof value === "number") return plainNumber(value);
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "na" }, "none");
    if (value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return sortableTable(
        keys.map((key) => ({
          label: key,
          value: (row) => (typeof row[key] === "object" ? null : row[key]),
          text: (row) => valueView(row[key]),
          numeric: value.some((row) => typeof row[key] === "number"),
        })),
        value,
        { class: "generic" }
      );
    }
    if (value.every((v) => v === null || typeof v !== "object")) {
      return value.map((v) => (typeof v === "number" ? plainNumber(v) : String(v))).join(", ");
    }
    return h("ol", {}, value.map((v) => h("li", {}, valueView(v))));
  }
  return h(
    "dl",
    { class: "generic" },
    Object.entries(value).map(([key, v]) => [h("dt", {}, key), h("dd", {}, valueView(v))])
  );
}

/** Pager buttons: "‹ previous", "page 2 of 9", "next ›". */
function pager(page, pages, onPage) {
  const button = (label, target, name) => {
    const b = h("button", { type: "button", class: "page-" + name, disabled: target < 1 || target > pages }, label);
    b.addEventListener("click", () => onPage(target));
    return b;
  };
  return h(
    "div",
    { class: "pager" },
    button("\u2039 previous", page - 1, "previous"),
    h("span", { class: "page-of" }, "page " + page + " of " + pages),
    button("next \u203a", page + 1, "next")
  );
}

/** A labelled <select> over [value, label] options. */
function selectControl(label, name, options, selected, onChange) {
  const select = h(
    "select",
    { name, id: "filter-" + name },
    options.map(([value, text]) => h("option", { value, selected: value === selected }, text))
  );
  select.addEventListener("change", () => onChange(select.value));
  return h("label", { class: "control" }, h("span", {}, label), select);
}

/** A labelled checkbox. */
function checkboxControl(label, name, checked, onChange, disabled) {
  const box = h("input", { type: "checkbox", name, id: "filter-" + name, checked, disabled });
  box.addEventListener("change", () => onChange(box.checked));
  return h("label", { class: "control check" }, box, h("span", {}, label));
}

/** A labelled search box; changes are applied as the user pauses typing. */
function searchControl(label, value, onChange) {
  const input = h("input", { type: "search", name: "q", id: "filter-q", value, placeholder: "words in the input, reference or replies" });
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(input.value), 150);
  });
  return h("label", { class: "control search" }, h("span", {}, label), input);
}

/** Marks the page's timing on <html>: `data-<name>-ms`, so a test or a curious reader can see it. */
function markTime(name, milliseconds) {
  document.documentElement.setAttribute("data-" + name + "-ms", milliseconds.toFixed(1));
}

/** Items shown per page of a filtered list. */
const PAGE_SIZE = 20;

/**
 * A filtered, paged list (of examples) whose filters live in the URL's fragment. `spec`:
 * - items: everything that can be shown; noun: what they are ("examples");
 * - readState(params) → the filters, from the fragment's parameters; stateParams(state) → {name: value or null};
 * - controls(state, change) → the filter controls, `change(patch)` applying a change to the filters;
 * - matches(item, state) → whether it passes the filters; order(found, state) → the matching items in order;
 * - card(item, state) → the item's element.
 * Returns {nodes, apply}: the list's elements (controls, count, pagers, cards) and a function drawing them.
 */
function filteredList(spec) {
  const controls = h("div", { class: "filters", id: "filters" });
  const count = h("p", { class: "count", id: "example-count" });
  const list = h("div", { class: "example-list", id: "example-list" });
  const pagerTop = h("div");
  const pagerBottom = h("div");
  const pageOf = (params) => Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  let state = spec.readState(readFragment());
  let page = pageOf(readFragment());

  function save() {
    updateFragment(Object.assign(spec.stateParams(state), { page: page > 1 ? String(page) : null }));
  }
  function change(patch) {
    state = Object.assign({}, state, patch);
    page = 1;
    save();
    drawControls();
    apply();
  }
  function drawControls() {
    controls.replaceChildren(...spec.controls(state, change));
  }
  function goTo(target) {
    page = target;
    save();
    apply();
    list.scrollIntoView();
  }
  function apply() {
    const started = performance.now();
    const found = spec.order(spec.items.filter((item) => spec.matches(item, state)), state);
    const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
    page = Math.min(page, pages);
    const first = (page - 1) * PAGE_SIZE;
    const visible = found.slice(first, first + PAGE_SIZE);
    count.replaceChildren(
      found.length === 0
        ? "No " + spec.noun.replace(/s$/, "") + " matches these filters"
        : "Showing " + (first + 1) + "\u2013" + (first + visible.length) + " of " + found.length + " matching " + spec.noun,
      " (" + spec.items.length + " in all)."
    );
    count.setAttribute("data-matching", found.length);
    count.setAttribute("data-total", spec.items.length);
    pagerTop.replaceChildren(pager(page, pages, goTo));
    pagerBottom.replaceChildren(pager(page, pages, goTo));
    list.replaceChildren(...visible.map((item) => spec.card(item, state)));
    markTime("filter", performance.now() - started);
  }
  window.addEventListener("hashchange", () => {
    state = spec.readState(readFragment());
    page = pageOf(readFragment());
    drawControls();
    apply();
  });
  drawControls();
  return { nodes: [controls, count, pagerTop, list, pagerBottom], apply };
}

/** A difference in quality points as a coloured badge: lost, won or tied. */
function deltaBadge(value, label, attributes) {
  const kind = isNumber(value) ? (value < 0 ? "lost" : value > 0 ? "won" : "tied") : "na";
  return h("span", Object.assign({ class: "delta " + kind }, attributes || {}), (label ? label + " " : "") + signed(value, 1));
}

/** A titled block of text from the data (an input, a reference, a reply). */
function textBlock(title, text, cls) {
  return h("div", { class: "block " + cls }, h("h4", {}, title), h("pre", { class: "text" }, text));
}

/**
 * A text, or its word diff against `from` (when `diff` is set and there is a `from`); without `diff`, the diff can be
 * opened under the text (and is computed then).
 */
function textOrDiff(from, text, diff, label) {
  if (from === null || from === undefined) return h("pre", { class: "text" }, text);
  if (diff) return diffView(from, text);
  const toggle = h("details", { class: "diff-toggle" }, h("summary", {}, label));
  toggle.addEventListener("toggle", () => {
    if (toggle.open && toggle.childElementCount === 1) toggle.appendChild(diffView(from, text));
  });
  return [h("pre", { class: "text" }, text), toggle];
}

/** Lower-case text of everything the search looks at, per item, made when first needed. */
function searchText(parts) {
  const cache = new Map();
  return (item) => {
    if (!cache.has(item)) cache.set(item, parts(item).join("\n").toLowerCase());
    return cache.get(item);
  };
}

/** Whether every word of the query is in the text. */
function matchesQuery(query, text) {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => text.includes(word));
}
