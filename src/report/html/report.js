// report.html: the verdict, the charts, the tables, and every example with each config's reply side by side.
// Reads the page's data (report.json's value, the criteria, the charts, the examples) and builds the page from it.

/** Keys of report.json this page shows in its own sections; every other key is shown generically under "Details". */
const SHOWN_KEYS = new Set(["format", "suite", "simulated", "configs", "comparisons", "warnings", "recommendation"]);

function main() {
  const started = performance.now();
  const data = pageData();
  const report = data.report;
  const configs = report.configs.map((c) => c.config);
  const baseline = Math.max(0, configs.indexOf(report.suite.baseline));
  document.title = report.suite.name + " \u2014 bedrock-eval report";
  const app = document.getElementById("app");
  const examples = examplesSection(data, configs, baseline);
  app.replaceChildren(
    header(report),
    h(
      "nav",
      { class: "toc" },
      [["verdict", "Verdict"], ["charts", "Charts"], ["configs", "Configs"], ["comparisons", "Comparisons"],
        ["examples", "Examples"], ["details", "Details"]].map(([id, label]) => h("a", { href: "#" + id, "data-section": id }, label))
    ),
    verdictSection(report),
    chartsSection(data.charts),
    configsSection(report, data.criteria),
    comparisonsSection(report),
    examples.section,
    detailsSection(report)
  );
  // The table of contents scrolls without touching the fragment, which holds the examples' filters.
  app.querySelectorAll("nav.toc a").forEach((link) =>
    link.addEventListener("click", (event) => {
      event.preventDefault();
      document.getElementById(link.getAttribute("data-section")).scrollIntoView();
    })
  );
  examples.apply();
  markTime("ready", performance.now());
  markTime("render", performance.now() - started);
  document.documentElement.setAttribute("data-ready", "true");
}

function header(report) {
  const run = report.run || {};
  const facts = [
    run.run_id ? "run " + run.run_id : null,
    run.started_at ? "started " + run.started_at : null,
    report.suite.held_out_examples + " held-out examples",
    report.configs.length + " configs",
    report.suite.repeats > 1 ? report.suite.repeats + " repeats" : null,
    run.harness_version ? "bedrock-eval " + run.harness_version : null,
  ].filter(Boolean);
  return h(
    "header",
    { class: "top" },
    h("h1", {}, report.suite.name),
    report.suite.description ? h("p", { class: "description" }, report.suite.description) : null,
    h("p", { class: "facts" }, facts.join(" \u00b7 ")),
    report.simulated
      ? h(
          "p",
          { class: "banner" },
          h("strong", {}, "Simulated run. "),
          "Every reply came from bedrock-eval's embedded endpoint, whose models are deterministic simulations: the " +
            "numbers show the harness working, not how real models compare."
        )
      : null
  );
}

/** "1 loss", "2 losses". */
function count(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

function section(id, title, ...children) {
  return h("section", { id }, h("h2", {}, title), children);
}

function verdictClass(verdict) {
  return "verdict verdict-" + String(verdict).replace(/_/g, "-");
}

// The same words as report.md, comparisons.csv and report.json's `verdict`.
const VERDICT_LABELS = {
  better: "better",
  worse: "worse",
  significant_within_margin: "significant but within margin",
  no_detectable_difference: "no detectable difference",
  no_difference_observed: "no difference observed",
  not_enough_data: "not enough data",
};

function verdictSection(report) {
  const options = report.options || {};
  const baselineComparisons = report.comparisons.filter((c) => c.family === "baseline");
  const items = baselineComparisons.map((c) => {
    const p = c.paired;
    let detail;
    if (c.verdict === "not_enough_data") {
      detail = p.n + " matched examples; a verdict needs at least " + options.minimum_pairs;
    } else if (c.verdict === "no_difference_observed") detail = "every matched example scored the same";
    else {
      detail =
        signed(p.mean_difference, 1) + " quality points (" + levelLabel(options.alpha) + " CI " +
        interval(p.t_test.confidence_interval, 1, true) +
        "; adjusted p " + pValue(c.p_holm) + "; " + count(p.wins, "win", "wins") + ", " + count(p.ties, "tie", "ties") +
        ", " + count(p.losses, "loss", "losses") + ")";
      if (c.verdict === "no_detectable_difference" && isNumber(c.min_detectable_difference)) {
        detail += ". Only differences of about " + fixed(c.min_detectable_difference, 1) + " points or more are " +
          "detectable with this many examples";
        if (isNumber(c.examples_needed)) {
          detail += "; detecting " + signed(c.sized_for, 1) + " points would take about " + c.examples_needed + " examples";
        }
      }
    }
    return h(
      "li",
      { "data-candidate": c.candidate },
      h("strong", { class: "config-name" }, c.candidate),
      " ",
      h("span", { class: verdictClass(c.verdict) }, VERDICT_LABELS[c.verdict] || c.verdict),
      " ",
      detail,
      "."
    );
  });
  return section(
    "verdict",
    "Verdict",
    h(
      "p",
      {},
      "Against the baseline ",
      h("strong", { class: "config-name" }, report.suite.baseline),
      ", at \u03b1 = " + options.alpha + " with Holm-adjusted p-values and a practical margin of " + options.margin +
        " quality points:"
    ),
    h("ul", { class: "verdicts" }, items),
    report.recommendation === undefined
      ? null
      : h("div", { class: "recommendation" }, h("h3", {}, "Recommendation"), recommendationView(report.recommendation)),
    report.warnings && report.warnings.length
      ? h("div", { class: "warnings" }, h("h3", {}, "Read with care"), h("ul", {}, report.warnings.map((w) => h("li", {}, w))))
      : null
  );
}

/** A recommendation: its sentence when it has one, then everything else it says. */
function recommendationView(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return h("p", {}, valueView(value));
  const sentenceKey = ["text", "summary", "sentence", "message"].find((k) => typeof value[k] === "string");
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== sentenceKey));
  if (!sentenceKey) return valueView(rest);
  // The sentence says it all; the fields behind it stay one click away.
  return [h("p", { class: "lead" }, value[sentenceKey]), h("details", {}, h("summary", {}, "As data"), valueView(rest))];
}

function chartsSection(charts) {
  return section(
    "charts",
    "Charts",
    h(
      "div",
      { class: "charts" },
      charts.map((chart) => h("figure", {}, h("img", { src: chart.src, alt: "chart " + chart.file }), h("figcaption", {}, chart.file)))
    )
  );
}

function configsSection(report, criteria) {
  const level = levelLabel((report.options || {}).alpha);
  const cost = report.cost && Array.isArray(report.cost.configs) ? report.cost : null;
  const costOf = (row) => (cost ? cost.configs[report.configs.indexOf(row)] : null);
  const stats = (row) => row.statistics || {};
  const columns = [
    { label: "config", value: (r) => r.config, text: (r) => [h("span", { class: "config-name" }, r.config), r.baseline ? h("span", { class: "tag" }, "baseline") : null] },
    { label: "kind", value: (r) => r.kind },
    { label: "examples", value: (r) => stats(r).examples, numeric: true },
    { label: "quality (points)", value: (r) => stats(r).quality && stats(r).quality.mean, text: (r) => fixed(stats(r).quality && stats(r).quality.mean, 1), numeric: true },
    { label: level + " CI (t)", value: (r) => stats(r).quality && stats(r).quality.mean, text: (r) => interval(stats(r).quality && stats(r).quality.mean_ci, 1) },
    { label: level + " CI (BCa)", value: (r) => stats(r).quality && stats(r).quality.mean, text: (r) => interval(stats(r).quality_bootstrap && stats(r).quality_bootstrap.interval, 1) },
    { label: "SD", value: (r) => stats(r).quality && stats(r).quality.sd, text: (r) => fixed(stats(r).quality && stats(r).quality.sd, 1), numeric: true },
    { label: "pass rate %", value: (r) => stats(r).pass_rate, text: (r) => (isNumber(stats(r).pass_rate) ? (stats(r).pass_rate * 100).toFixed(1) : NOT_AVAILABLE), numeric: true },
    { label: "errors", value: (r) => r.requests.errors + r.requests.missing, numeric: true },
    { label: "tokens in / out", value: (r) => r.tokens.input + r.tokens.output, text: (r) => r.tokens.input + " / " + r.tokens.output, numeric: true },
    { label: "latency p50 / p95 ms", value: (r) => r.latency_ms.p50, text: (r) => fixed(r.latency_ms.p50, 0) + " / " + fixed(r.latency_ms.p95, 0), numeric: true },
  ];
  if (cost) {
    const money = (v) => (isNumber(v) ? v.toFixed(v < 1 ? 4 : 2) + " " + cost.currency : NOT_AVAILABLE);
    const perThousand = (r) => {
      const c = costOf(r);
      return c && c.at_volumes && c.at_volumes[0] ? c.at_volumes[0].per_thousand : null;
    };
    const perPoint = (r) => (costOf(r) ? costOf(r).per_quality_point : null);
    columns.push(
      { label: "cost / 1,000 requests", value: perThousand, text: (r) => money(perThousand(r)), numeric: true },
      { label: "cost / quality point", value: perPoint, text: (r) => money(perPoint(r)), numeric: true }
    );
  }
  for (const criterion of criteria) {
    columns.push({
      label: criterion.id,
      title: criterion.description + " (mean score 0\u20131; sort)",
      value: (r) => (r.criteria ? r.criteria[criterion.id] : null),
      text: (r) => fixed(r.criteria ? r.criteria[criterion.id] : null, 2),
      numeric: true,
    });
  }
  return section(
    "configs",
    "Configs",
    h("p", { class: "note" }, "Quality points are 100 \u00d7 the rubric's weighted score, averaged per example; the last columns are each criterion's mean score (0\u20131). Click a header to sort."),
    sortableTable(columns, report.configs, { id: "configs-table" })
  );
}

function comparisonsSection(report) {
  const level = levelLabel((report.options || {}).alpha);
  const columns = [
    { label: "comparison", value: (c) => c.candidate + " vs " + c.baseline, text: (c) => [h("span", { class: "config-name" }, c.candidate), " vs ", h("span", { class: "config-name" }, c.baseline)] },
    { label: "family", value: (c) => c.family },
    { label: "n", value: (c) => c.paired.n, numeric: true },
    { label: "mean \u0394", value: (c) => c.paired.mean_difference, text: (c) => signed(c.paired.mean_difference, 1), numeric: true },
    { label: level + " CI (t)", value: (c) => c.paired.mean_difference, text: (c) => interval(c.paired.t_test.confidence_interval, 1, true) },
    { label: level + " CI (bootstrap)", value: (c) => c.paired.mean_difference, text: (c) => interval(c.bootstrap && c.bootstrap.interval, 1, true) },
    { label: "p (t)", value: (c) => c.paired.t_test.p_value, text: (c) => pValue(c.paired.t_test.p_value), numeric: true },
    { label: "p (Holm)", value: (c) => c.p_holm, text: (c) => pValue(c.p_holm), numeric: true },
    { label: "p (Wilcoxon)", value: (c) => c.paired.wilcoxon.p_value, text: (c) => pValue(c.paired.wilcoxon.p_value), numeric: true },
    { label: "p (sign)", value: (c) => c.paired.sign_test.p_value, text: (c) => pValue(c.paired.sign_test.p_value), numeric: true },
    { label: "d_z", value: (c) => c.paired.effect_size_dz, text: (c) => fixed(c.paired.effect_size_dz, 2), numeric: true },
    { label: "wins / ties / losses", value: (c) => c.paired.wins - c.paired.losses, text: (c) => c.paired.wins + " / " + c.paired.ties + " / " + c.paired.losses },
    { label: "verdict", value: (c) => c.verdict, text: (c) => h("span", { class: verdictClass(c.verdict) }, VERDICT_LABELS[c.verdict] || c.verdict) },
    { label: "detectable \u0394", value: (c) => c.min_detectable_difference, text: (c) => fixed(c.min_detectable_difference, 1), numeric: true },
    { label: "n needed", value: (c) => c.examples_needed, numeric: true },
  ];
  return section(
    "comparisons",
    "Comparisons",
    h("p", { class: "note" }, "Each config against the baseline, then the other pairs, on the examples both scored (\u0394 = candidate \u2212 baseline, in quality points). Holm's adjustment runs within each family."),
    sortableTable(columns, report.comparisons, { id: "comparisons-table" })
  );
}

function detailsSection(report) {
  const rest = Object.keys(report).filter((key) => !SHOWN_KEYS.has(key));
  return section(
    "details",
    "Details",
    h("p", { class: "note" }, "Everything else report.json holds, as it holds it."),
    rest.map((key) => h("details", { "data-key": key }, h("summary", {}, key), h("div", { class: "detail-body" }, valueView(report[key]))))
  );
}

// ---- The examples ----

/** The filters, from the URL fragment: config in focus, failing criterion, lost to baseline, search, order. */
function filterState(params, configs, criteria) {
  const config = configs.indexOf(params.get("config"));
  const criterion = criteria.findIndex((c) => c.id === params.get("fail"));
  return {
    config: config >= 0 ? config : null,
    fail: criterion >= 0 ? criterion : null,
    lost: params.get("lost") === "1",
    errors: params.get("errors") === "1",
    q: params.get("q") || "",
    order: ["delta", "quality"].includes(params.get("order")) ? params.get("order") : "data",
    diff: params.get("diff") === "1",
  };
}

/** The filters as fragment parameters (null: the default, left out). */
function stateParams(state, configs, criteria) {
  return {
    config: state.config === null ? null : configs[state.config],
    fail: state.fail === null ? null : criteria[state.fail].id,
    lost: state.lost ? "1" : null,
    errors: state.errors ? "1" : null,
    q: state.q || null,
    order: state.order === "data" ? null : state.order,
    diff: state.diff ? "1" : null,
  };
}

/** A criterion fails on a reply when it scored below full marks, or could not be scored. */
function criterionFails(reply, index) {
  const score = reply.scores[index];
  return isNumber(score) ? score < 1 : Boolean(reply.unscored && reply.unscored[index] !== undefined);
}

function examplesSection(data, configs, baseline) {
  const criteria = data.criteria;
  const haystack = searchText((e) => [e.id, e.history || "", e.input, e.reference || "", ...e.replies.map((r) => r.text || r.error || "")]);
  const candidates = (state) => (state.config === null ? configs.map((_, i) => i).filter((i) => i !== baseline) : [state.config]);
  const shownConfigs = (state) => (state.config === null ? configs.map((_, i) => i) : [...new Set([baseline, state.config])]);
  const delta = (example, c) =>
    isNumber(example.points[c]) && isNumber(example.points[baseline]) ? example.points[c] - example.points[baseline] : null;

  function matches(example, state) {
    const focus = state.config === null ? shownConfigs(state) : [state.config];
    if (state.fail !== null && !example.replies.some((r) => focus.includes(r.config) && criterionFails(r, state.fail))) return false;
    if (state.lost && !candidates(state).some((c) => c !== baseline && delta(example, c) < 0)) return false;
    if (state.errors && !example.replies.some((r) => focus.includes(r.config) && r.text === null)) return false;
    return !state.q || matchesQuery(state.q, haystack(example));
  }

  function order(found, state) {
    if (state.order === "data") return found;
    const lowest = (values) => Math.min(...values.map((v) => (isNumber(v) ? v : Infinity)));
    const key =
      state.order === "delta"
        ? (e) => lowest(candidates(state).map((c) => delta(e, c)))
        : (e) => lowest((state.config === null ? configs.map((_, i) => i) : [state.config]).map((c) => e.points[c]));
    return found
      .map((e, i) => [key(e), i, e])
      .sort((a, b) => compareValues(a[0], b[0], true) || a[1] - b[1])
      .map((x) => x[2]);
  }

  function controls(state, change) {
    return [
      selectControl(
        "Config",
        "config",
        [["", "all configs"], ...configs.map((c, i) => [c, i === baseline ? c + " (baseline)" : c])],
        state.config === null ? "" : configs[state.config],
        (v) => change({ config: v ? configs.indexOf(v) : null })
      ),
      selectControl(
        "Criterion failing",
        "fail",
        [["", "any or none"], ...criteria.map((c) => [c.id, c.id])],
        state.fail === null ? "" : criteria[state.fail].id,
        (v) => change({ fail: v ? criteria.findIndex((c) => c.id === v) : null })
      ),
      checkboxControl("Lost to the baseline", "lost", state.lost, (v) => change({ lost: v }), state.config === baseline),
      checkboxControl("Failed calls", "errors", state.errors, (v) => change({ errors: v })),
      selectControl(
        "Order",
        "order",
        [["data", "as in the data"], ["delta", "largest loss first"], ["quality", "lowest quality first"]],
        state.order,
        (v) => change({ order: v })
      ),
      checkboxControl("Word diffs", "diff", state.diff, (v) => change({ diff: v })),
      searchControl("Search", state.q, (v) => change({ q: v.trim() })),
    ];
  }

  function card(example, state) {
    const shown = shownConfigs(state);
    return h(
      "article",
      { class: "example", "data-example-id": example.id },
      h(
        "header",
        {},
        h("h3", {}, example.id),
        h(
          "div",
          { class: "deltas", title: "difference from the baseline, in quality points" },
          shown.filter((c) => c !== baseline).map((c) => deltaBadge(delta(example, c), configs[c], { "data-config": configs[c] }))
        )
      ),
      h(
        "div",
        { class: "io" },
        example.history ? textBlock("Earlier turns", example.history, "history") : null,
        textBlock("Input", example.input, "input"),
        example.reference === null
          ? h("div", { class: "block reference" }, h("h4", {}, "Reference"), h("p", { class: "na" }, "no reference reply"))
          : textBlock("Reference", example.reference, "reference")
      ),
      h("div", { class: "replies", "data-columns": shown.length }, shown.map((c) => replyColumn(example, c, state)))
    );
  }

  function replyColumn(example, c, state) {
    const replies = example.replies.filter((r) => r.config === c);
    return h(
      "div",
      { class: "reply-column", "data-config": configs[c] },
      h(
        "div",
        { class: "reply-head" },
        h("span", { class: "config-name" }, configs[c]),
        c === baseline ? h("span", { class: "tag" }, "baseline") : null,
        h("span", { class: "points", title: "quality points" }, fixed(example.points[c], 1)),
        c === baseline ? null : deltaBadge(delta(example, c), "\u0394", { title: "\u0394 from the baseline" })
      ),
      replies.length === 0 ? h("p", { class: "na" }, "no record") : replies.map((r) => replyView(example, r, replies.length > 1, state))
    );
  }

  function replyView(example, reply, withRepeat, state) {
    const body =
      reply.text === null
        ? h("p", { class: "call-error" }, "call failed: " + (reply.error || "unknown error"))
        : textOrDiff(example.reference, reply.text, state.diff, "word diff against the reference");
    return h(
      "div",
      { class: "reply", "data-repeat": reply.repeat },
      withRepeat || reply.pass !== null
        ? h(
            "div",
            { class: "reply-meta" },
            withRepeat ? h("span", {}, "repeat " + (reply.repeat + 1)) : null,
            withRepeat ? h("span", { class: "points" }, fixed(reply.points, 1)) : null,
            reply.pass === null ? null : h("span", { class: reply.pass ? "pass" : "fail" }, reply.pass ? "pass" : "fail")
          )
        : null,
      body,
      reply.text === null ? null : criteriaList(reply)
    );
  }

  function criteriaList(reply) {
    return h(
      "ul",
      { class: "criteria" },
      criteria.map((criterion, k) => {
        const score = reply.scores[k];
        const unscored = reply.unscored && reply.unscored[k];
        const reason = reply.reasons && reply.reasons[k];
        return h(
          "li",
          { class: criterionFails(reply, k) ? "fails" : isNumber(score) ? "meets" : "na", "data-criterion": criterion.id, title: criterion.description },
          h("span", { class: "criterion" }, criterion.id),
          h("span", { class: "score" }, isNumber(score) ? score.toFixed(2) : unscored ? "not scored" : "n/a"),
          reason ? h("span", { class: "reason" }, reason) : null,
          unscored ? h("span", { class: "reason" }, unscored) : null
        );
      })
    );
  }

  const list = filteredList({
    items: data.examples,
    noun: "examples",
    readState: (params) => filterState(params, configs, criteria),
    stateParams: (state) => stateParams(state, configs, criteria),
    controls,
    matches,
    order,
    card,
  });
  return {
    section: section(
      "examples",
      "Examples",
      h(
        "p",
        { class: "note" },
        (data.examples_shown ? "The most telling held-out examples" : "Every held-out example") +
          " with each config's reply side by side, the criteria's scores and the judge's reasons, " +
          "and the difference from the baseline in quality points. A criterion fails when it scored below full marks or " +
          "could not be scored. The filters are kept in the address, so a view can be shared."
      ),
      data.examples_shown
        ? h(
            "p",
            { class: "note", id: "examples-shown" },
            "This run has " + data.examples_shown.total.toLocaleString("en-US") + " held-out examples; the page holds the " +
              data.examples_shown.shown.toLocaleString("en-US") + " that tell the most: first any with a failed call, then those " +
              "whose quality differs most from the baseline's, either way. Every example is in examples.csv and scores.jsonl."
          )
        : null,
      list.nodes
    ),
    apply: list.apply,
  };
}

main();
