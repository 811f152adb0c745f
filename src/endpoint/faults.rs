//! Fault injection: which requests get an error, a delay or a broken body (drawn from the seed and the request's
//! arrival number), and the per-model quota enforced over a sliding minute.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::wire::ErrorKind;
use super::EndpointError;

/// Faults to inject; the default injects none.
///
/// Rates are fractions of requests in [0, 1]. Each request draws every fault independently from a generator seeded
/// by the endpoint seed and the request's arrival number, so turning one fault on does not move the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Delay before every answer, in milliseconds.
    pub latency_ms: u64,
    /// Extra delay drawn uniformly from [0, jitter_ms] for each answer.
    pub jitter_ms: u64,
    /// Fraction of requests answered 429 `ThrottlingException`, whatever the quota.
    pub throttle_rate: f64,
    /// Requests per minute each model accepts (sliding 60-second window); more get `ThrottlingException`.
    pub quota_rpm: Option<u32>,
    /// Tokens (input + output) per minute each model accepts (sliding 60-second window).
    pub quota_tpm: Option<u64>,
    /// Fraction of requests answered 500 `InternalServerException` or 503 `ServiceUnavailableException` (half each).
    pub server_error_rate: f64,
    /// Fraction of requests delayed by a further `slow_ms` (to trigger client timeouts).
    pub slow_rate: f64,
    /// The extra delay of a slow request, in milliseconds.
    pub slow_ms: u64,
    /// Fraction of requests answered 200 with a truncated, invalid JSON body.
    pub malformed_rate: f64,
    /// Fraction of requests answered 408 `ModelTimeoutException`.
    pub model_timeout_rate: f64,
    /// Fraction of requests answered 424 `ModelErrorException`.
    pub model_error_rate: f64,
    /// Fraction of requests answered 429 `ModelNotReadyException`.
    pub model_not_ready_rate: f64,
    /// Fraction of judge (grading) requests answered 200 with a well-formed body whose verdict text is malformed
    /// (prose, a fenced block, an off-scale level, a missing field).
    pub malformed_verdict_rate: f64,
}

/// What the faults do to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Refuse it with `ThrottlingException` (rate-based throttling).
    pub throttle: bool,
    /// Answer it with this error (after throttling and the quota had their say).
    pub error: Option<ErrorKind>,
    /// Total delay before answering, in milliseconds (latency, jitter, and the slow delay if any).
    pub delay_ms: u64,
    /// Whether the slow delay applies.
    pub slow: bool,
    /// Break the body: cut it at this fraction of its length.
    pub malformed_cut: Option<f64>,
    /// For a grading request: answer with a malformed verdict.
    pub malformed_verdict: bool,
}

impl Faults {
    /// Checks that every rate is a fraction in [0, 1].
    pub fn validate(&self) -> Result<(), EndpointError> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("slow_rate", self.slow_rate),
            ("malformed_rate", self.malformed_rate),
            ("model_timeout_rate", self.model_timeout_rate),
            ("model_error_rate", self.model_error_rate),
            ("model_not_ready_rate", self.model_not_ready_rate),
            ("malformed_verdict_rate", self.malformed_verdict_rate),
        ];
        for (field, value) in rates {
            if !(0.0..=1.0).contains(&value) {
                return Err(EndpointError::InvalidOption {
                    field: format!("faults.{field}"),
                    message: format!("{value} is not a fraction between 0 and 1"),
                });
            }
        }
        if self.quota_rpm == Some(0) || self.quota_tpm == Some(0) {
            return Err(EndpointError::InvalidOption {
                field: "faults.quota_rpm / faults.quota_tpm".to_string(),
                message: "a quota of 0 would refuse every request; leave it out for no quota".to_string(),
            });
        }
        Ok(())
    }

    /// The faults for the request that arrived `sequence`-th (from 0) at an endpoint seeded with `seed`.
    pub fn plan(&self, seed: u64, sequence: u64) -> FaultPlan {
        let mut hasher = Sha256::new();
        hasher.update(b"bedrock-eval endpoint faults v1\0");
        hasher.update(seed.to_le_bytes());
        hasher.update(sequence.to_le_bytes());
        let mut rng = ChaCha20Rng::from_seed(hasher.finalize().into());
        // Always draw every number, in this order, so each fault depends on its own draw only.
        let mut draw = || rng.random::<f64>();
        let (throttle, server, server_kind, timeout, model_error, not_ready) =
            (draw(), draw(), draw(), draw(), draw(), draw());
        let (slow, malformed, cut, jitter) = (draw(), draw(), draw(), draw());
        let verdict = draw();

        let error = if server < self.server_error_rate {
            Some(if server_kind < 0.5 {
                ErrorKind::InternalServer
            } else {
                ErrorKind::ServiceUnavailable
            })
        } else if not_ready < self.model_not_ready_rate {
            Some(ErrorKind::ModelNotReady)
        } else if timeout < self.model_timeout_rate {
            Some(ErrorKind::ModelTimeout)
        } else if model_error < self.model_error_rate {
            Some(ErrorKind::ModelError)
        } else {
            None
        };
        let slow = slow < self.slow_rate;
        let jitter_ms = (jitter * (self.jitter_ms as f64 + 1.0)).floor() as u64;
        let delay_ms = self
            .latency_ms
            .saturating_add(jitter_ms.min(self.jitter_ms))
            .saturating_add(if slow { self.slow_ms } else { 0 });
        FaultPlan {
            throttle: throttle < self.throttle_rate,
            error,
            delay_ms,
            slow,
            malformed_cut: (malformed < self.malformed_rate).then_some(0.2 + 0.6 * cut),
            malformed_verdict: verdict < self.malformed_verdict_rate,
        }
    }
}

/// The requests and tokens one model admitted during the last minute.
#[derive(Debug, Clone, Default)]
pub struct QuotaWindow {
    admitted: VecDeque<(Instant, u64)>,
    tokens: u64,
}

impl QuotaWindow {
    /// The window's length.
    pub const WINDOW: Duration = Duration::from_secs(60);

    /// Admits a request of `tokens` at `now` if neither quota would be exceeded, and counts it; a refused request
    /// is not counted.
    pub fn try_admit(&mut self, now: Instant, tokens: u64, rpm: Option<u32>, tpm: Option<u64>) -> bool {
        while let Some(&(at, spent)) = self.admitted.front() {
            if now.saturating_duration_since(at) < Self::WINDOW {
                break;
            }
            self.admitted.pop_front();
            self.tokens -= spent;
        }
        let over_rpm = rpm.is_some_and(|limit| self.admitted.len() >= limit as usize);
        let over_tpm = tpm.is_some_and(|limit| self.tokens.saturating_add(tokens) > limit);
        if over_rpm || over_tpm {
            return false;
        }
        self.admitted.push_back((now, tokens));
        self.tokens += tokens;
        true
    }

    /// Requests admitted in the window as of the last call.
    pub fn requests(&self) -> usize {
        self.admitted.len()
    }

    /// Tokens admitted in the window as of the last call.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn rpm_quota_refuses_the_request_over_the_limit_until_the_oldest_leaves_the_window() {
        let start = Instant::now();
        let mut window = QuotaWindow::default();
        for i in 0..3 {
            assert!(window.try_admit(start + i * SECOND, 10, Some(3), None), "request {i}");
        }
        assert!(!window.try_admit(start + 59 * SECOND, 10, Some(3), None));
        assert_eq!(window.requests(), 3, "a refused request is not counted");
        // The first request (t = 0) leaves the window at t = 60 s exactly.
        assert!(window.try_admit(start + 60 * SECOND, 10, Some(3), None));
        assert!(!window.try_admit(start + 60 * SECOND, 10, Some(3), None));
        assert!(window.try_admit(start + 61 * SECOND, 10, Some(3), None));
    }

    #[test]
    fn tpm_quota_counts_tokens_and_frees_them_after_a_minute() {
        let start = Instant::now();
        let mut window = QuotaWindow::default();
        assert!(window.try_admit(start, 600, None, Some(1000)));
        assert!(!window.try_admit(start + SECOND, 500, None, Some(1000)));
        assert!(
            window.try_admit(start + SECOND, 400, None, Some(1000)),
            "exactly at the limit is allowed"
        );
        assert_eq!(window.tokens(), 1000);
        assert!(!window.try_admit(start + 30 * SECOND, 1, None, Some(1000)));
        assert!(window.try_admit(start + 60 * SECOND, 600, None, Some(1000)));
        assert_eq!(window.tokens(), 1000);
    }

    #[test]
    fn no_faults_plan_nothing() {
        let faults = Faults::default();
        for sequence in 0..200 {
            let plan = faults.plan(1, sequence);
            assert_eq!(
                plan,
                FaultPlan {
                    throttle: false,
                    error: None,
                    delay_ms: 0,
                    slow: false,
                    malformed_cut: None,
                    malformed_verdict: false
                }
            );
        }
    }

    #[test]
    fn rates_are_met_roughly_and_plans_repeat_exactly() {
        let faults = Faults {
            throttle_rate: 0.2,
            server_error_rate: 0.1,
            latency_ms: 5,
            jitter_ms: 10,
            malformed_rate: 0.05,
            ..Faults::default()
        };
        let plans: Vec<FaultPlan> = (0..2000).map(|n| faults.plan(9, n)).collect();
        let again: Vec<FaultPlan> = (0..2000).map(|n| faults.plan(9, n)).collect();
        assert_eq!(plans, again);
        let share = |f: &dyn Fn(&FaultPlan) -> bool| plans.iter().filter(|p| f(p)).count() as f64 / 2000.0;
        assert!((share(&|p| p.throttle) - 0.2).abs() < 0.03);
        assert!((share(&|p| p.error == Some(ErrorKind::InternalServer)) - 0.05).abs() < 0.02);
        assert!((share(&|p| p.error == Some(ErrorKind::ServiceUnavailable)) - 0.05).abs() < 0.02);
        assert!((share(&|p| p.malformed_cut.is_some()) - 0.05).abs() < 0.02);
        assert!(plans.iter().all(|p| (5..=15).contains(&p.delay_ms)));
        assert!(plans.iter().any(|p| p.delay_ms == 5) && plans.iter().any(|p| p.delay_ms == 15));
        assert_ne!(
            plans,
            (0..2000).map(|n| faults.plan(10, n)).collect::<Vec<_>>(),
            "the seed matters"
        );
    }

    #[test]
    fn turning_one_fault_on_does_not_move_another() {
        let throttling = Faults {
            throttle_rate: 0.3,
            ..Faults::default()
        };
        let both = Faults {
            throttle_rate: 0.3,
            server_error_rate: 0.5,
            ..Faults::default()
        };
        for n in 0..500 {
            assert_eq!(throttling.plan(3, n).throttle, both.plan(3, n).throttle);
        }
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let faults = Faults {
            throttle_rate: 1.5,
            ..Faults::default()
        };
        let error = faults.validate().expect_err("1.5 is not a fraction");
        assert!(error.to_string().contains("faults.throttle_rate"), "{error}");
        assert!(Faults {
            slow_rate: f64::NAN,
            ..Faults::default()
        }
        .validate()
        .is_err());
        assert!(Faults {
            quota_rpm: Some(0),
            ..Faults::default()
        }
        .validate()
        .is_err());
        assert!(Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        }
        .validate()
        .is_ok());
    }
}
