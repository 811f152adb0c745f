//! Routing each request to the provider that serves its model: a suite's `provider: openai` configs go to their
//! OpenAI-compatible servers, everything else (Bedrock configs, and the judge unless its model is one of those) to
//! Bedrock.
//!
//! Routing is by model id, which `suite::load` makes unambiguous: a model id used by several configs has the same
//! provider, base URL and API key in all of them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::openai::{OpenAiProvider, OpenAiSetupError};
use super::{CallError, Completion, ModelRequest, Provider};
use crate::suite::schema::ProviderKind;
use crate::suite::Suite;

/// Sends each request to the provider registered for its model, or to the default one.
pub struct RoutingProvider {
    default: Arc<dyn Provider>,
    routes: HashMap<String, Arc<dyn Provider>>,
}

impl RoutingProvider {
    /// A router that sends everything to `default` until routes are added.
    pub fn new(default: Arc<dyn Provider>) -> Self {
        RoutingProvider {
            default,
            routes: HashMap::new(),
        }
    }

    /// Sends requests for `model` to `provider` (replacing any earlier route for it).
    pub fn route(&mut self, model: impl Into<String>, provider: Arc<dyn Provider>) {
        self.routes.insert(model.into(), provider);
    }

    /// The provider that answers requests for `model`.
    pub fn provider_for(&self, model: &str) -> &dyn Provider {
        self.routes.get(model).unwrap_or(&self.default).as_ref()
    }

    /// The model ids with a route of their own, sorted.
    pub fn routed_models(&self) -> Vec<&str> {
        let mut models: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        models.sort_unstable();
        models
    }
}

impl Provider for RoutingProvider {
    fn converse<'a>(&'a self, request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>> {
        self.provider_for(&request.model).converse(request)
    }
}

impl std::fmt::Debug for RoutingProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingProvider")
            .field("routed_models", &self.routed_models())
            .finish_non_exhaustive()
    }
}

/// Why the providers of a suite could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// A config names an API-key variable that is not set (or not valid Unicode) in the environment.
    #[error(
        "environment variable `{variable}` is not set: config(s) {} read their API key for {base_url} from it \
         (`api_key_env`); export it, or remove `api_key_env` if the server needs no key",
        configs.join(", ")
    )]
    MissingApiKey {
        /// The variable named by `api_key_env`.
        variable: String,
        /// The server the key is for.
        base_url: String,
        /// The configs that use it.
        configs: Vec<String>,
    },
    /// An OpenAI-compatible provider could not be built.
    #[error("config(s) {}: {source}", configs.join(", "))]
    Setup {
        /// The configs that use it.
        configs: Vec<String>,
        /// What went wrong.
        source: OpenAiSetupError,
    },
}

/// The provider for a run of `suite`: `bedrock` for Bedrock configs and the judge, and one [`OpenAiProvider`] per
/// distinct (base URL, API key variable) among the `provider: openai` configs, each key read from the environment
/// now (`suite::load` does not need secrets).
pub fn build(suite: &Suite, bedrock: Arc<dyn Provider>) -> Result<RoutingProvider, RoutingError> {
    build_with_env(suite, bedrock, |name| std::env::var(name).ok())
}

/// As [`build`], for `run --local`: every `provider: openai` config is sent to the embedded endpoint's
/// OpenAI-compatible route (`{endpoint_url}/v1`) instead of its `base_url`, with no key, so the whole suite runs
/// on simulated models.
pub fn build_for_local_endpoint(
    suite: &Suite,
    bedrock: Arc<dyn Provider>,
    endpoint_url: &str,
) -> Result<RoutingProvider, RoutingError> {
    let base_url = format!("{}/v1", endpoint_url.trim_end_matches('/'));
    let configs = openai_configs(suite)
        .map(|(name, model, _)| (name, model))
        .collect::<Vec<_>>();
    let mut router = RoutingProvider::new(bedrock);
    if configs.is_empty() {
        return Ok(router);
    }
    let provider: Arc<dyn Provider> =
        Arc::new(
            OpenAiProvider::new(&base_url, None).map_err(|source| RoutingError::Setup {
                configs: configs.iter().map(|(name, _)| name.to_string()).collect(),
                source,
            })?,
        );
    for (_, model) in configs {
        router.route(model, Arc::clone(&provider));
    }
    Ok(router)
}

/// As [`build`], reading API keys with `env` (tests pass a closure instead of touching the process environment).
pub fn build_with_env(
    suite: &Suite,
    bedrock: Arc<dyn Provider>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<RoutingProvider, RoutingError> {
    // One provider per server and key, so configs sharing a server share its connection pool.
    let mut servers: BTreeMap<(String, Option<&str>), Server> = BTreeMap::new();
    for (name, model, config) in openai_configs(suite) {
        let base_url = config.base_url.as_deref().unwrap_or_default();
        let key = (
            base_url.trim_end_matches('/').to_string(),
            config.api_key_env.as_deref(),
        );
        let server = servers.entry(key).or_insert_with(|| Server {
            base_url: base_url.to_string(),
            configs: Vec::new(),
            models: Vec::new(),
        });
        server.configs.push(name.to_string());
        server.models.push(model);
    }
    let mut router = RoutingProvider::new(bedrock);
    for ((_, variable), server) in servers {
        let api_key = match variable {
            Some(variable) => Some(env(variable).ok_or_else(|| RoutingError::MissingApiKey {
                variable: variable.to_string(),
                base_url: server.base_url.clone(),
                configs: server.configs.clone(),
            })?),
            None => None,
        };
        let provider: Arc<dyn Provider> = Arc::new(OpenAiProvider::new(&server.base_url, api_key.as_deref()).map_err(
            |source| RoutingError::Setup {
                configs: server.configs.clone(),
                source,
            },
        )?);
        for model in server.models {
            router.route(model, Arc::clone(&provider));
        }
    }
    Ok(router)
}

/// Whether any request of `suite` goes to Bedrock: a config without `provider: openai`, or a judge whose model is not
/// one of the OpenAI-compatible configs' models. When none does, no Bedrock client (and so no AWS region or
/// credentials) is needed.
pub fn needs_bedrock(suite: &Suite) -> bool {
    let openai_models: Vec<&str> = openai_configs(suite).map(|(_, model, _)| model).collect();
    let bedrock_config = suite.file.configs.iter().any(|c| c.provider == ProviderKind::Bedrock);
    let bedrock_judge = suite
        .file
        .judge
        .as_ref()
        .filter(|_| suite.rubric.has_judge())
        .is_some_and(|judge| !openai_models.contains(&judge.model.as_str()));
    bedrock_config || bedrock_judge
}

/// The default route of a suite that sends nothing to Bedrock: it answers every request with an error saying so
/// (routing makes it unreachable; it exists so that no AWS configuration is loaded for such a suite).
#[derive(Debug, Clone, Copy)]
pub struct NoBedrock;

impl Provider for NoBedrock {
    fn converse<'a>(&'a self, request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>> {
        let message = format!(
            "model `{}` has no route: this suite's configs and judge use OpenAI-compatible servers only, so no \
             Bedrock client was set up",
            request.model
        );
        Box::pin(async move {
            Err(CallError {
                kind: super::CallErrorKind::Other,
                status: None,
                message,
            })
        })
    }
}

/// The configs of one OpenAI-compatible server.
struct Server<'a> {
    base_url: String,
    configs: Vec<String>,
    models: Vec<&'a str>,
}

/// The `provider: openai` configs: name, model, and the config.
fn openai_configs(suite: &Suite) -> impl Iterator<Item = (&str, &str, &crate::suite::schema::ConfigSection)> {
    suite
        .file
        .configs
        .iter()
        .filter(|c| c.provider == ProviderKind::OpenAi)
        .map(|c| (c.name.as_str(), c.model.as_str(), c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::CallErrorKind;
    use crate::suite::schema::InferenceSection;

    /// A provider that answers with its own name, so a test can see where a request went.
    struct Named(&'static str);

    impl Provider for Named {
        fn converse<'a>(&'a self, _request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>> {
            let name = self.0;
            Box::pin(async move {
                if name == "failing" {
                    return Err(CallError {
                        kind: CallErrorKind::Throttling,
                        status: Some(429),
                        message: "slow down".to_string(),
                    });
                }
                Ok(Completion {
                    text: name.to_string(),
                    stop_reason: "end_turn".to_string(),
                    input_tokens: 1,
                    output_tokens: 1,
                    cache_read_tokens: 0,
                    cache_write_tokens: 0,
                    service_latency_ms: None,
                })
            })
        }
    }

    fn request(model: &str) -> ModelRequest {
        ModelRequest {
            model: model.to_string(),
            system: None,
            messages: Vec::new(),
            inference: InferenceSection::default(),
            cache_after_messages: None,
        }
    }

    #[tokio::test]
    async fn requests_go_to_their_models_route_and_everything_else_to_the_default() {
        let mut router = RoutingProvider::new(Arc::new(Named("bedrock")));
        router.route("llama3.1:8b", Arc::new(Named("local")));
        router.route("qwen2.5:7b", Arc::new(Named("failing")));
        let text = |r: Result<Completion, CallError>| r.map(|c| c.text);
        assert_eq!(text(router.converse(&request("llama3.1:8b")).await).unwrap(), "local");
        assert_eq!(
            text(router.converse(&request("amazon.nova-lite-v1:0")).await).unwrap(),
            "bedrock"
        );
        let error = router
            .converse(&request("qwen2.5:7b"))
            .await
            .expect_err("routed to the failing one");
        assert_eq!(
            error.kind,
            CallErrorKind::Throttling,
            "errors come back as the provider typed them"
        );
        assert_eq!(router.routed_models(), ["llama3.1:8b", "qwen2.5:7b"]);
    }
}
