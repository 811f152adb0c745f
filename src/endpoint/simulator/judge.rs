//! A simulated LLM judge: answers a grading prompt (a criterion, a scale of levels, the input, optionally a
//! reference reply, and the reply to grade, each in its own tag) with a JSON verdict on that scale.
//!
//! The verdict follows the reply's merits the way a careful grader's would: how much of the reference's content it
//! carries (when the judge sees a reference), and whether it has the marks of a good support reply (a greeting by
//! name, steps, a sign-off, no stock apology), so better replies get higher levels. It is deterministic from the
//! request; the malformed-verdict fault replaces it with the kinds of broken answer real judges give.

use std::collections::BTreeSet;

use rand::Rng;

use super::text::content_terms;

/// What a grading prompt holds.
#[derive(Debug, Clone, PartialEq)]
pub struct GradingTask {
    /// The scale's levels, lowest first.
    pub levels: Vec<i64>,
    /// The input the reply answers.
    pub input: String,
    /// The reference reply, when the judge is shown one.
    pub reference: Option<String>,
    /// The reply to grade.
    pub reply: String,
}

fn tagged<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(text[start..end].trim())
}

impl GradingTask {
    /// Reads a grading prompt; `None` when `prompt` is not one (no criterion, scale or reply tags).
    pub fn read(prompt: &str) -> Option<GradingTask> {
        tagged(prompt, "criterion")?;
        let levels: Vec<i64> = tagged(prompt, "scale")?
            .lines()
            .filter_map(|line| line.split_once(':')?.0.trim().parse().ok())
            .collect();
        if levels.len() < 2 {
            return None;
        }
        Some(GradingTask {
            levels,
            input: tagged(prompt, "input").unwrap_or_default().to_string(),
            reference: tagged(prompt, "reference_reply").map(str::to_string),
            reply: tagged(prompt, "reply")?.to_string(),
        })
    }
}

/// Phrases a good support reply avoids.
const STOCK_PHRASES: [&str; 5] = [
    "i apologize for any inconvenience",
    "dear customer",
    "valued customer",
    "please don't hesitate",
    "as an ai",
];

fn is_step(line: &str) -> bool {
    line.trim_start().starts_with(|c: char| c.is_ascii_digit())
}

/// The reply's merit in [0, 1] and the main reason for it.
fn merit(task: &GradingTask) -> (f64, &'static str) {
    let reply = task.reply.as_str();
    let lower = reply.to_lowercase();
    let first_line = reply.lines().next().unwrap_or_default();
    let greets = first_line.starts_with("Hi ") && !first_line.starts_with("Hi there");
    let steps = reply.lines().filter(|l| is_step(l)).count() >= 2;
    let signed = reply.lines().last().is_some_and(|l| l.trim_start().starts_with('—'));
    let stock = STOCK_PHRASES.iter().any(|p| lower.contains(p));
    let form = [greets, steps, signed, !stock].iter().filter(|&&b| b).count() as f64 / 4.0;
    let Some(reference) = &task.reference else {
        let asked: BTreeSet<String> = content_terms(&task.input);
        let answered = content_terms(reply);
        let relevance = if asked.is_empty() {
            0.5
        } else {
            asked.intersection(&answered).count() as f64 / asked.len() as f64
        };
        let score = 0.6 * form + 0.4 * relevance.min(1.0);
        let reason = if form < 0.5 {
            "the reply lacks the expected structure"
        } else {
            "the reply is on topic and well formed"
        };
        return (score, reason);
    };
    // What matters in the reference is its substance: its steps when it has any, not the greeting and sign-off
    // every reply shares.
    let steps: Vec<&str> = reference.lines().filter(|l| is_step(l)).collect();
    let substance = if steps.is_empty() {
        reference.clone()
    } else {
        steps.join("\n")
    };
    let wanted = content_terms(&substance);
    let given = content_terms(reply);
    let recall = if wanted.is_empty() {
        1.0
    } else {
        wanted.intersection(&given).count() as f64 / wanted.len() as f64
    };
    let score = 0.75 * recall + 0.25 * form;
    let reason = match (recall >= 0.6, form >= 0.75) {
        (true, true) => "the reply gives the reference's fix in the expected form",
        (true, false) => "the fix matches the reference but the form falls short",
        (false, true) => "well formed, but the fix differs from the reference",
        (false, false) => "the fix and the form both fall short of the reference",
    };
    (score, reason)
}

/// The judge's verdict: `{"score": level, "reason": "..."}`.
pub fn verdict<R: Rng>(task: &GradingTask, rng: &mut R) -> String {
    let (merit, reason) = merit(task);
    let (low, high) = (task.levels[0], task.levels[task.levels.len() - 1]);
    let span = (high - low) as f64;
    // A grader's small inconsistency: a nudge of up to a third of a level either way.
    let position = (merit * span + rng.random_range(-0.33..=0.33)).round().clamp(0.0, span);
    let level = low + position as i64;
    format!(
        "{{\"score\": {level}, \"reason\": {}}}",
        serde_json::Value::from(reason)
    )
}

/// A broken verdict of the kinds real judges produce (prose, a fenced block, an off-scale level, a missing field).
pub fn malformed_verdict<R: Rng>(task: &GradingTask, rng: &mut R) -> String {
    let high = task.levels[task.levels.len() - 1];
    match rng.random_range(0..4) {
        0 => format!("I would rate this reply {high} out of {high}: it addresses the question."),
        1 => format!("```json\n{{\"score\": {high}, \"reason\": \"fine\"}}\n```"),
        2 => format!("{{\"score\": {}, \"reason\": \"excellent\"}}", high + 5),
        _ => format!("{{\"score\": {high}}}"),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn prompt(reply: &str, reference: Option<&str>) -> String {
        let reference = reference.map_or(String::new(), |r| {
            format!("<reference_reply>\n{r}\n</reference_reply>\n\n")
        });
        format!(
            "Grade.\n\n<criterion>\nRight fix?\n</criterion>\n\n<scale>\n1: wrong\n2: partly\n3: mostly\n4: right\n5: perfect\n</scale>\n\n\
<input>\nMy Kestrel Lock jams halfway.\n\nThanks, Aiko\n</input>\n\n{reference}<reply>\n{reply}\n</reply>\n\nAnswer with only this JSON object"
        )
    }

    const GOOD: &str = "Hi Aiko,\n\nThanks for letting us know about your Kestrel Lock.\n\n1. Open Settings > Calibrate.\n2. Turn the thumb-turn to locked.\n\n— Kestrel Support";
    const POOR: &str = "Hello,\n\nI apologize for any inconvenience. Please try restarting the device.\n\nBest regards";

    fn level(answer: &str) -> i64 {
        serde_json::from_str::<serde_json::Value>(answer).unwrap()["score"]
            .as_i64()
            .unwrap()
    }

    #[test]
    fn reads_the_grading_prompt() {
        let task = GradingTask::read(&prompt("x", Some("ref"))).unwrap();
        assert_eq!(task.levels, [1, 2, 3, 4, 5]);
        assert_eq!(task.reference.as_deref(), Some("ref"));
        assert_eq!(task.reply, "x");
        assert!(task.input.starts_with("My Kestrel Lock"));
        assert_eq!(GradingTask::read("Hi, my lock jams."), None);
    }

    #[test]
    fn better_replies_get_higher_levels_on_the_scale() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for reference in [Some(GOOD), None] {
            let good = GradingTask::read(&prompt(GOOD, reference)).unwrap();
            let poor = GradingTask::read(&prompt(POOR, reference)).unwrap();
            let (g, p) = (level(&verdict(&good, &mut rng)), level(&verdict(&poor, &mut rng)));
            assert!((1..=5).contains(&g) && (1..=5).contains(&p));
            assert!(g >= p + 2, "good {g}, poor {p}, reference {reference:?}");
        }
    }

    #[test]
    fn malformed_verdicts_are_not_valid_verdicts() {
        let task = GradingTask::read(&prompt(GOOD, None)).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..20 {
            let answer = malformed_verdict(&task, &mut rng);
            let valid = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .is_some_and(|v| v["reason"].is_string() && v["score"].as_i64().is_some_and(|s| (1..=5).contains(&s)));
            assert!(!valid, "{answer}");
        }
    }
}
