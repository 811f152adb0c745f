//! The suite's `cost:` section checks.

use std::collections::HashSet;

use super::check::Checker;
use super::schema::{ConfigKind, ConfigSection, CostSection, ProviderKind, ShotSelection, SuiteFile};
use crate::error::InputError;

impl Checker<'_> {
    /// `cache: true` needs a prefix to cache, and Converse (cache points are Bedrock's).
    pub(super) fn check_cache(&self, index: usize, config: &ConfigSection) -> Vec<InputError> {
        let field = format!("configs[{index}].cache");
        if !config.cache {
            return Vec::new();
        }
        if config.provider == ProviderKind::OpenAi {
            return vec![self.at(
                &field,
                "prompt caching places Converse cache points, which an OpenAI-compatible server does not take; \
                 remove `cache` or serve the config through Bedrock",
            )];
        }
        let fixed_demos = config.kind == ConfigKind::FewShot
            && config
                .shots
                .as_ref()
                .is_some_and(|s| s.select == ShotSelection::Fixed && s.k > 0);
        if config.system.is_none() && !fixed_demos {
            return vec![self.at(
                &field,
                "there is nothing to cache: give the config a `system` prompt, or fixed demonstrations \
                 (`shots.select: fixed`)",
            )];
        }
        Vec::new()
    }

    pub(super) fn check_cost(&self, cost: &CostSection, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        let volumes = cost.volumes();
        if volumes.is_empty() {
            errors.push(self.at("cost.monthly_requests", "give at least one monthly volume"));
        }
        if let Some(v) = volumes.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            errors.push(self.at(
                "cost.monthly_requests",
                format!("volumes must be positive numbers of requests per month, got {v}"),
            ));
        }
        if !(cost.hours_per_month > 0.0 && cost.hours_per_month <= 744.0) {
            errors.push(self.at(
                "cost.hours_per_month",
                format!("must be between 0 and 744 (31 days), got {}", cost.hours_per_month),
            ));
        }
        if !(cost.amortize_months.is_finite() && cost.amortize_months >= 1.0) {
            errors.push(self.at(
                "cost.amortize_months",
                format!("must be at least 1 month, got {}", cost.amortize_months),
            ));
        }
        if !(cost.peak_factor.is_finite() && cost.peak_factor >= 1.0) {
            errors.push(self.at(
                "cost.peak_factor",
                format!("must be at least 1, got {}", cost.peak_factor),
            ));
        }
        for (model, row) in &cost.prices {
            if let Some((field, value)) = row.prices().into_iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
                errors.push(self.at(
                    &format!("cost.prices.{model}.{field}"),
                    format!("must be ≥ 0, got {value}"),
                ));
            }
        }
        for (name, serving) in &cost.custom {
            let field = format!("cost.custom.{name}");
            match file.configs.iter().find(|c| &c.name == name) {
                None => errors.push(self.at(&field, format!("`{name}` is not a config of the suite"))),
                Some(c) if c.kind != ConfigKind::Custom => errors.push(self.at(
                    &field,
                    format!("`{name}` is a {} config, not a custom one", c.kind.as_str()),
                )),
                Some(_) => {}
            }
            if serving.model_units == Some(0) {
                errors.push(self.at(&format!("{field}.model_units"), "must be at least 1"));
            }
            if let Some(v) = serving.storage_per_month.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                errors.push(self.at(&format!("{field}.storage_per_month"), format!("must be ≥ 0, got {v}")));
            }
            for (key, value) in [
                ("tokens_per_minute_per_unit", serving.tokens_per_minute_per_unit),
                ("requests_per_minute_per_unit", serving.requests_per_minute_per_unit),
                ("per_cmu_minute", serving.per_cmu_minute),
            ] {
                if let Some(v) = value.filter(|v| !(v.is_finite() && *v > 0.0)) {
                    errors.push(self.at(&format!("{field}.{key}"), format!("must be > 0, got {v}")));
                }
            }
            for (key, value) in [
                ("custom_model_units", serving.custom_model_units),
                ("epochs", serving.epochs),
            ] {
                if value == Some(0) {
                    errors.push(self.at(&format!("{field}.{key}"), "must be at least 1"));
                }
            }
        }
        let mut unpriced_reported = HashSet::new();
        for (i, config) in file.configs.iter().enumerate() {
            if config.provider == ProviderKind::OpenAi {
                let explicit = cost.prices.get(&config.model).and_then(|p| p.on_demand().both());
                if explicit.is_none() && unpriced_reported.insert(config.model.as_str()) {
                    errors.push(self.at(
                        &format!("configs[{i}].model"),
                        format!(
                            "`{}` is served by an OpenAI-compatible server, so the Bedrock price catalogue does not \
                             apply; set both `cost.prices.{}.input_per_million` and `output_per_million` (0 for a \
                             self-hosted model with no per-token cost)",
                            config.model, config.model
                        ),
                    ));
                }
            }
            let provisioned = crate::cost::is_provisioned(config.kind, &config.model);
            let units = cost.custom.get(&config.name).and_then(|c| c.model_units);
            if provisioned && units.is_none() {
                errors.push(self.at(
                    &format!("configs[{i}].model"),
                    format!(
                        "custom config `{}` is served on Provisioned Throughput; set `cost.custom.{}.model_units` \
                         (and `commitment`, `base_model`) so it can be costed",
                        config.name, config.name
                    ),
                ));
            }
        }
        errors
    }
}
