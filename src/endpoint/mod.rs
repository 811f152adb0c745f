//! A local server that speaks Bedrock Runtime's Converse wire protocol, so the real AWS SDKs (Rust, boto3) can
//! talk to it unchanged through an endpoint URL.
//!
//! - `POST /model/{modelId}/converse` answers with simulated models ([`simulator`]): deterministic from the
//!   request and the seed, better with relevant demonstrations, in house style for a listed custom-model ARN.
//! - `POST /model/{modelId}/count-tokens` gives the input-token estimate Converse would report.
//! - Faults ([`Faults`]): latency, throttling by rate or by an enforced RPM/TPM quota, 5xx, model errors, slow
//!   answers and broken bodies, all off by default and reproducible from the seed.
//! - `POST /v1/chat/completions` (`openai.rs`): the same simulated base models in OpenAI's wire format, for
//!   `provider: openai` configs.
//! - `GET /_local/stats` ([`EndpointStats`]) and `GET /_local/health` for other processes.
//!
//! It only ever binds a loopback address, speaks HTTP/1.1, and keeps slow clients from starving it: a cap on open
//! connections and a header-read timeout (`connections.rs`).

mod cache;
mod connections;
mod control;
pub mod faults;
pub mod model_id;
mod openai;
mod server;
pub mod simulator;
pub mod stats;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use self::faults::Faults;
pub use self::stats::{ConnectionStats, EndpointStats, ModelStats};

/// The largest `max_connections` accepted: more than a process can usually hold open.
const MAX_CONNECTIONS: usize = 65_536;

/// The `service` the health route names, by which a client tells this endpoint from real Bedrock.
pub const HEALTH_SERVICE: &str = "bedrock-eval embedded endpoint";

/// How long [`is_embedded_endpoint`] waits for the health route.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether `url` is served by this embedded endpoint (`bedrock-eval serve`): one `GET {url}/_local/health`, whose
/// answer names [`HEALTH_SERVICE`]. Anything else — another server, an error, no answer within a few seconds — is
/// "no". The probe goes straight to `url`, never through a proxy.
pub async fn is_embedded_endpoint(url: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().no_proxy().timeout(PROBE_TIMEOUT).build() else {
        return false;
    };
    let health = format!("{}/_local/health", url.trim_end_matches('/'));
    let Ok(response) = client.get(health).send().await else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    response
        .json::<serde_json::Value>()
        .await
        .is_ok_and(|body| body["service"] == HEALTH_SERVICE)
}

/// How long [`RunningEndpoint::shutdown`] waits for requests in flight before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings of the local endpoint; the default serves base models only, with no faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointOptions {
    /// Seed of the simulated models and the faults.
    pub seed: u64,
    /// Faults to inject.
    pub faults: Faults,
    /// Custom models by model id (a provisioned-model or custom-model-deployment ARN), with what they learned.
    pub custom_models: BTreeMap<String, CustomModel>,
    /// Model ids answered 403 `AccessDeniedException`, as for a model the account has no access to.
    pub denied_models: BTreeSet<String>,
    /// Access key ids (from the SigV4 `Authorization` header) refused as AWS refuses them: `invalid` (403
    /// `UnrecognizedClientException`) or `expired` (403 `ExpiredTokenException`). Any other key is accepted.
    pub rejected_access_keys: BTreeMap<String, RejectedKey>,
    /// Planted regressions: model id → the fraction of its answers replaced by a generic, off-style reply (chosen
    /// per request, deterministically), so a run against it scores lower by a set amount.
    pub degrade: BTreeMap<String, f64>,
    /// `maxTokens` when a request sets none.
    pub default_max_tokens: u32,
    /// Largest `maxTokens` accepted; more is a `ValidationException`.
    pub max_tokens_limit: u32,
    /// The S3-compatible server batch jobs read their input from and write their output to; without it,
    /// `CreateModelInvocationJob` is refused.
    pub s3: Option<S3Options>,
    /// How long a connection may take to send a request's head (request line and headers), counted from when it
    /// opens or its previous answer ends, in milliseconds; then it is closed, so idle and half-sent connections
    /// free their place.
    pub header_read_timeout_ms: u64,
    /// Most connections open at once; the next waits to be accepted until one closes.
    pub max_connections: usize,
}

/// Where the endpoint's batch jobs reach S3, and the credentials to sign with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Options {
    /// Base URL of the S3-compatible server (path-style addressing).
    pub endpoint_url: String,
    /// Access key id to sign requests with.
    #[serde(default = "local_key")]
    pub access_key_id: String,
    /// Secret access key to sign requests with.
    #[serde(default = "local_key")]
    pub secret_access_key: String,
}

fn local_key() -> String {
    "local".to_string()
}

impl Default for EndpointOptions {
    fn default() -> Self {
        EndpointOptions {
            seed: 0,
            faults: Faults::default(),
            custom_models: BTreeMap::new(),
            denied_models: BTreeSet::new(),
            rejected_access_keys: BTreeMap::new(),
            degrade: BTreeMap::new(),
            default_max_tokens: 1024,
            max_tokens_limit: 10_000,
            s3: None,
            header_read_timeout_ms: 10_000,
            // A suite's largest `concurrency`, so a run never waits on the cap.
            max_connections: 1024,
        }
    }
}

/// Why an access key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectedKey {
    /// Not a key the service knows: 403 `UnrecognizedClientException`.
    Invalid,
    /// Its session has expired: 403 `ExpiredTokenException`.
    Expired,
}

/// A simulated fine-tuned model: the training pairs it answers like.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomModel {
    /// The fine-tuning data it learned from.
    pub tuned_on: Vec<TrainingPair>,
}

/// One fine-tuning example: a prompt and the completion the model was taught to give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingPair {
    /// The user message.
    pub prompt: String,
    /// The answer to it.
    pub completion: String,
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The bind address is not loopback.
    #[error("refusing to bind {addr}: the local endpoint binds loopback addresses only (127.0.0.0/8 or ::1)")]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// An option is out of range.
    #[error("invalid endpoint option {field}: {message}")]
    InvalidOption {
        /// The option, as a dotted path.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's reason.
        source: io::Error,
    },
}

impl From<EndpointError> for io::Error {
    fn from(error: EndpointError) -> Self {
        let kind = match &error {
            EndpointError::NotLoopback { .. } => io::ErrorKind::AddrNotAvailable,
            EndpointError::InvalidOption { .. } => io::ErrorKind::InvalidInput,
            EndpointError::Bind { source, .. } => source.kind(),
        };
        io::Error::new(kind, error)
    }
}

impl EndpointOptions {
    /// Checks the options: fault rates are fractions, token limits are consistent.
    pub fn validate(&self) -> Result<(), EndpointError> {
        self.faults.validate()?;
        if let Some((model, rate)) = self.degrade.iter().find(|(_, r)| !(0.0..=1.0).contains(*r)) {
            return Err(EndpointError::InvalidOption {
                field: format!("degrade.{model}"),
                message: format!("{rate} is not a fraction between 0 and 1"),
            });
        }
        if self.max_tokens_limit == 0 || self.default_max_tokens == 0 || self.default_max_tokens > self.max_tokens_limit
        {
            return Err(EndpointError::InvalidOption {
                field: "default_max_tokens".to_string(),
                message: format!(
                    "{} must be at least 1 and at most max_tokens_limit ({})",
                    self.default_max_tokens, self.max_tokens_limit
                ),
            });
        }
        if self.header_read_timeout_ms == 0 {
            return Err(EndpointError::InvalidOption {
                field: "header_read_timeout_ms".to_string(),
                message: "must be at least 1 ms".to_string(),
            });
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(EndpointError::InvalidOption {
                field: "max_connections".to_string(),
                message: format!("{} must be between 1 and {MAX_CONNECTIONS}", self.max_connections),
            });
        }
        Ok(())
    }
}

/// Starts the endpoint on `bind` (loopback only; port 0 picks a free port) and serves until shut down.
pub async fn start(options: EndpointOptions, bind: SocketAddr) -> io::Result<RunningEndpoint> {
    if !bind.ip().to_canonical().is_loopback() {
        return Err(EndpointError::NotLoopback { addr: bind }.into());
    }
    options.validate()?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| EndpointError::Bind { addr: bind, source })?;
    let addr = listener.local_addr()?;
    let limits = connections::ConnectionLimits {
        max_connections: options.max_connections,
        header_read_timeout: Duration::from_millis(options.header_read_timeout_ms),
    };
    let shared = Arc::new(server::Shared::new(options));
    let router = server::router(Arc::clone(&shared));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(connections::serve(
        listener,
        router,
        Arc::clone(&shared),
        limits,
        async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        },
    ));
    Ok(RunningEndpoint {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A started endpoint. Dropping it stops the server too; [`RunningEndpoint::shutdown`] also waits for it.
pub struct RunningEndpoint {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningEndpoint {
    /// The address it listens on (with the port chosen when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give an SDK as its endpoint (`http://127.0.0.1:PORT`, `http://[::1]:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A snapshot of what it received so far.
    pub fn stats(&self) -> EndpointStats {
        self.shared.stats()
    }

    /// Stops accepting requests and waits (a few seconds at most) for those in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for RunningEndpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for RunningEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEndpoint")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_addresses_that_are_not_loopback() {
        for addr in ["0.0.0.0:0", "192.168.1.10:0", "[::]:0"] {
            let addr: SocketAddr = addr.parse().expect("valid address");
            let error = start(EndpointOptions::default(), addr).await.expect_err("not loopback");
            assert_eq!(error.kind(), io::ErrorKind::AddrNotAvailable);
            assert!(error.to_string().contains("loopback"), "{error}");
        }
    }

    #[tokio::test]
    async fn port_zero_picks_a_free_port_on_loopback() {
        let endpoint = start(EndpointOptions::default(), "127.0.0.1:0".parse().expect("valid"))
            .await
            .expect("starts");
        assert_ne!(endpoint.addr().port(), 0);
        assert_eq!(endpoint.url(), format!("http://127.0.0.1:{}", endpoint.addr().port()));
        assert_eq!(endpoint.stats(), EndpointStats::default());
        endpoint.shutdown().await;
    }

    #[tokio::test]
    async fn invalid_options_are_refused_before_binding() {
        let options = EndpointOptions {
            faults: Faults {
                malformed_rate: -0.1,
                ..Faults::default()
            },
            ..Default::default()
        };
        let error = start(options, "127.0.0.1:0".parse().expect("valid"))
            .await
            .expect_err("invalid rate");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("faults.malformed_rate"), "{error}");
    }

    #[test]
    fn connection_limits_must_leave_room_for_a_request() {
        for (options, field) in [
            (
                EndpointOptions {
                    max_connections: 0,
                    ..Default::default()
                },
                "max_connections",
            ),
            (
                EndpointOptions {
                    header_read_timeout_ms: 0,
                    ..Default::default()
                },
                "header_read_timeout_ms",
            ),
        ] {
            let error = options.validate().expect_err("no room");
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn options_deserialize_with_defaults_and_refuse_unknown_keys() {
        let options: EndpointOptions =
            serde_yaml::from_str("seed: 7\nfaults: {latency_ms: 20, quota_rpm: 60}\n").expect("valid options");
        assert_eq!(options.seed, 7);
        assert_eq!(options.faults.latency_ms, 20);
        assert_eq!(options.faults.quota_rpm, Some(60));
        assert_eq!(options.default_max_tokens, 1024);
        let error = serde_yaml::from_str::<EndpointOptions>("faults: {latency: 20}\n").expect_err("unknown key");
        assert!(error.to_string().contains("unknown field `latency`"), "{error}");
    }
}
