//! The HTTP side: routes, and the path of one Converse request from arrival to answer (validation, model,
//! simulated completion, faults, quota, delay, counting).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::faults::{FaultPlan, QuotaWindow};
use super::model_id::{resolve, ModelTarget};
use super::simulator::judge::{malformed_verdict, GradingTask};
use super::simulator::text::estimate_tokens;
use super::simulator::{self, complete, input_tokens, is_degraded, Completion, FineTunedModel};
use super::stats::{EndpointStats, Outcome};
use super::wire::{
    converse_body, json_response, parse_converse, parse_count_tokens, truncated_body, BedrockError, ErrorKind,
    ParsedConverse, TokenLimits,
};
use super::{EndpointOptions, RejectedKey};

/// Largest request body accepted (long few-shot prompts included).
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Everything the handlers share: options, trained custom models, and the mutable state behind one lock.
pub struct Shared {
    options: EndpointOptions,
    fine_tuned: BTreeMap<String, FineTunedModel>,
    state: Mutex<EndpointState>,
}

/// What changes as requests arrive.
#[derive(Default)]
struct EndpointState {
    /// Requests received so far (the next one's arrival number).
    arrivals: u64,
    /// Successful answers so far per identical request (model id and canonical body), for sampling indices: kept
    /// for requests sampled above temperature 0 only.
    answered: HashMap<[u8; 32], u64>,
    /// Quota windows per model id.
    quotas: HashMap<String, QuotaWindow>,
    /// Connections open now.
    open_connections: u64,
    /// Prompt-cache prefixes written so far.
    cache: super::cache::PromptCache,
    stats: EndpointStats,
}

/// The answer decided for one request, before its delay.
pub(super) enum Reply {
    Answer(Completion),
    Malformed(Completion, f64),
    Refused(BedrockError, Outcome),
}

impl Shared {
    /// Trains the custom models and starts with empty counts.
    pub fn new(options: EndpointOptions) -> Self {
        let fine_tuned = options
            .custom_models
            .iter()
            .map(|(arn, model)| (arn.clone(), FineTunedModel::new(&model.tuned_on)))
            .collect();
        Shared {
            options,
            fine_tuned,
            state: Mutex::new(EndpointState::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, EndpointState> {
        // Counting must go on even if a handler panicked while holding the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A snapshot of the counts.
    pub fn stats(&self) -> EndpointStats {
        self.lock().stats.clone()
    }

    /// Counts a connection accepted.
    pub(super) fn connection_opened(&self) {
        let mut state = self.lock();
        state.open_connections += 1;
        let open = state.open_connections;
        let connections = &mut state.stats.connections;
        connections.accepted += 1;
        connections.peak_open = connections.peak_open.max(open);
    }

    /// Counts a connection closed, and whether the header-read timeout closed it.
    pub(super) fn connection_closed(&self, header_timeout: bool) {
        let mut state = self.lock();
        state.open_connections = state.open_connections.saturating_sub(1);
        state.stats.connections.header_timeouts += u64::from(header_timeout);
    }

    pub(super) fn limits(&self) -> TokenLimits {
        TokenLimits {
            default_max_tokens: self.options.default_max_tokens,
            max_tokens_limit: self.options.max_tokens_limit,
        }
    }

    fn request_id(&self, arrival: u64) -> String {
        let digest = Sha256::new()
            .chain_update(b"request-id")
            .chain_update(self.options.seed.to_le_bytes())
            .chain_update(arrival.to_le_bytes())
            .finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// Decides the answer to one Converse request and counts it; returns the request id, the plan and the reply.
    fn decide(&self, model_id: &str, headers: &HeaderMap, body: &[u8]) -> (String, FaultPlan, Reply) {
        self.decide_with(model_id, |state, plan, now| {
            self.reply(state, model_id, headers, body, plan, now)
        })
    }

    /// Decides the answer to a request that another wire format (OpenAI chat completions) has already parsed:
    /// `model_id` is a base model whatever its name, with the same faults, quota and counts as Converse.
    pub(super) fn decide_parsed(
        &self,
        model_id: &str,
        parsed: Result<ParsedConverse, BedrockError>,
    ) -> (String, FaultPlan, Reply) {
        self.decide_with(model_id, |state, plan, now| {
            self.answer(state, model_id, &parsed?, None, plan, now)
        })
    }

    /// Numbers the request, draws its faults, decides its reply with `reply` and counts the outcome.
    fn decide_with(
        &self,
        model_id: &str,
        reply: impl FnOnce(&mut EndpointState, &FaultPlan, Instant) -> Result<Reply, BedrockError>,
    ) -> (String, FaultPlan, Reply) {
        let now = Instant::now();
        let mut state = self.lock();
        let arrival = state.arrivals;
        state.arrivals += 1;
        let plan = self.options.faults.plan(self.options.seed, arrival);
        let reply = match reply(&mut state, &plan, now) {
            Ok(reply) => reply,
            Err(error) => {
                let outcome = Outcome::Error(error.kind);
                Reply::Refused(error, outcome)
            }
        };
        let outcome = match &reply {
            Reply::Answer(c) => Outcome::Ok {
                input_tokens: c.input_tokens,
                output_tokens: c.output_tokens,
            },
            Reply::Malformed(c, _) => Outcome::Malformed {
                input_tokens: c.input_tokens,
                output_tokens: c.output_tokens,
            },
            Reply::Refused(_, outcome) => *outcome,
        };
        state.stats.record(model_id, outcome, plan.slow);
        (self.request_id(arrival), plan, reply)
    }

    fn reply(
        &self,
        state: &mut EndpointState,
        model_id: &str,
        headers: &HeaderMap,
        body: &[u8],
        plan: &FaultPlan,
        now: Instant,
    ) -> Result<Reply, BedrockError> {
        check_authorization(headers)?;
        self.check_access_key(headers)?;
        let parsed = parse_converse(body, self.limits())?;
        let target = resolve(model_id, |id| self.fine_tuned.contains_key(id))?;
        let fine_tuned = match &target {
            ModelTarget::Custom(key) => self.fine_tuned.get(key),
            ModelTarget::Base(_) => None,
        };
        self.answer(state, model_id, &parsed, fine_tuned, plan, now)
    }

    /// Answers one batch record's `modelInput` (a Converse body) as a live Converse call to `model_id` would be
    /// answered, with the same faults and counts (used by `control.rs`).
    pub(super) fn answer_record(&self, model_id: &str, body: &[u8]) -> Result<Completion, BedrockError> {
        let (_, _, reply) = self.decide_with(model_id, |state, plan, now| {
            let parsed = parse_converse(body, self.limits())?;
            let fine_tuned = match resolve(model_id, |id| self.fine_tuned.contains_key(id))? {
                ModelTarget::Custom(key) => self.fine_tuned.get(&key),
                ModelTarget::Base(_) => None,
            };
            self.answer(state, model_id, &parsed, fine_tuned, plan, now)
        });
        match reply {
            Reply::Answer(completion) | Reply::Malformed(completion, _) => Ok(completion),
            Reply::Refused(error, _) => Err(error),
        }
    }

    /// The answer of `model_id` (as `fine_tuned` when given) to a parsed request, after access, faults and quota.
    fn answer(
        &self,
        state: &mut EndpointState,
        model_id: &str,
        parsed: &ParsedConverse,
        fine_tuned: Option<&FineTunedModel>,
        plan: &FaultPlan,
        now: Instant,
    ) -> Result<Reply, BedrockError> {
        if self.options.denied_models.contains(model_id) {
            return Err(BedrockError::of(ErrorKind::AccessDenied));
        }
        let identity: [u8; 32] = Sha256::new()
            .chain_update(model_id.as_bytes())
            .chain_update([0])
            .chain_update(&parsed.identity_key)
            .finalize()
            .into();
        let sample_index = state.answered.get(&identity).copied().unwrap_or(0);
        let degraded = self
            .options
            .degrade
            .get(model_id)
            .is_some_and(|rate| is_degraded(self.options.seed, model_id, &parsed.conversation.sampling_key, *rate));
        let completion = if degraded {
            simulator::degraded(self.options.seed, model_id, &parsed.conversation)
        } else {
            complete(
                self.options.seed,
                model_id,
                fine_tuned,
                &parsed.conversation,
                sample_index,
            )
        };

        if plan.throttle {
            return Err(BedrockError::of(ErrorKind::Throttling));
        }
        let faults = &self.options.faults;
        if faults.quota_rpm.is_some() || faults.quota_tpm.is_some() {
            let tokens = u64::from(completion.input_tokens) + u64::from(completion.output_tokens);
            let window = state.quotas.entry(model_id.to_string()).or_default();
            if !window.try_admit(now, tokens, faults.quota_rpm, faults.quota_tpm) {
                return Ok(Reply::Refused(
                    BedrockError::of(ErrorKind::Throttling),
                    Outcome::OverQuota,
                ));
            }
        }
        if let Some(kind) = plan.error {
            return Err(BedrockError::of(kind));
        }
        if let Some(cut) = plan.malformed_cut {
            return Ok(Reply::Malformed(completion, cut));
        }
        // Only sampled answers need their count: at temperature 0 every repeat gets the same answer, so a run of a
        // million distinct requests leaves no state behind.
        if parsed.conversation.temperature > 0.0 {
            *state.answered.entry(identity).or_insert(0) += 1;
        }
        let completion = state.cache.apply(model_id, parsed.cache_prefix.as_ref(), completion);
        let grading = parsed
            .conversation
            .turns
            .first()
            .and_then(|t| GradingTask::read(&t.text));
        match grading {
            Some(task) if plan.malformed_verdict => {
                let mut rng = ChaCha20Rng::seed_from_u64(self.options.seed ^ state.arrivals.rotate_left(17));
                let text = malformed_verdict(&task, &mut rng);
                state
                    .stats
                    .models
                    .entry(model_id.to_string())
                    .or_default()
                    .malformed_verdicts += 1;
                Ok(Reply::Answer(Completion {
                    output_tokens: estimate_tokens(&text),
                    text,
                    ..completion
                }))
            }
            _ => Ok(Reply::Answer(completion)),
        }
    }
}

impl Shared {
    /// Refuses a SigV4 access key listed in `rejected_access_keys`, as AWS refuses an unknown or expired one.
    fn check_access_key(&self, headers: &HeaderMap) -> Result<(), BedrockError> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once("Credential="))
            .and_then(|(_, rest)| rest.split('/').next());
        match key.and_then(|key| self.options.rejected_access_keys.get(key)) {
            Some(RejectedKey::Invalid) => Err(BedrockError::of(ErrorKind::UnrecognizedClient)),
            Some(RejectedKey::Expired) => Err(BedrockError::of(ErrorKind::ExpiredToken)),
            None => Ok(()),
        }
    }
}

/// Any `Authorization` header will do (SigV4 or bearer; signatures are not checked), but one must be present.
pub(super) fn check_authorization(headers: &HeaderMap) -> Result<(), BedrockError> {
    if headers.contains_key(header::AUTHORIZATION) {
        Ok(())
    } else {
        Err(BedrockError::new(
            ErrorKind::AccessDenied,
            "Missing Authentication Token",
        ))
    }
}

/// The endpoint's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    let control = super::control::router(Arc::clone(&shared), shared.options.s3.as_ref(), shared.options.seed);
    Router::new()
        .route("/model/{model_id}/converse", post(converse))
        .route("/model/{model_id}/count-tokens", post(count_tokens))
        .route("/v1/chat/completions", post(super::openai::chat_completions))
        .route("/_local/stats", get(stats))
        .route("/_local/health", get(health))
        .fallback(unknown_operation)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
        .merge(control)
}

fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `POST /model/{modelId}/converse`. The path segment arrives percent-encoded (`%3A`, `%2F`) and is decoded here.
async fn converse(
    State(shared): State<Arc<Shared>>,
    model_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Instant::now();
    let Ok(Path(model_id)) = model_id else {
        return BedrockError::validation("The provided model identifier is invalid.").into_response("-");
    };
    let (request_id, plan, reply) = shared.decide(&model_id, &headers, &body);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    match reply {
        Reply::Answer(completion) => json_response(converse_body(&completion, millis_since(received)), &request_id),
        Reply::Malformed(completion, cut) => json_response(
            truncated_body(&converse_body(&completion, millis_since(received)), cut),
            &request_id,
        ),
        Reply::Refused(error, _) => error.into_response(&request_id),
    }
}

/// `POST /model/{modelId}/count-tokens` (converse form): the input-token estimate a Converse call would report.
async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    model_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrival = {
        let mut state = shared.lock();
        state.stats.count_tokens_requests += 1;
        state.stats.count_tokens_requests
    };
    let request_id = shared.request_id(u64::MAX - arrival);
    let counted = (|| {
        check_authorization(&headers)?;
        let Ok(Path(model_id)) = model_id else {
            return Err(BedrockError::validation("The provided model identifier is invalid."));
        };
        if let ModelTarget::Custom(_) = resolve(&model_id, |id| shared.fine_tuned.contains_key(id))? {
            return Err(BedrockError::validation(
                "The provided model doesn't support counting tokens.",
            ));
        }
        let (system, turns) = parse_count_tokens(&body)?;
        Ok(input_tokens(&system, &turns))
    })();
    match counted {
        Ok(tokens) => json_response(json!({ "inputTokens": tokens }).to_string(), &request_id),
        Err(error) => error.into_response(&request_id),
    }
}

/// `GET /_local/stats`: the counts as JSON.
async fn stats(State(shared): State<Arc<Shared>>) -> Json<EndpointStats> {
    Json(shared.stats())
}

/// `GET /_local/health`: up, and which server this is, so a client given its URL can tell it serves simulated models.
async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "service": super::HEALTH_SERVICE, "simulated": true }))
}

/// Any other path: the error AWS services give for an operation they do not have.
async fn unknown_operation() -> Response {
    let body =
        json!({ "message": "The local endpoint serves Converse, CountTokens and OpenAI chat completions only." })
            .to_string();
    let mut response = (StatusCode::NOT_FOUND, body).into_response();
    response.headers_mut().insert(
        "x-amzn-ErrorType",
        header::HeaderValue::from_static("UnknownOperationException"),
    );
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
