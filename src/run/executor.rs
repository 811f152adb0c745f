//! The concurrent executor: planned requests in, one record per request out, under a bound on calls in flight,
//! per-model rate limits and a bounded retry policy.
//!
//! It only produces records; the caller writes them and shows progress (see `run::execute_suite`). An interrupt
//! stops dispatching and lets calls in flight finish their attempt, without retrying them; a second one abandons
//! them.

use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{mpsc, watch};

use super::limits::{estimate_tokens, Limiters};
use super::plan::PlannedRequest;
use super::records::{Record, RecordStatus};
use crate::prompt::stable_hash;
use crate::provider::{CallError, CallErrorKind, ModelRequest, Provider};
use crate::suite::schema::RetrySection;

/// Output tokens assumed for a request before its reply is known (reconciled afterwards).
pub const EXPECTED_OUTPUT_TOKENS: u64 = 256;

/// What happened to a batch of requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// Records produced (ok or error).
    pub recorded: usize,
    /// Requests never sent because the execution stopped early (some were waiting for their rate limit).
    pub not_started: usize,
    /// Calls whose attempt failed in a way worth retrying after the execution stopped: not retried, not recorded,
    /// asked again on resume.
    pub not_retried: usize,
    /// Calls in flight when a second interrupt abandoned them.
    pub abandoned: usize,
    /// Calls that failed in a way that stops the run (credentials, access): not recorded, asked again on resume.
    pub refused: usize,
    /// Why the execution stopped before the end of its requests, if it did.
    pub stop: Option<Stop>,
}

impl ExecutionSummary {
    /// Whether it stopped before the end of its requests.
    pub fn interrupted(&self) -> bool {
        self.stop.is_some()
    }
}

/// Why an execution stopped early. Calls in flight are always waited for (and recorded, unless their attempt fails
/// in a way worth retrying: they are not retried), unless a second interrupt abandons them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// An interrupt (Ctrl-C, SIGTERM).
    Interrupted,
    /// A call failed in a way no other call can escape: credentials missing or refused, access denied.
    Fatal(CallError),
    /// More requests failed than the run's `--max-error-rate` allows, whatever the rest would do.
    TooManyErrors {
        /// Failed requests recorded by this execution.
        errors: usize,
        /// How many it could have recorded and still met the rate.
        allowed: usize,
    },
}

impl Stop {
    /// The stop in a few words, for the line printed when it happens.
    pub fn headline(&self) -> String {
        match self {
            Stop::Interrupted => "interrupted".to_string(),
            Stop::Fatal(error) => format!(
                "stopping: a call failed with `{}`, which no retry escapes",
                error.kind.as_str()
            ),
            Stop::TooManyErrors { errors, .. } => {
                format!("stopping: {errors} requests failed, too many for --max-error-rate")
            }
        }
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Interrupted => write!(f, "interrupted"),
            Stop::Fatal(error) => write!(f, "stopped by a call that cannot succeed: {error}"),
            Stop::TooManyErrors { errors, allowed } => write!(
                f,
                "stopped after {errors} failed requests, more than --max-error-rate allows ({allowed})"
            ),
        }
    }
}

/// How requests are sent: the limits and retry policy, how many at once, and how many may fail.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    /// Per-model rate limiters.
    pub limiters: &'a Limiters,
    /// Most calls in flight.
    pub concurrency: usize,
    /// Attempts, backoff and timeout of each request.
    pub retry: &'a RetrySection,
    /// Failed requests this execution may record before it stops dispatching; `None` for no limit.
    pub max_errors: Option<usize>,
}

/// Runs `requests` (`total` of them, built as they are reached: at most `policy.concurrency` are held at once) and
/// hands each record to `on_record` as soon as it is complete.
///
/// `interrupts` receives one message per Ctrl-C or SIGTERM: the first stops dispatching, the second abandons the
/// calls in flight. Once stopped, for whatever reason, a call waiting for its rate limit is not sent and a call
/// whose attempt failed is not retried: neither is recorded, so a resume asks them again. (Retrying a dead
/// endpoint with backoff kept a stopped run alive for seconds, past a process manager's grace period; a call
/// waiting for a tight rate limit was sent after "no new calls will start".) A fatal failure (see
/// [`CallErrorKind::is_fatal`]) is not recorded and stops dispatching, as does a failed request beyond
/// `policy.max_errors`.
pub async fn execute<F>(
    requests: impl IntoIterator<Item = PlannedRequest>,
    total: usize,
    provider: &dyn Provider,
    policy: Policy<'_>,
    interrupts: &mut mpsc::Receiver<()>,
    mut on_record: F,
) -> std::io::Result<ExecutionSummary>
where
    F: FnMut(Record, usize) -> std::io::Result<()>,
{
    let (stop, stopped) = watch::channel(false);
    let dispatched = std::cell::Cell::new(0usize);
    let calls = futures::stream::iter(requests)
        .take_while(|_| futures::future::ready(!*stopped.borrow()))
        .map(|planned| {
            dispatched.set(dispatched.get() + 1);
            call_with_retries(planned, provider, policy.limiters, policy.retry, stopped.clone())
        })
        .buffer_unordered(policy.concurrency.max(1));
    tokio::pin!(calls);
    let mut summary = ExecutionSummary::default();
    let mut errors = 0usize;
    let mut interrupts_open = true;
    let halt = |summary: &mut ExecutionSummary, why: Stop| {
        if summary.stop.is_none() {
            let _ = stop.send(true);
            eprintln!(
                "\n{}: no new calls will start or be retried; waiting for the calls in flight (Ctrl-C or SIGTERM to \
                 abandon them)",
                why.headline()
            );
            summary.stop = Some(why);
        }
    };
    loop {
        tokio::select! {
            next = calls.next() => match next {
                Some(Err(Unfinished::NotStarted)) => summary.not_started += 1,
                Some(Err(Unfinished::NotRetried)) => summary.not_retried += 1,
                Some(Ok(record)) => match record.error.as_ref().filter(|e| e.kind.is_fatal()) {
                    Some(error) => {
                        summary.refused += 1;
                        halt(&mut summary, Stop::Fatal(error.clone()));
                    }
                    None => {
                        errors += usize::from(record.status == RecordStatus::Error);
                        summary.recorded += 1;
                        on_record(record, summary.recorded)?;
                        if let Some(allowed) = policy.max_errors.filter(|allowed| errors > *allowed) {
                            halt(&mut summary, Stop::TooManyErrors { errors, allowed });
                        }
                    }
                },
                None => break,
            },
            signal = interrupts.recv(), if interrupts_open => match signal {
                None => interrupts_open = false,
                Some(()) if summary.stop.is_none() => halt(&mut summary, Stop::Interrupted),
                Some(()) => {
                    eprintln!("\nabandoning the calls in flight");
                    summary.stop.get_or_insert(Stop::Interrupted);
                    summary.abandoned = dispatched.get()
                        - summary.recorded
                        - summary.refused
                        - summary.not_started
                        - summary.not_retried;
                    break;
                }
            },
        }
    }
    summary.not_started += total.saturating_sub(dispatched.get());
    Ok(summary)
}

/// Why a dispatched request has no record: the execution stopped before it was sent, or before it was retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unfinished {
    NotStarted,
    NotRetried,
}

/// Resolves once the execution has stopped (or its stop can no longer be signalled).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Estimated tokens a request will use: its input, plus an expected reply length capped by `max_tokens`.
pub fn estimate_request_tokens(request: &ModelRequest) -> u64 {
    let input: u64 = request.system.as_deref().map_or(0, estimate_tokens)
        + request
            .messages
            .iter()
            .map(|m| estimate_tokens(&m.text) + 4)
            .sum::<u64>();
    let output = request
        .inference
        .max_tokens
        .map_or(EXPECTED_OUTPUT_TOKENS, |m| u64::from(m).min(EXPECTED_OUTPUT_TOKENS));
    input + output
}

async fn call_with_retries(
    planned: PlannedRequest,
    provider: &dyn Provider,
    limiters: &Limiters,
    retry: &RetrySection,
    mut stopped: watch::Receiver<bool>,
) -> Result<Record, Unfinished> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let limiter = limiters.get(&planned.request.model);
    let estimate = estimate_request_tokens(&planned.request);
    let timeout = Duration::from_millis(retry.timeout_ms);
    let mut rng = ChaCha8Rng::seed_from_u64(stable_hash(&planned.fingerprint.0));
    let mut retried = Vec::new();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let reservation = match limiter {
            Some(limiter) => match tokio::select! {
                biased;
                () = until_stopped(&mut stopped) => {
                    return Err(if attempts == 1 { Unfinished::NotStarted } else { Unfinished::NotRetried });
                }
                admitted = limiter.admit(estimate) => admitted,
            } {
                Ok(reservation) => Some(reservation),
                Err(too_large) => {
                    let error = CallError {
                        kind: CallErrorKind::RequestTooLarge,
                        status: None,
                        message: format!(
                            "request needs about {} tokens, more than the tokens-per-minute limit allows at once ({})",
                            too_large.estimated_tokens, too_large.burst
                        ),
                    };
                    return Ok(error_record(planned, started_at, attempts, 0, retried, error));
                }
            },
            None => None,
        };
        let attempt_start = Instant::now();
        let result = match tokio::time::timeout(timeout, provider.converse(&planned.request)).await {
            Ok(result) => result,
            Err(_) => Err(CallError {
                kind: CallErrorKind::Timeout,
                status: None,
                message: format!("no answer within {} ms", retry.timeout_ms),
            }),
        };
        let latency_ms = u64::try_from(attempt_start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let (Some(limiter), Some(reservation)) = (limiter, reservation) {
            let used = result.as_ref().map_or(0, |c| c.input_tokens + c.output_tokens);
            limiter.reconcile(reservation, used).await;
        }
        match result {
            Ok(completion) => {
                return Ok(Record {
                    example_id: planned.example_id,
                    config: planned.config,
                    repeat: planned.repeat,
                    fingerprint: planned.fingerprint,
                    model: planned.request.model,
                    status: RecordStatus::Ok,
                    output: Some(completion.text),
                    stop_reason: Some(completion.stop_reason),
                    input_tokens: completion.input_tokens,
                    output_tokens: completion.output_tokens,
                    cache_read_input_tokens: completion.cache_read_tokens,
                    cache_write_input_tokens: completion.cache_write_tokens,
                    latency_ms,
                    service_latency_ms: completion.service_latency_ms,
                    attempts,
                    retried,
                    error: None,
                    started_at,
                    criterion: planned.criterion,
                })
            }
            Err(error) if error.kind.is_retryable() && attempts < retry.max_attempts => {
                tokio::select! {
                    biased;
                    () = until_stopped(&mut stopped) => return Err(Unfinished::NotRetried),
                    () = tokio::time::sleep(backoff(retry, attempts, &mut rng)) => {}
                }
                retried.push(error.redacted());
            }
            Err(error) => {
                return Ok(error_record(
                    planned,
                    started_at,
                    attempts,
                    latency_ms,
                    retried,
                    error.redacted(),
                ));
            }
        }
    }
}

/// Exponential backoff with "equal jitter": half the capped exponential delay, plus a random part up to the other
/// half, so retries spread out but never fire at once.
pub fn backoff(retry: &RetrySection, failed_attempts: u32, rng: &mut impl Rng) -> Duration {
    let exponential = retry
        .base_delay_ms
        .saturating_mul(1u64 << failed_attempts.saturating_sub(1).min(30));
    let capped = exponential.min(retry.max_delay_ms);
    let half = capped / 2;
    Duration::from_millis(half + rng.random_range(0..=capped - half))
}

fn error_record(
    planned: PlannedRequest,
    started_at: String,
    attempts: u32,
    latency_ms: u64,
    retried: Vec<CallError>,
    error: CallError,
) -> Record {
    Record {
        example_id: planned.example_id,
        config: planned.config,
        repeat: planned.repeat,
        fingerprint: planned.fingerprint,
        model: planned.request.model,
        status: RecordStatus::Error,
        output: None,
        stop_reason: None,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_write_input_tokens: 0,
        latency_ms,
        service_latency_ms: None,
        attempts,
        retried,
        error: Some(error),
        started_at,
        criterion: planned.criterion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let retry = RetrySection {
            max_attempts: 6,
            base_delay_ms: 100,
            max_delay_ms: 1000,
            timeout_ms: 1000,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (attempt, low, high) in [
            (1, 50, 100),
            (2, 100, 200),
            (3, 200, 400),
            (5, 500, 1000),
            (9, 500, 1000),
        ] {
            let delay = backoff(&retry, attempt, &mut rng).as_millis() as u64;
            assert!((low..=high).contains(&delay), "attempt {attempt}: {delay} ms");
        }
    }
}
