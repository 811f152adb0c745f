//! The `command` criteria's stage: the user's program run once per recorded reply, into `commands.jsonl`.
//!
//! It runs after generation (and judging), outside the model-call executor: no rate limits, but each criterion's
//! own concurrency cap and per-call timeout. A call is identified by a fingerprint of its input document and the
//! program's files (`score::command`), so a call whose input and program did not change is never run twice —
//! resuming, re-scoring with `bedrock-eval score`, or rebuilding reports. A crash, a timeout, output that is too
//! long: each is recorded as a failed call, which scoring turns into a criterion error (never a zero); output that
//! is not the expected JSON is recorded as it is and becomes a criterion error when read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::judging::{replies, Reply};
use super::plan::RequestFingerprint;
use super::progress::Progress;
use super::recorded::{OnceKeys, RecordedIndex};
use super::records::{Record, RecordStatus, RecordWriter};
use crate::dataset::Example;
use crate::provider::{CallError, CallErrorKind};
use crate::score::command::{command_fingerprint, command_input};
use crate::score::rubric::CommandCheck;
use crate::score::Rubric;
use crate::suite::Suite;

/// The scorer calls of a run directory.
pub const COMMANDS_FILE: &str = "commands.jsonl";

/// Most bytes of stdout read from a scorer: it should print one small JSON object.
pub const MAX_STDOUT_BYTES: usize = 64 * 1024;

/// Most bytes of stderr kept for an error message (the rest is read and dropped, so the program never blocks).
const KEPT_STDERR_BYTES: usize = 2 * 1024;

/// What the scorer stage did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandScoringSummary {
    /// Calls made by this invocation.
    pub calls: usize,
    /// Of which failed (crash, timeout, too much output).
    pub failed: usize,
    /// Calls needed that were already recorded (reused).
    pub reused: usize,
    /// Whether an interrupt stopped it.
    pub interrupted: bool,
}

/// One call still to make.
struct PendingCall {
    fingerprint: RequestFingerprint,
    input: Vec<u8>,
    criterion: String,
    example_id: String,
    config: String,
    repeat: u32,
}

/// The call `check` needs for `reply`: `Ok` with the call when it is not recorded yet (or, with `retry_errors`, its
/// latest record is an error), `Err(())` when it is recorded.
fn call_for(
    criterion: &str,
    check: &CommandCheck,
    reply: &Reply,
    recorded: &RecordedIndex,
    retry_errors: bool,
) -> Result<PendingCall, ()> {
    let input = command_input(criterion, check, reply.example, reply.output());
    let fingerprint = command_fingerprint(check, &input);
    let done = recorded
        .latest(&fingerprint)
        .is_some_and(|latest| !(retry_errors && latest.failed()));
    if done {
        return Err(());
    }
    Ok(PendingCall {
        fingerprint,
        input,
        criterion: criterion.to_string(),
        example_id: reply.record.example_id.clone(),
        config: reply.record.config.clone(),
        repeat: reply.record.repeat,
    })
}

/// Runs every `command` criterion of `rubric` on every reply recorded in `run_dir` that has no call recorded yet,
/// appending each call to `commands.jsonl`. With `retry_errors`, failed calls are made again.
///
/// Per criterion, the replies are read twice as a stream: once to gather the keys of the calls still needed (each
/// distinct input once), once to rebuild those calls as they are started. No reply is held beyond the calls in
/// flight.
pub async fn score_with_commands(
    suite: &Suite,
    rubric: &Rubric,
    run_dir: &Path,
    retry_errors: bool,
    interrupts: &mut mpsc::Receiver<()>,
) -> anyhow::Result<CommandScoringSummary> {
    let mut summary = CommandScoringSummary::default();
    if rubric.command_criteria().next().is_none() {
        return Ok(summary);
    }
    let records_path = run_dir.join(super::RECORDS_FILE);
    let generation = RecordedIndex::read(&records_path)?;
    let examples: HashMap<&str, &Example> = suite.held_out.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    let path = run_dir.join(COMMANDS_FILE);
    let recorded = RecordedIndex::read(&path)?;
    let mut writer = RecordWriter::open(&path)?;
    for criterion in rubric.command_criteria() {
        let Some(check) = criterion.command() else { continue };
        let mut keys = Vec::new();
        for reply in replies(&records_path, &generation, &examples)? {
            match call_for(&criterion.id, check, &reply?, &recorded, retry_errors) {
                Ok(call) => keys.extend(call.fingerprint.key()),
                Err(()) => summary.reused += 1,
            }
        }
        let mut once = OnceKeys::new(keys);
        if once.is_empty() {
            continue;
        }
        let mut progress = Progress::new(once.len(), 0).counting("scorer calls");
        let failure = RefCell::new(None);
        let pending = replies(&records_path, &generation, &examples)?
            .map_while(|reply| {
                reply
                    .map_err(|e| {
                        failure.borrow_mut().get_or_insert(e);
                    })
                    .ok()
            })
            .filter_map(|reply| call_for(&criterion.id, check, &reply, &recorded, retry_errors).ok())
            .filter(|call| once.take(&call.fingerprint));
        let mut results = stream::iter(pending)
            .map(|call| async move {
                let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let clock = Instant::now();
                let outcome = run_program(check, &call.input).await;
                call_record(call, outcome, clock.elapsed(), started_at)
            })
            .buffer_unordered(check.concurrency);
        loop {
            tokio::select! {
                next = results.next() => {
                    let Some(record) = next else { break };
                    progress.record(&record);
                    writer.append(&record)?;
                    summary.calls += 1;
                    summary.failed += usize::from(record.status == RecordStatus::Error);
                }
                Some(()) = interrupts.recv() => {
                    // Dropping the stream drops the calls in flight, which kills their programs.
                    summary.interrupted = true;
                    break;
                }
            }
        }
        drop(results);
        progress.finish();
        if let Some(error) = failure.into_inner() {
            return Err(error.into());
        }
        if summary.interrupted {
            break;
        }
    }
    Ok(summary)
}

/// The record of one call: the program's stdout as the output, or the failure.
fn call_record(call: PendingCall, outcome: Result<String, CallError>, elapsed: Duration, started_at: String) -> Record {
    let (status, output, error) = match outcome {
        Ok(stdout) => (RecordStatus::Ok, Some(stdout), None),
        Err(error) => (RecordStatus::Error, None, Some(error)),
    };
    Record {
        example_id: call.example_id,
        config: call.config,
        repeat: call.repeat,
        fingerprint: call.fingerprint,
        model: "command".to_string(),
        status,
        output,
        stop_reason: None,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_write_input_tokens: 0,
        latency_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        service_latency_ms: None,
        attempts: 1,
        retried: Vec::new(),
        error,
        started_at,
        criterion: Some(call.criterion),
    }
}

fn failure(kind: CallErrorKind, message: String) -> CallError {
    CallError {
        kind,
        status: None,
        message,
    }
}

/// Reads `reader` to its end, keeping at most `keep` bytes; `Err` with the bytes kept once more than `limit` have
/// come (when `limit` is set).
async fn read_capped<R: AsyncRead + Unpin>(
    reader: Option<R>,
    keep: usize,
    limit: Option<usize>,
) -> Result<Vec<u8>, ()> {
    let Some(mut reader) = reader else {
        return Ok(Vec::new());
    };
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buffer = [0u8; 8192];
    loop {
        let n = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return Ok(kept),
            Ok(n) => n,
        };
        total += n;
        if limit.is_some_and(|l| total > l) {
            return Err(());
        }
        let room = keep.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
}

/// Runs the program once with `input` on stdin (no shell), within the criterion's timeout: its stdout, or why
/// there is none. A program still running at the timeout, or printing more than [`MAX_STDOUT_BYTES`], is killed.
async fn run_program(check: &CommandCheck, input: &[u8]) -> Result<String, CallError> {
    let program = &check.argv[0];
    let mut child = tokio::process::Command::new(program)
        .args(&check.argv[1..])
        .current_dir(&check.working_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            failure(
                CallErrorKind::Other,
                format!("cannot start the scorer `{program}`: {e}"),
            )
        })?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let write = async move {
        if let Some(mut stdin) = stdin {
            // A program that does not read its input closes the pipe early; that is not an error in itself.
            let _ = stdin.write_all(input).await;
        }
        Ok::<(), ()>(())
    };
    let read_stderr = async { read_capped(stderr, KEPT_STDERR_BYTES, None).await };
    let interaction = async {
        let ((), out, err) = tokio::try_join!(
            write,
            read_capped(stdout, MAX_STDOUT_BYTES, Some(MAX_STDOUT_BYTES)),
            read_stderr
        )?;
        Ok::<_, ()>((out, err, child.wait().await))
    };
    let timeout = Duration::from_millis(check.timeout_ms);
    let finished = tokio::time::timeout(timeout, interaction).await;
    let (stdout, stderr, status) = match finished {
        Ok(Ok(done)) => done,
        Ok(Err(())) => {
            stop(&mut child).await;
            return Err(failure(
                CallErrorKind::MalformedResponse,
                format!("the scorer printed more than {MAX_STDOUT_BYTES} bytes; it should print one JSON object"),
            ));
        }
        Err(_) => {
            stop(&mut child).await;
            return Err(failure(
                CallErrorKind::Timeout,
                format!(
                    "the scorer did not finish within {} ms (`timeout_ms`) and was stopped",
                    check.timeout_ms
                ),
            ));
        }
    };
    let status = status.map_err(|e| failure(CallErrorKind::Other, format!("cannot wait for the scorer: {e}")))?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let last_lines: Vec<&str> = stderr
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(failure(
            CallErrorKind::Other,
            format!(
                "the scorer failed ({status}){}",
                match last_lines.is_empty() {
                    true => String::new(),
                    false => format!(": {}", last_lines.join(" / ")),
                }
            ),
        ));
    }
    String::from_utf8(stdout).map_err(|_| {
        failure(
            CallErrorKind::MalformedResponse,
            "the scorer's output is not UTF-8".into(),
        )
    })
}

/// Kills the program we started (by its process id) and reaps it.
async fn stop(child: &mut tokio::process::Child) {
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
}
