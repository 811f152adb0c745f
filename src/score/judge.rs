//! The LLM judge: the request that asks for a verdict, the strict parser of its answer, and how a criterion's
//! verdicts are found again among the recorded judge calls.
//!
//! A judge request is a pure function of the judge settings, the criterion, the example and the output, so its
//! fingerprint identifies it: re-scoring a run finds every verdict whose request did not change, and asks only the
//! rest. A malformed verdict is asked again with the parse error fed back (a new request, so a new fingerprint),
//! at most `reasks` times; after that it is a judge error for that criterion, never a silent zero.

use serde::{Deserialize, Serialize};

use super::rubric::JudgeSpec;
use crate::dataset::{Example, Role, Turn};
use crate::provider::ModelRequest;
use crate::run::plan::RequestFingerprint;
use crate::run::records::{Record, RecordStatus};
use crate::suite::schema::{InferenceSection, JudgeSection};

/// The judge's system prompt.
pub const JUDGE_SYSTEM: &str = "You are a strict, consistent evaluator of replies written by an AI system. \
You grade one reply against one criterion, using only the scale you are given, and you answer with a single JSON \
object and nothing else.";

/// A parsed verdict: a level of the criterion's scale and the judge's reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// The level given.
    pub score: i64,
    /// Why, in a sentence.
    pub reason: String,
}

/// A judge criterion's outcome for one output: the median level of its samples and the reasons given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    /// Median level over the samples.
    pub level: f64,
    /// Each sample's reason, in sample order.
    pub reasons: Vec<String>,
}

/// The user message asking for a verdict on `output`, the reply to `example`.
pub fn judge_prompt(spec: &JudgeSpec, example: &Example, output: &str) -> String {
    let mut prompt = String::new();
    prompt.push_str("Grade the reply below against this criterion.\n\n<criterion>\n");
    prompt.push_str(spec.instructions.trim());
    prompt.push_str("\n</criterion>\n\n<scale>\n");
    for (level, meaning) in &spec.scale {
        prompt.push_str(&format!("{level}: {}\n", meaning.trim()));
    }
    prompt.push_str("</scale>\n\n<input>\n");
    prompt.push_str(example.input.trim());
    prompt.push_str("\n</input>\n\n");
    if let (true, Some(reference)) = (spec.sees_reference, &example.reference) {
        prompt.push_str("<reference_reply>\n");
        prompt.push_str(reference.trim());
        prompt.push_str("\n</reference_reply>\n\n");
    }
    prompt.push_str("<reply>\n");
    prompt.push_str(output.trim());
    prompt.push_str("\n</reply>\n\n");
    prompt.push_str(&answer_format(spec));
    prompt
}

fn answer_format(spec: &JudgeSpec) -> String {
    format!(
        "Answer with only this JSON object, on one line, with no other text: \
{{\"score\": <integer from {} to {}>, \"reason\": \"<one short sentence>\"}}",
        spec.min_level(),
        spec.max_level()
    )
}

/// The request for a verdict; `earlier` holds the malformed answers already given to it and why each was refused,
/// which are sent back as prior turns so the judge can correct itself.
pub fn judge_request(
    judge: &JudgeSection,
    spec: &JudgeSpec,
    example: &Example,
    output: &str,
    earlier: &[(String, String)],
) -> ModelRequest {
    let mut messages = vec![Turn {
        role: Role::User,
        text: judge_prompt(spec, example, output),
    }];
    for (answer, problem) in earlier {
        messages.push(Turn {
            role: Role::Assistant,
            text: if answer.trim().is_empty() {
                "(empty answer)".to_string()
            } else {
                answer.clone()
            },
        });
        messages.push(Turn {
            role: Role::User,
            text: format!("That answer could not be used: {problem}. {}", answer_format(spec)),
        });
    }
    ModelRequest {
        model: judge.model.clone(),
        system: Some(JUDGE_SYSTEM.to_string()),
        messages,
        inference: InferenceSection {
            max_tokens: Some(judge.max_tokens),
            temperature: Some(judge.temperature),
            top_p: None,
            stop_sequences: Vec::new(),
        },
        cache_after_messages: None,
    }
}

/// Parses a verdict strictly: the whole answer (surrounding whitespace aside) must be one JSON object with exactly
/// an integer `score` on the criterion's scale and a non-empty string `reason`.
pub fn parse_verdict(answer: &str, spec: &JudgeSpec) -> Result<Verdict, String> {
    let text = answer.trim();
    if !(text.starts_with('{') && text.ends_with('}')) {
        return Err("the answer is not a lone JSON object".to_string());
    }
    let verdict: Verdict = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        if message.contains("invalid type") && message.contains("score") || message.contains("expected i64") {
            format!("`score` must be an integer ({message})")
        } else {
            format!("invalid verdict JSON: {message}")
        }
    })?;
    if !spec.scale.contains_key(&verdict.score) {
        return Err(format!(
            "score {} is not on the scale {}–{}",
            verdict.score,
            spec.min_level(),
            spec.max_level()
        ));
    }
    if verdict.reason.trim().is_empty() {
        return Err("`reason` is empty".to_string());
    }
    Ok(verdict)
}

/// Where one verdict sample stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleState {
    /// A valid verdict was recorded.
    Verdict(Verdict),
    /// The judge call failed, or every ask gave a malformed verdict.
    Failed(String),
    /// This request must be sent next.
    Pending(Box<ModelRequest>, RequestFingerprint),
}

/// Follows sample `sample` of a criterion's verdict through the recorded judge calls (`lookup` by fingerprint):
/// the first ask, then each re-ask after a malformed answer.
pub fn resolve_sample<'r>(
    judge: &JudgeSection,
    spec: &JudgeSpec,
    example: &Example,
    output: &str,
    sample: u32,
    lookup: &dyn Fn(&RequestFingerprint) -> Option<&'r Record>,
) -> SampleState {
    let mut earlier: Vec<(String, String)> = Vec::new();
    loop {
        let request = judge_request(judge, spec, example, output, &earlier);
        let fingerprint = RequestFingerprint::of(&request, sample);
        let Some(record) = lookup(&fingerprint) else {
            return SampleState::Pending(Box::new(request), fingerprint);
        };
        if record.status == RecordStatus::Error {
            let error = record
                .error
                .as_ref()
                .map_or_else(|| "unknown error".to_string(), ToString::to_string);
            return SampleState::Failed(format!("judge call failed: {error}"));
        }
        let answer = record.output.as_deref().unwrap_or_default();
        match parse_verdict(answer, spec) {
            Ok(verdict) => return SampleState::Verdict(verdict),
            Err(problem) if earlier.len() < judge.reasks as usize => earlier.push((answer.to_string(), problem)),
            Err(problem) => {
                return SampleState::Failed(format!("malformed verdict after {} asks: {problem}", earlier.len() + 1))
            }
        }
    }
}

/// A criterion's outcome over its samples: the median level when every sample has a verdict; otherwise the first
/// failure (or "not judged" when some sample was never asked, as after an interrupted run).
pub fn criterion_outcome<'r>(
    judge: &JudgeSection,
    spec: &JudgeSpec,
    example: &Example,
    output: &str,
    lookup: &dyn Fn(&RequestFingerprint) -> Option<&'r Record>,
) -> Result<Judged, String> {
    let mut levels = Vec::new();
    let mut reasons = Vec::new();
    for sample in 0..spec.samples {
        match resolve_sample(judge, spec, example, output, sample, lookup) {
            SampleState::Verdict(verdict) => {
                levels.push(verdict.score as f64);
                reasons.push(verdict.reason);
            }
            SampleState::Failed(error) => return Err(error),
            SampleState::Pending(..) => return Err("not judged (the judge stage did not finish)".to_string()),
        }
    }
    Ok(Judged {
        level: median(&mut levels),
        reasons,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::provider::{CallError, CallErrorKind};

    fn spec(samples: u32) -> JudgeSpec {
        JudgeSpec {
            instructions: "Is the reply polite?".into(),
            scale: BTreeMap::from([(1, "rude".into()), (2, "neutral".into()), (3, "warm".into())]),
            sees_reference: true,
            samples,
            human_score_field: None,
        }
    }

    fn judge() -> JudgeSection {
        JudgeSection {
            model: "judge-model".into(),
            max_tokens: 200,
            temperature: 0.0,
            reasks: 1,
            limits: None,
        }
    }

    fn example() -> Example {
        Example {
            id: "e1".into(),
            line: 1,
            system: None,
            history: Vec::new(),
            input: "My lock jams.".into(),
            reference: Some("Hi, recalibrate it.".into()),
            fields: Default::default(),
        }
    }

    fn record(fingerprint: RequestFingerprint, output: Option<&str>) -> Record {
        Record {
            example_id: "e1".into(),
            config: "c".into(),
            repeat: 0,
            fingerprint,
            model: "judge-model".into(),
            status: if output.is_some() {
                RecordStatus::Ok
            } else {
                RecordStatus::Error
            },
            output: output.map(str::to_string),
            stop_reason: None,
            input_tokens: 10,
            output_tokens: 5,
            cache_read_input_tokens: 0,
            cache_write_input_tokens: 0,
            latency_ms: 1,
            service_latency_ms: None,
            attempts: 1,
            retried: Vec::new(),
            error: output.is_none().then(|| CallError {
                kind: CallErrorKind::AccessDenied,
                status: Some(403),
                message: "no access".into(),
            }),
            started_at: String::new(),
            criterion: None,
        }
    }

    #[test]
    fn prompt_shows_scale_reference_and_reply() {
        let prompt = judge_prompt(&spec(1), &example(), "Hello there");
        assert!(prompt.contains("1: rude\n2: neutral\n3: warm\n"));
        assert!(prompt.contains("<reference_reply>\nHi, recalibrate it.\n</reference_reply>"));
        assert!(prompt.contains("<reply>\nHello there\n</reply>"));
        assert!(prompt.contains("integer from 1 to 3"));
        let mut hidden = spec(1);
        hidden.sees_reference = false;
        assert!(!judge_prompt(&hidden, &example(), "x").contains("reference"));
    }

    #[test]
    fn verdicts_are_parsed_strictly() {
        let s = spec(1);
        assert_eq!(
            parse_verdict(" {\"score\": 2, \"reason\": \"fine\"}\n", &s),
            Ok(Verdict {
                score: 2,
                reason: "fine".into()
            })
        );
        for bad in [
            "Score: 2",
            "```json\n{\"score\": 2, \"reason\": \"fine\"}\n```",
            "{\"score\": 2.5, \"reason\": \"x\"}",
            "{\"score\": \"2\", \"reason\": \"x\"}",
            "{\"score\": 4, \"reason\": \"x\"}",
            "{\"score\": 2}",
            "{\"score\": 2, \"reason\": \"  \"}",
            "{\"score\": 2, \"reason\": \"x\", \"confidence\": 1}",
            "{\"score\": 2, \"reason\": \"x\"",
        ] {
            assert!(parse_verdict(bad, &s).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn a_malformed_verdict_is_asked_again_then_recorded_as_an_error() {
        let (j, s, e) = (judge(), spec(1), example());
        let first = judge_request(&j, &s, &e, "reply", &[]);
        let first_fp = RequestFingerprint::of(&first, 0);
        let records = [record(first_fp.clone(), Some("I'd say 3."))];
        let lookup = |fp: &RequestFingerprint| records.iter().find(|r| &r.fingerprint == fp);
        let SampleState::Pending(reask, reask_fp) = resolve_sample(&j, &s, &e, "reply", 0, &lookup) else {
            panic!("expected a re-ask");
        };
        assert_ne!(reask_fp, first_fp);
        assert_eq!(reask.messages.len(), 3);
        assert_eq!(reask.messages[1].text, "I'd say 3.");
        assert!(reask.messages[2]
            .text
            .starts_with("That answer could not be used: the answer is not a lone JSON"));

        let mut records = records.to_vec();
        records.push(record(reask_fp.clone(), Some("still 3")));
        let lookup = |fp: &RequestFingerprint| records.iter().find(|r| &r.fingerprint == fp);
        let state = resolve_sample(&j, &s, &e, "reply", 0, &lookup);
        assert!(
            matches!(&state, SampleState::Failed(m) if m.starts_with("malformed verdict after 2 asks")),
            "{state:?}"
        );
        assert!(criterion_outcome(&j, &s, &e, "reply", &lookup).is_err());

        records.pop();
        records.push(record(reask_fp, Some("{\"score\": 3, \"reason\": \"warm\"}")));
        let lookup = |fp: &RequestFingerprint| records.iter().find(|r| &r.fingerprint == fp);
        assert_eq!(
            criterion_outcome(&j, &s, &e, "reply", &lookup),
            Ok(Judged {
                level: 3.0,
                reasons: vec!["warm".into()]
            })
        );
    }

    #[test]
    fn samples_take_the_median_and_a_failed_call_is_an_error() {
        let (j, s, e) = (judge(), spec(4), example());
        let answers = [3, 1, 3, 2];
        let records: Vec<Record> = answers
            .iter()
            .enumerate()
            .map(|(sample, level)| {
                let request = judge_request(&j, &s, &e, "reply", &[]);
                record(
                    RequestFingerprint::of(&request, sample as u32),
                    Some(&format!("{{\"score\": {level}, \"reason\": \"r{sample}\"}}")),
                )
            })
            .collect();
        let lookup = |fp: &RequestFingerprint| records.iter().find(|r| &r.fingerprint == fp);
        let judged = criterion_outcome(&j, &s, &e, "reply", &lookup).unwrap();
        assert_eq!(judged.level, 2.5);
        assert_eq!(judged.reasons, ["r0", "r1", "r2", "r3"]);

        let mut failed = records.clone();
        failed[2] = record(failed[2].fingerprint.clone(), None);
        let lookup = |fp: &RequestFingerprint| failed.iter().find(|r| &r.fingerprint == fp);
        let error = criterion_outcome(&j, &s, &e, "reply", &lookup).unwrap_err();
        assert!(error.contains("access_denied (403)"), "{error}");

        let lookup = |_: &RequestFingerprint| None;
        assert!(criterion_outcome(&j, &s, &e, "reply", &lookup)
            .unwrap_err()
            .starts_with("not judged"));
    }

    #[test]
    fn the_request_changes_with_the_output_and_the_rubric() {
        let (j, s, e) = (judge(), spec(1), example());
        let base = RequestFingerprint::of(&judge_request(&j, &s, &e, "reply", &[]), 0);
        assert_eq!(
            base,
            RequestFingerprint::of(&judge_request(&j, &s, &e, "reply", &[]), 0)
        );
        assert_ne!(
            base,
            RequestFingerprint::of(&judge_request(&j, &s, &e, "other reply", &[]), 0)
        );
        let mut edited = spec(1);
        edited.instructions.push_str(" Be harsh.");
        assert_ne!(
            base,
            RequestFingerprint::of(&judge_request(&j, &edited, &e, "reply", &[]), 0)
        );
        assert_ne!(
            base,
            RequestFingerprint::of(&judge_request(&j, &s, &e, "reply", &[]), 1)
        );
    }
}
