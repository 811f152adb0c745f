//! The concurrent executor: planned requests in, one record per request out, under a bound on calls in flight,
//! per-model rate limits and a bounded retry policy.
//!
//! It only produces records; the caller writes them and shows progress (see `run::execute_suite`). An interrupt
//! stops dispatching and lets calls in flight finish; a second one abandons them.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// Records produced (ok or error).
    pub recorded: usize,
    /// Requests never dispatched because of an interrupt.
    pub not_started: usize,
    /// Calls in flight when a second interrupt abandoned them.
    pub abandoned: usize,
    /// Whether an interrupt stopped dispatching.
    pub interrupted: bool,
}

/// Runs `requests` and hands each record to `on_record` as soon as it is complete.
///
/// `interrupts` receives one message per Ctrl-C (or equivalent): the first stops dispatching, the second abandons
/// the calls in flight.
pub async fn execute<F>(
    requests: Vec<PlannedRequest>,
    provider: &dyn Provider,
    limiters: &Limiters,
    concurrency: usize,
    retry: &RetrySection,
    interrupts: &mut mpsc::Receiver<()>,
    mut on_record: F,
) -> std::io::Result<ExecutionSummary>
where
    F: FnMut(Record, usize) -> std::io::Result<()>,
{
    let total = requests.len();
    let (stop, stopped) = watch::channel(false);
    let dispatched = std::cell::Cell::new(0usize);
    let calls = futures::stream::iter(requests)
        .take_while(|_| futures::future::ready(!*stopped.borrow()))
        .map(|planned| {
            dispatched.set(dispatched.get() + 1);
            call_with_retries(planned, provider, limiters, retry)
        })
        .buffer_unordered(concurrency.max(1));
    tokio::pin!(calls);
    let mut summary = ExecutionSummary::default();
    let mut interrupts_open = true;
    loop {
        tokio::select! {
            next = calls.next() => match next {
                Some(record) => {
                    summary.recorded += 1;
                    on_record(record, summary.recorded)?;
                }
                None => break,
            },
            signal = interrupts.recv(), if interrupts_open => match signal {
                None => interrupts_open = false,
                Some(()) if !summary.interrupted => {
                    summary.interrupted = true;
                    let _ = stop.send(true);
                    eprintln!("\ninterrupted: no new calls will start; waiting for the calls in flight (Ctrl-C again to abandon them)");
                }
                Some(()) => {
                    eprintln!("\nabandoning the calls in flight");
                    summary.abandoned = dispatched.get() - summary.recorded;
                    break;
                }
            },
        }
    }
    summary.not_started = total - dispatched.get();
    Ok(summary)
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
) -> Record {
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
            Some(limiter) => match limiter.admit(estimate).await {
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
                    return error_record(planned, started_at, attempts, 0, retried, error);
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
                return Record {
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
                    latency_ms,
                    service_latency_ms: completion.service_latency_ms,
                    attempts,
                    retried,
                    error: None,
                    started_at,
                    criterion: planned.criterion,
                }
            }
            Err(error) if error.kind.is_retryable() && attempts < retry.max_attempts => {
                tokio::time::sleep(backoff(retry, attempts, &mut rng)).await;
                retried.push(error.redacted());
            }
            Err(error) => return error_record(planned, started_at, attempts, latency_ms, retried, error.redacted()),
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
