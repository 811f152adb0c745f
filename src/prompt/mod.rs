//! Building each configuration's request for an example: system prompt, template, few-shot demonstrations.
//!
//! Pure functions over loaded data; nothing here touches the network.

mod similarity;
mod template;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Example, Role, Turn};
use crate::provider::ModelRequest;
use crate::suite::schema::{ConfigKind, ConfigSection, ShotSelection};

pub use similarity::Bm25Index;
pub use template::{render, template_fields, TemplateError};

/// Builds requests for one configuration; holds what is computed once per config (the BM25 index of the pool).
pub struct RequestBuilder<'a> {
    config: &'a ConfigSection,
    pool: &'a [Example],
    index: Option<Bm25Index>,
}

impl<'a> RequestBuilder<'a> {
    /// Prepares a builder; `pool` is the training pool (empty when the suite has none).
    pub fn new(config: &'a ConfigSection, pool: &'a [Example]) -> Self {
        let needs_index = matches!(&config.shots, Some(s) if s.select == ShotSelection::Similar)
            && config.kind == ConfigKind::FewShot;
        let index = needs_index.then(|| Bm25Index::new(pool.iter().map(|e| e.input.as_str())));
        RequestBuilder { config, pool, index }
    }

    /// The request this config sends for `example`.
    pub fn build(&self, example: &Example) -> Result<ModelRequest, TemplateError> {
        let mut messages = Vec::new();
        if self.config.kind == ConfigKind::FewShot {
            for demo in self.demonstrations(example) {
                messages.push(Turn {
                    role: Role::User,
                    text: self.user_text(demo)?,
                });
                messages.push(Turn {
                    role: Role::Assistant,
                    text: demo.reference.clone().unwrap_or_default(),
                });
            }
        }
        // The shared prefix: the system prompt and, with fixed demonstrations, the demonstrations too (per-example
        // demonstrations are no shared prefix, so only the system prompt is cached with `similar` or `random`).
        let fixed = self
            .config
            .shots
            .as_ref()
            .is_some_and(|s| s.select == ShotSelection::Fixed);
        let cache_after_messages = self.config.cache.then_some(if fixed { messages.len() } else { 0 });
        messages.extend(example.history.iter().cloned());
        messages.push(Turn {
            role: Role::User,
            text: self.user_text(example)?,
        });
        Ok(ModelRequest {
            model: self.config.model.clone(),
            system: self.config.system.clone().or_else(|| example.system.clone()),
            messages,
            inference: self.config.inference.clone(),
            cache_after_messages,
        })
    }

    fn user_text(&self, example: &Example) -> Result<String, TemplateError> {
        match &self.config.template {
            Some(template) => render(template, example),
            None => Ok(example.input.clone()),
        }
    }

    /// The demonstrations for `example`: never the example itself, never a pool entry with the same input, never
    /// one without a reference reply.
    pub fn demonstrations(&self, example: &Example) -> Vec<&'a Example> {
        let Some(shots) = &self.config.shots else {
            return Vec::new();
        };
        let normalised_input = normalise(&example.input);
        let eligible = |candidate: &Example| {
            candidate.reference.is_some()
                && candidate.id != example.id
                && normalise(&candidate.input) != normalised_input
        };
        match shots.select {
            ShotSelection::Fixed => self.pool.iter().filter(|c| eligible(c)).take(shots.k).collect(),
            ShotSelection::Random => {
                let mut eligible: Vec<&Example> = self.pool.iter().filter(|c| eligible(c)).collect();
                let mut rng = ChaCha8Rng::seed_from_u64(shots.seed ^ stable_hash(&example.id));
                eligible.shuffle(&mut rng);
                eligible.truncate(shots.k);
                eligible
            }
            ShotSelection::Similar => {
                let Some(index) = &self.index else {
                    return Vec::new();
                };
                index
                    .ranked(&example.input)
                    .into_iter()
                    .map(|i| &self.pool[i])
                    .filter(|c| eligible(c))
                    .take(shots.k)
                    .collect()
            }
        }
    }

    /// How many pool entries could serve as demonstrations for `example`.
    pub fn eligible_count(&self, example: &Example) -> usize {
        let normalised_input = normalise(&example.input);
        self.pool
            .iter()
            .filter(|c| c.reference.is_some() && c.id != example.id && normalise(&c.input) != normalised_input)
            .count()
    }
}

/// Lowercased, whitespace-collapsed text: what "an identical input" means.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// FNV-1a: a hash that is stable across platforms and releases, for seeding.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
