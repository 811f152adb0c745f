//! Simulated models: a deterministic answer for a conversation, from the request alone and a seed.
//!
//! Three behaviours, chosen by what the model is and what the request holds:
//! - a **base model** given only a system prompt and one user turn writes a bland, generic reply
//!   ([`compose::base_answer`]), following each quoted instruction of the system prompt about half the time;
//! - a **base model shown demonstrations** (user/assistant turns before the last user turn) imitates their house
//!   style and reuses the fix of the demonstration most similar to the question, more of it the more similar
//!   ([`compose::FEW_SHOT`]);
//! - a **fine-tuned model** ([`FineTunedModel`]) does the same from everything it was tuned on, with steadier style
//!   ([`compose::FINE_TUNED`]).
//!
//! Structured and classification tasks — a system prompt asking for JSON keys or one of some labels, or
//! demonstrations and training answers that are JSON objects or labels — are answered by [`structured`] instead, in
//! the same three ways; support replies are unaffected by it.
//!
//! Every random choice comes from a ChaCha20 generator seeded with a SHA-256 of the seed, the model id, the
//! conversation and the sampling index, so the same request always gets the same answer; `maxTokens` and stop
//! sequences only cut that answer, as they would a real model's.

pub mod compose;
pub mod judge;
pub mod structured;
pub mod style;
pub mod text;

#[cfg(test)]
mod tests;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use self::compose::{base_answer, imitated_answer, Query, FEW_SHOT, FINE_TUNED};
use self::style::{Demonstration, HouseStyle, Instructions};
use self::text::{estimate_tokens, truncate_to_tokens, Corpus};
use super::TrainingPair;

/// Tokens added to the input count for each message and for the system prompt (role markers, separators).
pub const TOKENS_PER_MESSAGE: u32 = 4;

/// Who said a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The customer (or the harness speaking for it).
    User,
    /// The model, or a demonstration of what it should say.
    Assistant,
}

/// One turn: its role and its text (text content blocks joined).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
}

/// A validated Converse request, as the simulated models read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// System prompt blocks joined by blank lines (empty when absent).
    pub system: String,
    /// Alternating turns, starting and ending with the user.
    pub turns: Vec<Turn>,
    /// Sampling temperature in [0, 1].
    pub temperature: f64,
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// Strings that end generation where they first occur (not included in the output).
    pub stop_sequences: Vec<String>,
    /// Canonical bytes of everything that shapes the text (system, messages, temperature, topP), for seeding.
    pub sampling_key: Vec<u8>,
}

/// Why generation stopped, as Converse reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The answer was cut at `maxTokens`.
    MaxTokens,
    /// The answer was cut before a stop sequence.
    StopSequence,
}

impl StopReason {
    /// The wire name (`end_turn`, `max_tokens`, `stop_sequence`).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
        }
    }
}

/// A simulated answer with its token usage.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The answer text.
    pub text: String,
    /// Why it ended.
    pub stop_reason: StopReason,
    /// Estimated input tokens ([`input_tokens`]).
    pub input_tokens: u32,
    /// Estimated tokens of `text`.
    pub output_tokens: u32,
    /// Input tokens read from the simulated prompt cache (not in `input_tokens`).
    pub cache_read_tokens: u32,
    /// Input tokens written to the simulated prompt cache (not in `input_tokens`).
    pub cache_write_tokens: u32,
}

/// A custom model's "weights": the pairs it was tuned on, indexed for similarity, and their house style.
#[derive(Debug, Clone)]
pub struct FineTunedModel {
    examples: Vec<Demonstration>,
    corpus: Corpus,
    style: HouseStyle,
    /// What it learned when its training answers are JSON objects or labels.
    structured: Option<structured::Examples>,
}

impl FineTunedModel {
    /// Learns from training pairs (done once, when the endpoint starts).
    pub fn new(tuned_on: &[TrainingPair]) -> Self {
        let examples: Vec<Demonstration> = tuned_on
            .iter()
            .map(|p| Demonstration::new(&p.prompt, &p.completion))
            .collect();
        let corpus = Corpus::new(examples.iter().map(|e| e.terms.clone()).collect());
        let style = HouseStyle::learn(&examples);
        let structured =
            structured::Examples::learn(tuned_on.iter().map(|p| (p.prompt.as_str(), p.completion.as_str())));
        FineTunedModel {
            examples,
            corpus,
            style,
            structured,
        }
    }
}

/// Estimated input tokens: every system and message text by [`text::estimate_tokens`], plus
/// [`TOKENS_PER_MESSAGE`] for each message and for a non-empty system prompt.
pub fn input_tokens(system: &str, turns: &[Turn]) -> u32 {
    let system_tokens = if system.is_empty() {
        0
    } else {
        estimate_tokens(system) + TOKENS_PER_MESSAGE
    };
    turns.iter().fold(system_tokens, |sum, t| {
        sum.saturating_add(estimate_tokens(&t.text) + TOKENS_PER_MESSAGE)
    })
}

/// The generator for one answer: SHA-256 of (seed, model id, sampling key, sampling index) as a ChaCha20 seed.
fn answer_rng(seed: u64, model_id: &str, sampling_key: &[u8], sample_index: u64) -> ChaCha20Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"bedrock-eval simulated model v1\0");
    hasher.update(seed.to_le_bytes());
    hasher.update((model_id.len() as u64).to_le_bytes());
    hasher.update(model_id.as_bytes());
    hasher.update((sampling_key.len() as u64).to_le_bytes());
    hasher.update(sampling_key);
    hasher.update(sample_index.to_le_bytes());
    ChaCha20Rng::from_seed(hasher.finalize().into())
}

/// Answers `conversation` as `model_id` would (as the custom model `fine_tuned` when given).
///
/// `sample_index` tells repeats of an identical request apart; it only matters when the temperature is above 0.
pub fn complete(
    seed: u64,
    model_id: &str,
    fine_tuned: Option<&FineTunedModel>,
    conversation: &Conversation,
    sample_index: u64,
) -> Completion {
    let index = if conversation.temperature > 0.0 {
        sample_index
    } else {
        0
    };
    let mut rng = answer_rng(seed, model_id, &conversation.sampling_key, index);
    let last_user = conversation.turns.last().map_or("", |t| t.text.as_str());
    let query = Query::new(last_user);
    let instructions = Instructions::read(&conversation.system);
    let temperature = conversation.temperature;
    let grading = conversation
        .turns
        .first()
        .and_then(|t| judge::GradingTask::read(&t.text));
    let text = match (grading, fine_tuned) {
        (Some(task), _) => judge::verdict(&task, &mut rng),
        (None, fine_tuned) => structured_reply(last_user, fine_tuned, conversation, &mut rng)
            .unwrap_or_else(|| answer(&query, &instructions, fine_tuned, conversation, temperature, &mut rng)),
    };
    let (text, stop_reason) = cut(&text, conversation.max_tokens, &conversation.stop_sequences);
    Completion {
        output_tokens: estimate_tokens(&text),
        input_tokens: input_tokens(&conversation.system, &conversation.turns),
        text,
        stop_reason,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    }
}

/// The answer to a structured or classification task, when this is one (see [`structured`]); `None` otherwise, before
/// any random draw, so support replies come out exactly as without it.
fn structured_reply(
    query: &str,
    fine_tuned: Option<&FineTunedModel>,
    conversation: &Conversation,
    rng: &mut ChaCha20Rng,
) -> Option<String> {
    let schema = structured::PromptSchema::read(&conversation.system);
    let earlier = &conversation.turns[..conversation.turns.len().saturating_sub(1)];
    let demonstrations;
    let (examples, habits) = match fine_tuned {
        Some(model) => (Some(model.structured.as_ref()?), &structured::FINE_TUNED),
        None if earlier.is_empty() => (None, &structured::PROMPTED),
        None => {
            demonstrations = structured::Examples::learn(
                earlier
                    .chunks_exact(2)
                    .map(|pair| (pair[0].text.as_str(), pair[1].text.as_str())),
            )?;
            (Some(&demonstrations), &structured::FEW_SHOT)
        }
    };
    if examples.is_none() && schema.is_none() {
        return None;
    }
    structured::structured_answer(query, schema.as_ref(), examples, habits, rng)
}

/// A support reply: from a fine-tuned model, from demonstrations, or from instructions alone.
fn answer(
    query: &Query,
    instructions: &Instructions,
    fine_tuned: Option<&FineTunedModel>,
    conversation: &Conversation,
    temperature: f64,
    rng: &mut ChaCha20Rng,
) -> String {
    match fine_tuned {
        Some(model) => {
            let nearest = model.corpus.nearest(&query.terms).map(|(i, s)| (&model.examples[i], s));
            imitated_answer(
                query,
                instructions,
                &model.style,
                nearest,
                &FINE_TUNED,
                temperature,
                rng,
            )
        }
        None => {
            let demonstrations: Vec<Demonstration> = conversation.turns[..conversation.turns.len().saturating_sub(1)]
                .chunks_exact(2)
                .map(|pair| Demonstration::new(&pair[0].text, &pair[1].text))
                .collect();
            if demonstrations.is_empty() {
                base_answer(query, instructions, rng)
            } else {
                let style = HouseStyle::learn(&demonstrations);
                let corpus = Corpus::new(demonstrations.iter().map(|d| d.terms.clone()).collect());
                let nearest = corpus.nearest(&query.terms).map(|(i, s)| (&demonstrations[i], s));
                imitated_answer(query, instructions, &style, nearest, &FEW_SHOT, temperature, rng)
            }
        }
    }
}

/// Applies the stop sequences (cut before the first one found) and then the token limit.
pub fn cut(text: &str, max_tokens: u32, stop_sequences: &[String]) -> (String, StopReason) {
    let stop_at = stop_sequences
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    let (text, reason) = match stop_at {
        Some(at) => (&text[..at], StopReason::StopSequence),
        None => (text, StopReason::EndTurn),
    };
    let truncated = truncate_to_tokens(text, max_tokens);
    if truncated.len() < text.len() {
        (truncated.to_string(), StopReason::MaxTokens)
    } else {
        (text.to_string(), reason)
    }
}

/// A degraded answer (planted regression): what the model would say with no system prompt, no demonstrations and
/// no tuning — a generic reply to the last user turn.
pub fn degraded(seed: u64, model_id: &str, conversation: &Conversation) -> Completion {
    let last = conversation.turns.last().cloned().into_iter().collect::<Vec<_>>();
    let bare = Conversation {
        system: String::new(),
        turns: last,
        sampling_key: [b"degraded\0".as_slice(), conversation.sampling_key.as_slice()].concat(),
        ..conversation.clone()
    };
    let mut completion = complete(seed, model_id, None, &bare, 0);
    completion.input_tokens = input_tokens(&conversation.system, &conversation.turns);
    completion
}

/// Whether a request is one of the `rate` share a planted regression degrades: a hash of the seed, the model and the
/// request, so the same request is always treated the same way.
pub fn is_degraded(seed: u64, model_id: &str, sampling_key: &[u8], rate: f64) -> bool {
    let digest = Sha256::new()
        .chain_update(b"bedrock-eval degrade v1\0")
        .chain_update(seed.to_le_bytes())
        .chain_update(model_id.as_bytes())
        .chain_update([0])
        .chain_update(sampling_key)
        .finalize();
    let draw = u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8])) as f64 / u64::MAX as f64;
    draw < rate
}
