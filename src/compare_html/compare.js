// compare.html: per config, the verdict of the comparison, then every example that regressed or improved, with the
// base run's and the new run's replies side by side.

const CHANGE_LABELS = { regressed: "regressed", improved: "improved", unchanged: "unchanged", not_compared: "not compared" };

function main() {
  const started = performance.now();
  const data = pageData();
  const comparison = data.comparison;
  document.title = data.suite + " \u2014 bedrock-eval comparison";
  const regressed = comparison.configs.filter((c) => c.change === "regressed").map((c) => c.config);
  const examples = examplesSection(data);
  document.getElementById("app").replaceChildren(
    h(
      "header",
      { class: "top" },
      h("h1", {}, "Comparison: " + data.suite),
      h(
        "p",
        { class: "facts" },
        "base run ",
        h("code", {}, comparison.base_run),
        " \u2192 new run ",
        h("code", {}, comparison.new_run)
      ),
      h(
        "p",
        { class: "note" },
        "A config regressed when its mean quality fell by more than " + comparison.max_drop + " quality points with a " +
          "Holm-adjusted paired t-test p below " + comparison.alpha + "; improved symmetrically."
      )
    ),
    h(
      "section",
      { id: "verdict" },
      h("h2", {}, "Verdict"),
      h(
        "p",
        { class: "lead" },
        regressed.length === 0
          ? h("strong", {}, "Nothing regressed.")
          : [h("strong", {}, "Regressed: "), regressed.map((c, i) => [i ? ", " : "", h("span", { class: "config-name" }, c)]), "."]
      ),
      comparison.warnings.length
        ? h("div", { class: "warnings" }, h("h3", {}, "Warnings"), h("ul", {}, comparison.warnings.map((w) => h("li", {}, w))))
        : null,
      configsTable(comparison)
    ),
    examples.section
  );
  examples.apply();
  markTime("ready", performance.now());
  markTime("render", performance.now() - started);
  document.documentElement.setAttribute("data-ready", "true");
}

function configsTable(comparison) {
  const p = (c) => c.paired || null;
  const pair = (a, b, show) => (isNumber(a) && isNumber(b) ? show(a) + " \u2192 " + show(b) : NOT_AVAILABLE);
  const columns = [
    { label: "config", value: (c) => c.config, text: (c) => h("span", { class: "config-name" }, c.config) },
    { label: "verdict", value: (c) => c.change, text: (c) => h("span", { class: "verdict verdict-" + c.change.replace(/_/g, "-") }, CHANGE_LABELS[c.change] || c.change) },
    { label: "pairs", value: (c) => c.pairs, numeric: true },
    { label: "base", value: (c) => c.base_mean, text: (c) => fixed(c.base_mean, 1), numeric: true },
    { label: "new", value: (c) => c.new_mean, text: (c) => fixed(c.new_mean, 1), numeric: true },
    { label: "\u0394 points", value: (c) => p(c) && p(c).mean_difference, text: (c) => signed(p(c) && p(c).mean_difference, 1), numeric: true },
    { label: levelLabel(comparison.alpha) + " CI", value: (c) => p(c) && p(c).mean_difference, text: (c) => interval(p(c) && p(c).t_test.confidence_interval, 1, true) },
    { label: "p (Holm)", value: (c) => c.p_holm, text: (c) => pValue(c.p_holm), numeric: true },
    { label: "pass rate %", value: (c) => c.pass_rate_new, text: (c) => pair(c.pass_rate_base, c.pass_rate_new, (v) => (v * 100).toFixed(1)) },
    { label: "cost / 1,000 req", value: (c) => c.cost_new, text: (c) => pair(c.cost_base, c.cost_new, (v) => v.toFixed(4)) },
    { label: "why", value: (c) => c.reason, wide: true },
  ];
  return sortableTable(columns, comparison.configs, { id: "configs-table" });
}

function examplesSection(data) {
  const configs = data.comparison.configs.map((c) => c.config);
  const haystack = searchText((e) => {
    const text = data.texts[e.id] || {};
    return [e.id, text.input || "", text.reference || "", ...e.base.replies, ...e.new.replies];
  });
  const list = filteredList({
    items: data.examples,
    noun: "examples",
    readState: (params) => ({
      config: configs.includes(params.get("config")) ? params.get("config") : null,
      change: ["regressed", "improved"].includes(params.get("change")) ? params.get("change") : null,
      q: params.get("q") || "",
      diff: params.get("diff") === "1",
    }),
    stateParams: (state) => ({ config: state.config, change: state.change, q: state.q || null, diff: state.diff ? "1" : null }),
    controls: (state, change) => [
      selectControl("Config", "config", [["", "all configs"], ...configs.map((c) => [c, c])], state.config || "", (v) => change({ config: v || null })),
      selectControl(
        "Change",
        "change",
        [["", "regressed and improved"], ["regressed", "regressed"], ["improved", "improved"]],
        state.change || "",
        (v) => change({ change: v || null })
      ),
      checkboxControl("Word diffs", "diff", state.diff, (v) => change({ diff: v })),
      searchControl("Search", state.q, (v) => change({ q: v.trim() })),
    ],
    matches: (e, state) =>
      (state.config === null || e.config === state.config) &&
      (state.change === null || (state.change === "regressed" ? e.delta < 0 : e.delta > 0)) &&
      (!state.q || matchesQuery(state.q, haystack(e))),
    order: (found) => found,
    card: (e, state) => changeCard(e, data.texts[e.id] || { input: "", reference: null }, state),
  });
  return {
    section: h(
      "section",
      { id: "examples" },
      h("h2", {}, "Examples that changed"),
      h(
        "p",
        { class: "note" },
        "Per config, every example scored in both runs whose quality changed: those that regressed first (the largest " +
          "drop leading), then those that improved. \u0394 is new \u2212 base in quality points (means over repeats). " +
          "The word diff shows the new reply against the base run's. The filters are kept in the address."
      ),
      list.nodes
    ),
    apply: list.apply,
  };
}

/** Whether an example passed: "pass" or "fail", or the share of its repeats that passed. */
function passView(share) {
  if (share === 1 || share === 0) return h("span", { class: share ? "pass" : "fail" }, share ? "pass" : "fail");
  return h("span", {}, "passed " + (share * 100).toFixed(0) + "% of repeats");
}

function changeCard(e, text, state) {
  const side = (name, run, diffFrom) =>
    h(
      "div",
      { class: "reply-column", "data-run": name },
      h(
        "div",
        { class: "reply-head" },
        h("span", { class: "config-name" }, name + " run"),
        h("span", { class: "points", title: "quality points" }, fixed(run.points, 1)),
        name === "new" ? deltaBadge(e.delta, "\u0394") : null
      ),
      h("div", { class: "reply-meta" }, passView(run.pass)),
      run.replies.length === 0
        ? h("p", { class: "na" }, "no scored reply")
        : run.replies.map((reply, i) =>
            h(
              "div",
              { class: "reply", "data-repeat": i },
              run.replies.length > 1 ? h("div", { class: "reply-meta" }, "repeat " + (i + 1)) : null,
              diffFrom === null ? h("pre", { class: "text" }, reply) : textOrDiff(diffFrom[i] === undefined ? null : diffFrom[i], reply, state.diff, "word diff against the base run's reply")
            )
          )
    );
  return h(
    "article",
    { class: "example " + (e.delta < 0 ? "regressed" : "improved"), "data-example-id": e.id, "data-config": e.config },
    h(
      "header",
      {},
      h("h3", {}, e.id),
      h("div", { class: "deltas" }, h("span", { class: "config-name" }, e.config), deltaBadge(e.delta, e.delta < 0 ? "regressed" : "improved"))
    ),
    h(
      "div",
      { class: "io" },
      textBlock("Input", text.input, "input"),
      text.reference === null ? null : textBlock("Reference", text.reference, "reference")
    ),
    h("div", { class: "replies", "data-columns": 2 }, side("base", e.base, null), side("new", e.new, e.base.replies))
  );
}

main();
