//! The recommendation `report.md` leads with (and `report.json`'s `summary` of it): the pick, its monthly cost, the
//! runner-up and what would change the choice, read from the cost model's `Recommendation`.

use super::super::table::{markdown_cell, markdown_message};
use super::super::ReportData;
use super::cost::{money, volume_words};
use crate::cost::Serving;

/// How the recommendation is written: as Markdown for `report.md`, or as plain text (for `report.json` and
/// `report.html`, which show it as text).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prose {
    /// Names escaped, the pick in bold, keys as code.
    Markdown,
    /// As it reads.
    Plain,
}

impl Prose {
    fn name(self, text: &str) -> String {
        match self {
            Prose::Markdown => markdown_cell(text),
            Prose::Plain => text.to_string(),
        }
    }

    fn message(self, text: &str) -> String {
        match self {
            Prose::Markdown => markdown_message(text),
            Prose::Plain => text.replace('`', ""),
        }
    }

    fn strong(self, text: &str) -> String {
        match self {
            Prose::Markdown => format!("**{text}**"),
            Prose::Plain => text.to_string(),
        }
    }
}

/// The report's first lines: the pick, its monthly cost, the runner-up, and what would change the choice.
pub(super) fn recommendation_lines(data: &ReportData) -> String {
    format!("{}\n\n", recommendation_text(data, Prose::Markdown))
}

/// The recommendation in one paragraph, as `prose`.
pub(crate) fn recommendation_text(data: &ReportData, prose: Prose) -> String {
    let cost = &data.cost;
    // Plain text stands under a "Recommendation" heading of its own.
    let lead = match prose {
        Prose::Markdown => "**Recommendation:** ",
        Prose::Plain => "",
    };
    let Some(r) = &cost.recommendation else {
        // No eligible config is priced, so the eligible ones are among the unpriced: name those.
        let unpriced: Vec<&str> = cost
            .configs
            .iter()
            .filter(|c| matches!(c.serving, Serving::Unpriced { .. }))
            .map(|c| c.config.as_str())
            .collect();
        if unpriced.is_empty() {
            return format!("{lead}None: no config has both a quality score and a price.");
        }
        return format!(
            "{lead}None: every config not significantly worse than the best is unpriced (among {}); {} names the \
             suite keys that would price them.",
            prose.name(&unpriced.join(", ")),
            if prose == Prose::Markdown { "*Cost*" } else { "Cost" }
        );
    };
    let currency = cost.currency.as_str();
    let served = r
        .pick_serving
        .as_ref()
        .map_or(String::new(), |s| format!(" served as {}", prose.name(s)));
    let mut out = format!(
        "{lead}{}{served} — the cheapest config not significantly worse than the best ({}) by more than the margin \
         of {} points, at {}: {} a month.",
        prose.strong(&prose.name(&r.pick)),
        prose.name(&r.best),
        data.analysis.options.margin,
        prose.message(&volume_words(cost)),
        money(currency, r.monthly_cost)
    );
    match &r.runner_up {
        Some((name, monthly)) => out.push_str(&format!(
            " Runner-up: {} at {} a month.",
            prose.name(name),
            money(currency, *monthly)
        )),
        None => out.push_str(" No runner-up: every other config is significantly worse or unpriced."),
    }
    if let Some(change) = &r.would_change {
        out.push_str(&format!(" What would change it: {}.", prose.message(change)));
    }
    if !r.unpriced.is_empty() {
        out.push_str(&format!(
            " Left out for want of a price: {}.",
            prose.name(&r.unpriced.join(", "))
        ));
    }
    out.push_str(&format!(" (Rule: {}.)", prose.message("`docs/cost-model.md`")));
    out
}
