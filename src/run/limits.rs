//! Per-model rate limits: requests per minute and tokens per minute, with governor's GCRA limiters.
//!
//! Tokens are estimated before a call and reconciled with the usage the service reports after it: a shortfall is
//! paid from the limiter, a surplus is kept as credit against the next calls. Limits are applied with a little
//! headroom (`HEADROOM`) so that clock skew and network jitter do not push a sliding-window quota over.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::suite::schema::ModelLimits;

/// Fraction of a stated limit the harness aims for.
pub const HEADROOM: f64 = 0.98;

/// The limiters of one model.
pub struct ModelLimiter {
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<TokenLimiter>,
}

struct TokenLimiter {
    limiter: DefaultDirectRateLimiter,
    burst: u32,
    /// Tokens paid for but not used (estimates above actual usage).
    credit: Mutex<u64>,
}

/// A request's token reservation, to be reconciled once its usage is known.
#[derive(Debug, Clone, Copy)]
pub struct Reservation {
    estimated_tokens: u64,
}

/// Why a request cannot be admitted at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// The estimate.
    pub estimated_tokens: u64,
    /// The most one request may use under the limit.
    pub burst: u32,
}

impl ModelLimiter {
    /// Limiters for `limits` (none when a limit is absent).
    pub fn new(limits: &ModelLimits) -> Self {
        let requests = limits.requests_per_minute.map(|rpm| {
            let per_minute = (f64::from(rpm) * HEADROOM).max(1.0);
            let period = Duration::from_secs_f64(60.0 / per_minute);
            // Burst of one: requests are spaced evenly, so no 60-second window ever holds more than the limit.
            RateLimiter::direct(Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)))
        });
        let tokens = limits.tokens_per_minute.map(|tpm| {
            // A burst of a tenth of a minute's tokens; the steady rate is reduced by it so a full burst plus a
            // minute of steady flow stays under the limit.
            let burst = u32::try_from((tpm / 10).max(1)).unwrap_or(u32::MAX);
            let per_minute = (tpm as f64 * HEADROOM - f64::from(burst)).max(1.0);
            let period = Duration::from_secs_f64(60.0 / per_minute);
            let quota = Quota::with_period(period)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
            TokenLimiter {
                limiter: RateLimiter::direct(quota),
                burst,
                credit: Mutex::new(0),
            }
        });
        ModelLimiter { requests, tokens }
    }

    /// Waits until one request with about `estimated_tokens` may start.
    pub async fn admit(&self, estimated_tokens: u64) -> Result<Reservation, TooLarge> {
        if let Some(tokens) = &self.tokens {
            let from_credit = {
                let mut credit = tokens.credit.lock().unwrap_or_else(|e| e.into_inner());
                let used = (*credit).min(estimated_tokens);
                *credit -= used;
                used
            };
            tokens.take(estimated_tokens - from_credit).await?;
        }
        if let Some(requests) = &self.requests {
            requests.until_ready().await;
        }
        Ok(Reservation { estimated_tokens })
    }

    /// Settles a reservation with the tokens the service reported.
    pub async fn reconcile(&self, reservation: Reservation, actual_tokens: u64) {
        let Some(tokens) = &self.tokens else { return };
        if actual_tokens > reservation.estimated_tokens {
            // Paying the shortfall may exceed one burst for a huge reply; pay what fits in bursts.
            let mut owed = actual_tokens - reservation.estimated_tokens;
            while owed > 0 {
                let part = owed.min(u64::from(tokens.burst));
                if tokens.take(part).await.is_err() {
                    break;
                }
                owed -= part;
            }
        } else {
            let mut credit = tokens.credit.lock().unwrap_or_else(|e| e.into_inner());
            *credit += reservation.estimated_tokens - actual_tokens;
        }
    }
}

impl TokenLimiter {
    async fn take(&self, tokens: u64) -> Result<(), TooLarge> {
        let Some(n) = u32::try_from(tokens).ok().and_then(NonZeroU32::new) else {
            return if tokens == 0 {
                Ok(())
            } else {
                Err(TooLarge {
                    estimated_tokens: tokens,
                    burst: self.burst,
                })
            };
        };
        self.limiter.until_n_ready(n).await.map_err(|_| TooLarge {
            estimated_tokens: tokens,
            burst: self.burst,
        })
    }
}

/// The limiters of every model that has limits.
#[derive(Default)]
pub struct Limiters {
    by_model: HashMap<String, ModelLimiter>,
}

impl Limiters {
    /// Builds limiters from the suite's `limits`.
    pub fn new<'a>(limits: impl IntoIterator<Item = (&'a String, &'a ModelLimits)>) -> Self {
        Limiters {
            by_model: limits
                .into_iter()
                .map(|(model, limits)| (model.clone(), ModelLimiter::new(limits)))
                .collect(),
        }
    }

    /// The limiter of `model`, if it has limits.
    pub fn get(&self, model: &str) -> Option<&ModelLimiter> {
        self.by_model.get(model)
    }
}

/// Estimated tokens of a text: about four characters per token, and never fewer than one per word.
pub fn estimate_tokens(text: &str) -> u64 {
    let by_chars = text.chars().count().div_ceil(4);
    let words = text.split_whitespace().count();
    by_chars.max(words) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn requests_are_spaced_evenly() {
        let limiter = ModelLimiter::new(&ModelLimits {
            requests_per_minute: Some(6000),
            tokens_per_minute: None,
        });
        let start = Instant::now();
        for _ in 0..11 {
            limiter.admit(1).await.unwrap();
        }
        // 10 gaps of 60/5880 s each ≈ 102 ms: the limiter must not burst them all at once.
        assert!(start.elapsed() >= Duration::from_millis(95), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn a_request_larger_than_the_burst_is_refused() {
        let limiter = ModelLimiter::new(&ModelLimits {
            requests_per_minute: None,
            tokens_per_minute: Some(1000),
        });
        assert_eq!(
            limiter.admit(5000).await.unwrap_err(),
            TooLarge {
                estimated_tokens: 5000,
                burst: 100
            }
        );
    }

    #[tokio::test]
    async fn surplus_becomes_credit() {
        let limiter = ModelLimiter::new(&ModelLimits {
            requests_per_minute: None,
            tokens_per_minute: Some(1000),
        });
        let reservation = limiter.admit(100).await.unwrap();
        limiter.reconcile(reservation, 40).await;
        // 60 tokens of credit: the next 60-token request is admitted at once, from credit alone.
        let start = Instant::now();
        limiter.admit(60).await.unwrap();
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn token_estimate_counts_characters_and_words() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcdefgh"), 2);
        assert_eq!(estimate_tokens("a b c d e"), 5);
    }
}
