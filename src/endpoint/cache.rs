//! Simulated prompt caching: a request whose Converse body carries a `cachePoint` has a prefix (the system prompt
//! and the messages up to the point). The first request with a given prefix on a model writes it
//! (`cacheWriteInputTokens`), every later one reads it (`cacheReadInputTokens`); those tokens leave `inputTokens`,
//! as Bedrock reports them. Prefixes shorter than [`MIN_CACHE_TOKENS`] are not cached, as on Bedrock.
//!
//! Which request writes is decided under the endpoint's lock: with requests in flight at once the writer may be any
//! of them, but there is exactly one write per prefix and model for the endpoint's lifetime, so a run's totals (and
//! so its report) are the same every time. (Bedrock's cache lives 5 minutes from the last hit; a run against the
//! simulator never outlives it.)

use std::collections::HashSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::simulator::{input_tokens, Completion, Role, Turn};

/// Fewest tokens a cache checkpoint holds: 1,000 for the Nova models, per the Bedrock user guide's prompt-caching
/// table (Claude models need 1,024 or more); shorter prefixes are sent uncached.
pub const MIN_CACHE_TOKENS: u32 = 1_000;

/// The prefixes written so far, per model.
#[derive(Debug, Default)]
pub struct PromptCache {
    written: HashSet<[u8; 32]>,
}

impl PromptCache {
    /// `completion` with its cache usage: the prefix's tokens moved from input to a cache write (first sight on
    /// this model) or a cache read.
    pub fn apply(&mut self, model_id: &str, prefix: Option<&CachePrefix>, mut completion: Completion) -> Completion {
        let Some(prefix) = prefix.filter(|p| p.tokens >= MIN_CACHE_TOKENS && p.tokens <= completion.input_tokens)
        else {
            return completion;
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(model_id.as_bytes())
            .chain_update([0])
            .chain_update(&prefix.key)
            .finalize()
            .into();
        if self.written.insert(key) {
            completion.cache_write_tokens = prefix.tokens;
        } else {
            completion.cache_read_tokens = prefix.tokens;
        }
        completion.input_tokens -= prefix.tokens;
        completion
    }
}

/// The part of a request before its cache point: system prompt and messages up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePrefix {
    /// Canonical bytes of the prefix.
    pub key: Vec<u8>,
    /// Its input tokens, counted as the whole request's are.
    pub tokens: u32,
}

fn has_cache_point(blocks: &[Map<String, Value>]) -> bool {
    blocks.iter().any(|b| b.contains_key("cachePoint"))
}

/// The prefix before the last cache point of a Converse request: after the last message whose content carries one,
/// else after the system prompt when it carries one.
pub fn cache_prefix<'b>(
    system: &[String],
    system_blocks: &[Map<String, Value>],
    mut message_contents: impl DoubleEndedIterator<Item = &'b [Map<String, Value>]> + ExactSizeIterator,
    turns: &[Turn],
) -> Result<Option<CachePrefix>, serde_json::Error> {
    let end = match message_contents.rposition(has_cache_point) {
        Some(i) => i + 1,
        None if has_cache_point(system_blocks) => 0,
        None => return Ok(None),
    };
    let turns = &turns[..end.min(turns.len())];
    let texts: Vec<(bool, &String)> = turns.iter().map(|t| (t.role == Role::User, &t.text)).collect();
    Ok(Some(CachePrefix {
        key: serde_json::to_vec(&(system, texts))?,
        tokens: input_tokens(&system.join("\n\n"), turns),
    }))
}
