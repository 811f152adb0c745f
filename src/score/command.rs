//! The `command` criterion: what the user's scorer is given, how its answer is read, and how a reply's earlier call
//! is found again.
//!
//! A call is a pure function of the criterion, the example and the reply (the JSON document on the program's stdin)
//! and of the program's own files, so its fingerprint identifies it: re-scoring finds every call whose input and
//! program did not change, and runs only the rest. The calls themselves run in `run::command_scoring`, and are kept
//! in the run folder's `commands.jsonl` in the same record shape as model calls (the program's stdout as the output).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rubric::CommandCheck;
use crate::dataset::Example;
use crate::run::plan::RequestFingerprint;
use crate::run::records::{Record, RecordStatus};

/// What a scorer answered: a score in [0, 1] and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandVerdict {
    /// The score.
    pub score: f64,
    /// The reason given (empty when none).
    pub reason: String,
}

/// A `command` criterion's outcome for one reply: the verdict, or why there is none.
pub type CommandOutcome = Result<CommandVerdict, String>;

/// The JSON document the program reads on stdin.
#[derive(Debug, Serialize)]
struct CommandInput<'a> {
    criterion: &'a str,
    reply: &'a str,
    example: ExampleView<'a>,
    params: &'a serde_json::Value,
}

#[derive(Debug, Serialize)]
struct ExampleView<'a> {
    id: &'a str,
    input: &'a str,
    reference: Option<&'a str>,
    fields: &'a crate::dataset::Fields,
}

/// The bytes written to the program's stdin for `output`, the reply to `example`: one JSON document with the
/// criterion's id, the reply, the example (id, input, reference, fields) and the criterion's `params`.
pub fn command_input(criterion: &str, check: &CommandCheck, example: &Example, output: &str) -> Vec<u8> {
    let input = CommandInput {
        criterion,
        reply: output,
        example: ExampleView {
            id: &example.id,
            input: &example.input,
            reference: example.reference.as_deref(),
            fields: &example.fields,
        },
        params: &check.params,
    };
    // Serialising plain strings and JSON values cannot fail.
    serde_json::to_vec(&input).unwrap_or_default()
}

/// The fingerprint of one call: SHA-256 over the argv, the program files' hash and the input document.
pub fn command_fingerprint(check: &CommandCheck, input: &[u8]) -> RequestFingerprint {
    let mut hasher = Sha256::new();
    hasher.update(b"bedrock-eval command v1\0");
    for arg in &check.argv {
        hasher.update((arg.len() as u64).to_le_bytes());
        hasher.update(arg.as_bytes());
    }
    hasher.update(check.program_sha256.as_bytes());
    hasher.update((input.len() as u64).to_le_bytes());
    hasher.update(input);
    RequestFingerprint(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads a scorer's stdout: one JSON object (surrounding white space aside) with a number `score` in [0, 1] and,
/// optionally, a string `reason`; other keys are ignored.
pub fn parse_command_output(stdout: &str) -> Result<CommandVerdict, String> {
    let shown: String = stdout.trim().chars().take(120).collect();
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|_| {
        format!("the scorer printed `{shown}`, not one JSON object like {{\"score\": 0.5, \"reason\": \"…\"}}")
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("the scorer printed `{shown}`, not a JSON object with a `score`"))?;
    let score = match object.get("score") {
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(other) => return Err(format!("`score` must be a number from 0 to 1, got {other}")),
        None => return Err("the scorer's JSON has no `score`".to_string()),
    };
    if !(0.0..=1.0).contains(&score) {
        return Err(format!("`score` must be from 0 to 1, got {score}"));
    }
    let reason = match object.get("reason") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(reason)) => reason.clone(),
        Some(other) => return Err(format!("`reason` must be a string, got {other}")),
    };
    Ok(CommandVerdict { score, reason })
}

/// The outcome of a reply's call, found by its fingerprint among the recorded calls (`lookup`): the verdict, the
/// recorded failure (crash, timeout, garbage output), or "not scored" when the call was never made.
pub fn command_outcome<'r>(
    criterion: &str,
    check: &CommandCheck,
    example: &Example,
    output: &str,
    lookup: &dyn Fn(&RequestFingerprint) -> Option<&'r Record>,
) -> CommandOutcome {
    let input = command_input(criterion, check, example, output);
    let Some(record) = lookup(&command_fingerprint(check, &input)) else {
        return Err("not scored: the scorer has not been run on this reply (run `bedrock-eval score RUN_DIR`)".into());
    };
    match (record.status, &record.output) {
        (RecordStatus::Ok, Some(stdout)) => parse_command_output(stdout),
        _ => Err(record
            .error
            .as_ref()
            .map_or_else(|| "the scorer failed".to_string(), |e| e.message.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_read_strictly_but_reason_is_optional() {
        assert_eq!(
            parse_command_output(" {\"score\": 0.5, \"reason\": \"half\", \"extra\": 1}\n"),
            Ok(CommandVerdict {
                score: 0.5,
                reason: "half".into()
            })
        );
        assert_eq!(parse_command_output("{\"score\": 1}").map(|v| v.score), Ok(1.0));
        for bad in [
            "",
            "0.5",
            "[0.5]",
            "{\"score\": \"0.5\"}",
            "{\"score\": 1.5}",
            "{\"score\": -0.1}",
            "{\"reason\": \"no score\"}",
            "{\"score\": 0.5, \"reason\": 3}",
            "score: 0.5",
            "{\"score\": 0.5}\n{\"score\": 0.7}",
        ] {
            assert!(parse_command_output(bad).is_err(), "accepted {bad:?}");
        }
    }
}
