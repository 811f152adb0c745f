//! The recommendation: the cheapest config, at the suite's volume, that is not significantly worse than the best by
//! more than the margin; its runner-up; and the volume that would change the choice. The statistical verdicts come
//! from the analysis (the caller says which configs are eligible); nothing here recomputes a statistic.

use serde::Serialize;

use super::configs::ConfigCost;
use super::model::first_cheaper_range;
use super::model::CostCurve;
use super::{round_volume, CostParams};

/// A config's standing against the best one, from the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// Config name.
    pub config: String,
    /// Mean quality points.
    pub quality: Option<f64>,
    /// Not significantly worse than the best by more than the margin (the best itself included).
    pub eligible: bool,
}

/// The choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The volume it is made at (the suite's first).
    pub monthly_requests: f64,
    /// The config of highest mean quality.
    pub best: String,
    /// The pick: cheapest eligible priced config.
    pub pick: String,
    /// For a custom pick, the serving option that makes it cheapest.
    pub pick_serving: Option<String>,
    /// Its monthly cost.
    pub monthly_cost: f64,
    /// The next-cheapest eligible priced config and its monthly cost.
    pub runner_up: Option<(String, f64)>,
    /// Configs left out as significantly worse than the best by more than the margin.
    pub significantly_worse: Vec<String>,
    /// Eligible configs left out for want of a price.
    pub unpriced: Vec<String>,
    /// What would change the choice, in words.
    pub would_change: Option<String>,
}

/// Applies the rule; `None` when no eligible config is priced.
pub fn recommend(costs: &[ConfigCost], standings: &[Standing], params: &CostParams) -> Option<Recommendation> {
    let volume = params.main_volume();
    let best = standings
        .iter()
        .filter_map(|s| Some((s, s.quality?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    let eligible = |name: &str| standings.iter().any(|s| s.config == name && s.eligible);
    // A custom config counts at its cheapest serving option.
    let mut priced: Vec<(&ConfigCost, Option<&str>, f64, &CostCurve)> = costs
        .iter()
        .filter(|c| eligible(&c.config))
        .filter_map(|c| {
            let (option, monthly, curve) = c.cheapest_at_main()?;
            Some((c, option, monthly, curve))
        })
        .collect();
    priced.sort_by(|a, b| a.2.total_cmp(&b.2));
    let &(pick, pick_serving, monthly_cost, pick_curve) = priced.first()?;
    let would_change = {
        priced[1..]
            .iter()
            .filter_map(|(other, _, _, curve)| {
                let range = first_cheaper_range(curve, pick_curve, volume)?;
                Some((other, range))
            })
            .min_by(|a, b| a.1.from.total_cmp(&b.1.from))
            .map(|(other, range)| {
                let units = range.units.map_or(String::new(), |u| {
                    format!(" (on {u} unit{})", if u == 1 { "" } else { "s" })
                });
                format!(
                    "{} becomes cheaper than {} above {} requests/month{units}",
                    other.config,
                    pick.config,
                    round_volume(range.from)
                )
            })
    };
    let would_change = would_change.or_else(|| {
        (priced.len() == 1).then(|| {
            "nothing at any volume among the configs within the margin; a larger `analysis.margin` would admit others"
                .to_string()
        })
    });
    Some(Recommendation {
        monthly_requests: volume,
        best: best.config.clone(),
        pick: pick.config.clone(),
        pick_serving: pick_serving.map(str::to_string),
        monthly_cost,
        runner_up: priced.get(1).map(|(c, _, m, _)| (c.config.clone(), *m)),
        significantly_worse: standings
            .iter()
            .filter(|s| !s.eligible)
            .map(|s| s.config.clone())
            .collect(),
        unpriced: costs
            .iter()
            .filter(|c| eligible(&c.config) && c.main().is_none())
            .map(|c| c.config.clone())
            .collect(),
        would_change,
    })
}
