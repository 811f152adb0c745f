//! Writing an answer: the bland reply of a base model given only instructions, and the reply of a model that
//! imitates example answers (few-shot demonstrations, or the data a custom model was tuned on).

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

use super::style::{fill, is_greeting_line, replace_word, Demonstration, HouseStyle, Instructions};
use super::text::{content_terms, product_phrases, second_person, sentences, signed_name};

/// How often a model follows one instruction of its system prompt (each quoted phrase, numbered steps).
pub const INSTRUCTION_FOLLOW_RATE: f64 = 0.5;
/// How often a base model adds the stock apology.
pub const BASE_APOLOGY_RATE: f64 = 0.7;
/// How often a base model names the product the customer wrote about.
pub const PRODUCT_MENTION_RATE: f64 = 0.6;
/// The stock apology base models are prone to.
pub const STOCK_APOLOGY: &str = "I apologize for any inconvenience.";

/// Fixes a model falls back on when it does not know the right one.
const GENERIC_STEPS: &[&str] = &[
    "Restart the device by unplugging it for 30 seconds and plugging it back in.",
    "Check that your internet connection is working.",
    "Make sure the app and the device's software are up to date.",
    "Sign out of the app and sign back in.",
    "Try again on a different network if you can.",
    "If nothing else works, reset the device to its factory settings.",
];

/// Words that mark the sentence where a customer states the problem.
const PROBLEM_CUES: &[&str] = &[
    "n't",
    " not ",
    "keeps",
    "keep ",
    "stopped",
    "stops",
    "error",
    "fail",
    "broken",
    "issue",
    "problem",
    "trouble",
    "no longer",
    "offline",
    "disconnect",
    "unable",
    "won't",
    "can't",
];

/// How closely a model imitates the examples it learned from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Imitation {
    /// Chance of keeping each trait of the house style (greeting, numbered steps, closing).
    pub style_fidelity: f64,
    /// Chance of reusing a piece of the nearest example's fix when it is fully relevant.
    pub content_fidelity: f64,
    /// Similarity at or below which nothing of the nearest example's fix is reused.
    pub relevance_floor: f64,
    /// Similarity from which the nearest example's fix is reused at `content_fidelity`.
    pub relevance_full: f64,
}

/// A base model shown demonstrations in its prompt.
pub const FEW_SHOT: Imitation = Imitation {
    style_fidelity: 0.85,
    content_fidelity: 0.9,
    relevance_floor: 0.12,
    relevance_full: 0.45,
};
/// A model fine-tuned on examples: steadier style, and it generalises from less similar examples.
pub const FINE_TUNED: Imitation = Imitation {
    style_fidelity: 0.95,
    content_fidelity: 0.95,
    relevance_floor: 0.05,
    relevance_full: 0.3,
};

impl Imitation {
    /// The chance of reusing each piece of an example's fix at this similarity.
    pub fn reuse_rate(&self, similarity: f64) -> f64 {
        let span = (self.relevance_full - self.relevance_floor).max(f64::EPSILON);
        self.content_fidelity * ((similarity - self.relevance_floor) / span).clamp(0.0, 1.0)
    }
}

/// The customer message being answered.
#[derive(Debug, Clone)]
pub struct Query {
    /// Its text.
    pub text: String,
    /// The first name the customer signed with.
    pub name: Option<String>,
    /// Product-like phrases in it.
    pub products: Vec<String>,
    /// Its content terms.
    pub terms: BTreeSet<String>,
}

impl Query {
    /// Reads a customer message.
    pub fn new(text: &str) -> Self {
        let name = signed_name(text);
        let excluded: Vec<&str> = name.iter().map(String::as_str).collect();
        Query {
            text: text.to_string(),
            products: product_phrases(text, &excluded),
            terms: content_terms(text),
            name,
        }
    }

    fn product(&self) -> Option<&str> {
        self.products.first().map(String::as_str)
    }
}

/// A piece of an answer: a paragraph, or lines kept together (steps).
enum Block {
    Paragraph(String),
    Lines(Vec<String>),
}

fn render(blocks: &[Block]) -> String {
    let rendered: Vec<String> = blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph(p) => p.clone(),
            Block::Lines(lines) => lines.join("\n"),
        })
        .filter(|b| !b.trim().is_empty())
        .collect();
    rendered.join("\n\n")
}

fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    rng.random::<f64>() < p
}

fn shuffled_generic_steps<R: Rng>(rng: &mut R) -> Vec<&'static str> {
    let mut steps = GENERIC_STEPS.to_vec();
    steps.shuffle(rng);
    steps
}

fn steps_block(steps: Vec<String>, numbered: bool) -> Block {
    if numbered {
        Block::Lines(
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{}. {s}", i + 1))
                .collect(),
        )
    } else {
        Block::Paragraph(steps.join(" "))
    }
}

fn instructed_greeting<R: Rng>(query: &Query, instructions: &Instructions, rng: &mut R) -> String {
    match &instructions.greeting {
        Some(greeting) if chance(rng, INSTRUCTION_FOLLOW_RATE) => {
            fill(greeting, query.name.as_deref(), query.product())
        }
        _ => ["Hello,", "Hi there,"][rng.random_range(0..2)].to_string(),
    }
}

fn included_phrases<R: Rng>(query: &Query, instructions: &Instructions, rng: &mut R) -> Vec<Block> {
    instructions
        .include
        .iter()
        .filter(|_| chance(rng, INSTRUCTION_FOLLOW_RATE))
        .map(|p| Block::Paragraph(fill(p, query.name.as_deref(), query.product())))
        .collect()
}

/// The closing lines a system prompt asks for (each followed or not), then a stock sign-off unless the last one
/// followed is itself a short sign-off.
fn instructed_closing<R: Rng>(query: &Query, instructions: &Instructions, rng: &mut R) -> Vec<Block> {
    let followed: Vec<String> = instructions
        .closing
        .iter()
        .filter(|_| chance(rng, INSTRUCTION_FOLLOW_RATE))
        .map(|p| fill(p, query.name.as_deref(), query.product()))
        .collect();
    let signed = followed.last().is_some_and(|l| l.split_whitespace().count() <= 5);
    let mut blocks: Vec<Block> = followed.into_iter().map(Block::Paragraph).collect();
    if !signed {
        blocks.push(Block::Paragraph("Best regards,\nCustomer Support".to_string()));
    }
    blocks
}

/// Drops the sentences (or lines) holding a forbidden phrase, for each prohibition the model happens to follow.
fn drop_banned<R: Rng>(blocks: Vec<Block>, instructions: &Instructions, rng: &mut R) -> Vec<Block> {
    let obeyed: Vec<String> = instructions
        .banned
        .iter()
        .filter(|_| chance(rng, INSTRUCTION_FOLLOW_RATE))
        .map(|b| b.to_lowercase())
        .collect();
    let allowed = |s: &str| !obeyed.iter().any(|b| s.to_lowercase().contains(b));
    blocks
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(p) if !allowed(&p) => Block::Paragraph(
                sentences(&p)
                    .into_iter()
                    .filter(|s| allowed(s))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Block::Lines(lines) => Block::Lines(lines.into_iter().filter(|l| allowed(l)).collect()),
            other => other,
        })
        .collect()
}

/// The sentence where the customer states the problem, as a statement (questions are left alone).
fn problem_sentence(query: &Query) -> Option<String> {
    let candidates: Vec<String> = sentences(&query.text)
        .into_iter()
        .filter(|s| !is_greeting_line(s) && !s.ends_with('?'))
        .filter(|s| (4..=30).contains(&s.split_whitespace().count()))
        .collect();
    let padded = |s: &String| format!(" {} ", s.to_lowercase());
    candidates
        .iter()
        .find(|s| PROBLEM_CUES.iter().any(|cue| padded(s).contains(cue)))
        .cloned()
}

/// `I understand that …`: the customer's problem in the second person, naming the product or not.
fn restatement(query: &Query, name_product: bool) -> Option<String> {
    let sentence = problem_sentence(query)?;
    // Drop an inline greeting ("Hello, my camera…").
    let sentence = match sentence.split_once(' ') {
        Some((first, rest)) if is_greeting_line(first) && first.ends_with([',', '!']) => rest.to_string(),
        _ => sentence,
    };
    let mut clause = second_person(sentence.trim_end_matches(['.', '!']));
    if let (false, Some(product)) = (name_product, query.product()) {
        clause = clause
            .replace(&format!("your {product}"), "your device")
            .replace(&format!("the {product}"), "the device");
        clause = replace_word(&clause, product, "the device");
    }
    let starts_with_product = query.products.iter().any(|p| clause.starts_with(p.as_str()));
    if !starts_with_product {
        let mut chars = clause.chars();
        if let Some(first) = chars.next() {
            clause = first.to_lowercase().chain(chars).collect();
        }
    }
    Some(format!("I understand that {clause}."))
}

/// A base model's reply from instructions alone: generic greeting, stock apology, the problem restated, generic
/// advice, stock sign-off, each quoted instruction of the system prompt followed about half the time.
pub fn base_answer<R: Rng>(query: &Query, instructions: &Instructions, rng: &mut R) -> String {
    let mention = query.product().filter(|_| chance(rng, PRODUCT_MENTION_RATE));
    let mut blocks = vec![Block::Paragraph(instructed_greeting(query, instructions, rng))];
    let mut opening = vec![match mention {
        Some(product) => format!("Thank you for contacting us about your {product}."),
        None => "Thank you for contacting us.".to_string(),
    }];
    if chance(rng, 0.7) {
        opening.extend(restatement(query, mention.is_some()));
    }
    if chance(rng, BASE_APOLOGY_RATE) {
        opening.push(STOCK_APOLOGY.to_string());
    }
    blocks.push(Block::Paragraph(opening.join(" ")));
    blocks.extend(included_phrases(query, instructions, rng));
    let generic = shuffled_generic_steps(rng);
    if instructions.numbered && chance(rng, INSTRUCTION_FOLLOW_RATE) {
        blocks.push(Block::Paragraph("Please try the following steps:".to_string()));
        blocks.push(steps_block(
            generic.iter().take(3).map(|s| s.to_string()).collect(),
            true,
        ));
    } else {
        let mut advice = vec!["Please try restarting the device and check your connection.".to_string()];
        advice.extend(
            generic
                .iter()
                .skip(2)
                .take(rng.random_range(0..2))
                .map(|s| s.to_string()),
        );
        blocks.push(Block::Paragraph(advice.join(" ")));
    }
    if chance(rng, 0.6) {
        blocks.push(Block::Paragraph(
            "If the issue persists, please don't hesitate to contact us again.".to_string(),
        ));
    }
    blocks.extend(instructed_closing(query, instructions, rng));
    render(&drop_banned(blocks, instructions, rng))
}

/// Swaps the example's product names and customer name for the query's, where the pairing is obvious.
struct Adapter {
    swaps: Vec<(String, String)>,
    /// The example's customer name when the query signs none: sentences naming them are left out, so an
    /// anonymous customer is never addressed by someone else's name.
    unknown_name: Option<String>,
}

impl Adapter {
    fn new(query: &Query, example: &Demonstration, swap_products: bool) -> Self {
        let mut swaps: Vec<(String, String)> = Vec::new();
        if swap_products {
            let from = example.products.iter().filter(|p| !query.text.contains(p.as_str()));
            let to = query.products.iter().filter(|p| !example.prompt.contains(p.as_str()));
            swaps.extend(from.zip(to).map(|(a, b)| (a.clone(), b.clone())));
        }
        let mut unknown_name = None;
        match (&example.customer_name, &query.name) {
            (Some(from), Some(to)) => swaps.push((from.clone(), to.clone())),
            (Some(from), None) => unknown_name = Some(from.clone()),
            (None, _) => {}
        }
        swaps.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        Adapter { swaps, unknown_name }
    }

    fn apply(&self, text: &str) -> String {
        // Two passes through markers, so that swapping A→B and B→A does not undo itself.
        let marked = self
            .swaps
            .iter()
            .enumerate()
            .fold(text.to_string(), |t, (i, (from, _))| {
                replace_word(&t, from, &format!("\u{1}{i}\u{1}"))
            });
        let swapped = self
            .swaps
            .iter()
            .enumerate()
            .fold(marked, |t, (i, (_, to))| t.replace(&format!("\u{1}{i}\u{1}"), to));
        match &self.unknown_name {
            Some(name) if mentions_word(&swapped, name) => sentences(&swapped)
                .into_iter()
                .filter(|s| !mentions_word(s, name))
                .collect::<Vec<_>>()
                .join(" "),
            _ => swapped,
        }
    }
}

/// Whether `word` occurs in `text` as a whole word.
fn mentions_word(text: &str, word: &str) -> bool {
    replace_word(text, word, "") != text
}

/// A reply imitating examples: their greeting, closing and step format (kept at `style_fidelity`), and the fix of
/// the example most similar to the query (each piece reused at [`Imitation::reuse_rate`], else a generic step).
/// A higher temperature loosens both a little.
pub fn imitated_answer<R: Rng>(
    query: &Query,
    instructions: &Instructions,
    style: &HouseStyle,
    nearest: Option<(&Demonstration, f64)>,
    imitation: &Imitation,
    temperature: f64,
    rng: &mut R,
) -> String {
    let sharpness = 1.0 - 0.1 * temperature.clamp(0.0, 1.0);
    let style_rate = imitation.style_fidelity * sharpness;
    let reuse_rate = nearest.map_or(0.0, |(_, similarity)| imitation.reuse_rate(similarity) * sharpness);
    let product = query.product();
    let mut blocks = vec![Block::Paragraph(match &style.greeting {
        Some(template) if chance(rng, style_rate) => fill(template, query.name.as_deref(), product),
        _ => instructed_greeting(query, instructions, rng),
    })];
    let parts = nearest.map(|(example, _)| style.parts(example)).unwrap_or_default();
    let swap_products = chance(rng, imitation.content_fidelity);
    let adapter = nearest.map(|(example, _)| Adapter::new(query, example, swap_products));
    let adapt = |text: &str| adapter.as_ref().map_or_else(|| text.to_string(), |a| a.apply(text));

    let reused_preamble = (!parts.preamble.is_empty() && chance(rng, reuse_rate))
        .then(|| adapt(&parts.preamble.join(" ")))
        .filter(|p| !p.is_empty());
    blocks.push(Block::Paragraph(reused_preamble.unwrap_or_else(|| {
        let about = product.map_or("this".to_string(), |p| format!("your {p}"));
        if style.apologetic {
            format!("Sorry to hear about the trouble with {about}.")
        } else {
            format!("Thanks for reaching out about {about}.")
        }
    })));
    blocks.extend(included_phrases(query, instructions, rng));
    let mut generic = shuffled_generic_steps(rng).into_iter();
    let steps: Vec<String> = if parts.steps.is_empty() {
        generic.by_ref().take(2).map(str::to_string).collect()
    } else {
        parts
            .steps
            .iter()
            .map(|step| match chance(rng, reuse_rate) {
                true => adapt(step),
                false => generic.next().unwrap_or(GENERIC_STEPS[0]).to_string(),
            })
            .filter(|step| !step.is_empty())
            .collect()
    };
    let numbered = match style.numbered {
        true => chance(rng, style_rate),
        false => instructions.numbered && chance(rng, INSTRUCTION_FOLLOW_RATE),
    };
    blocks.push(steps_block(steps, numbered));
    for line in &parts.postamble {
        if chance(rng, reuse_rate) {
            blocks.push(Block::Paragraph(adapt(line)));
        }
    }
    match &style.closing {
        Some(closing) if chance(rng, style_rate) => {
            blocks.push(Block::Paragraph(fill(closing, query.name.as_deref(), product)));
        }
        _ => blocks.extend(instructed_closing(query, instructions, rng)),
    }
    render(&drop_banned(blocks, instructions, rng))
}
