//! The Bedrock provider: Converse through aws-sdk-bedrockruntime.
//!
//! The SDK's own retries are switched off: the executor retries, so attempts, backoff and rate limits are counted
//! and recorded in one place.

use super::error_chain;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::{Credentials, Region};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message,
    SystemContentBlock,
};
use aws_sdk_bedrockruntime::Client;
use futures::future::BoxFuture;

use super::{CallError, CallErrorKind, Completion, ModelRequest, Provider};
use crate::dataset::Role;

/// Where and how to reach Bedrock.
#[derive(Debug, Clone, Default)]
pub struct BedrockSettings {
    /// AWS region (else the standard chain: `AWS_REGION`, profile).
    pub region: Option<String>,
    /// Named profile from the shared config files.
    pub profile: Option<String>,
    /// Endpoint override (else `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL`, else AWS's).
    pub endpoint_url: Option<String>,
}

/// Calls Converse on Bedrock, or on anything that speaks its wire protocol.
#[derive(Debug, Clone)]
pub struct BedrockProvider {
    client: Client,
    region: Option<String>,
    /// The credential chain, to resolve once before any call; `None` when calls need no AWS credentials (the
    /// embedded endpoint's placeholders, or bearer-token auth).
    credentials: Option<SharedCredentialsProvider>,
}

impl BedrockProvider {
    /// A client from the standard AWS configuration chain (credentials, region, endpoint environment variables),
    /// with the given overrides.
    pub async fn from_environment(settings: &BedrockSettings) -> Result<Self, CallError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk_config = loader.load().await;
        if sdk_config.region().is_none() {
            return Err(CallError {
                kind: CallErrorKind::Other,
                status: None,
                message: "no AWS region configured: pass --region or set AWS_REGION".into(),
            });
        }
        let config = aws_sdk_bedrockruntime::config::Builder::from(&sdk_config)
            .retry_config(RetryConfig::disabled())
            .build();
        // With a bearer token the client signs nothing (the SDK reads this variable itself).
        let bearer_token = std::env::var_os("AWS_BEARER_TOKEN_BEDROCK").is_some_and(|v| !v.is_empty());
        Ok(BedrockProvider {
            client: Client::from_conf(config),
            region: sdk_config.region().map(ToString::to_string),
            credentials: if bearer_token {
                None
            } else {
                Some(
                    sdk_config
                        .credentials_provider()
                        .ok_or_else(|| credentials_error("no AWS credential provider is configured".to_string()))?,
                )
            },
        })
    }

    /// Resolves the credentials once, before any call, so a machine without usable credentials stops the run at
    /// once with the SDK's reason, instead of failing every call.
    pub async fn check_credentials(&self) -> Result<(), CallError> {
        let Some(provider) = &self.credentials else {
            return Ok(());
        };
        match provider.provide_credentials().await {
            Ok(_) => Ok(()),
            Err(error) => Err(credentials_error(format!(
                "no usable AWS credentials: {}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or \
                 --profile) or another source of the standard chain",
                error_chain(&error)
            ))),
        }
    }

    /// The region calls are signed for (from the settings or the standard chain).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// A client for the embedded endpoint at `url`: fixed placeholder credentials (it checks no signature) so the
    /// credential chain, and its instance-metadata lookups, are never consulted.
    pub fn for_local_endpoint(url: &str) -> Self {
        let config = aws_sdk_bedrockruntime::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "bedrock-eval-local"))
            .endpoint_url(url)
            .retry_config(RetryConfig::disabled())
            .build();
        BedrockProvider {
            client: Client::from_conf(config),
            region: None,
            credentials: None,
        }
    }

    async fn call(&self, request: &ModelRequest) -> Result<Completion, CallError> {
        let mut call = self.client.converse().model_id(&request.model);
        if let Some(system) = &request.system {
            call = call.system(SystemContentBlock::Text(system.clone()));
        }
        if request.cache_point_after_system() {
            call = call.system(SystemContentBlock::CachePoint(cache_point()?));
        }
        for (index, turn) in request.messages.iter().enumerate() {
            let role = match turn.role {
                Role::User => ConversationRole::User,
                Role::Assistant => ConversationRole::Assistant,
            };
            let mut message = Message::builder()
                .role(role)
                .content(ContentBlock::Text(turn.text.clone()));
            if request.cache_point_after(index) {
                message = message.content(ContentBlock::CachePoint(cache_point()?));
            }
            let message = message
                .build()
                .map_err(|e| other(format!("cannot build message: {e}")))?;
            call = call.messages(message);
        }
        let inference = &request.inference;
        let mut config = InferenceConfiguration::builder();
        if let Some(max_tokens) = inference.max_tokens {
            config = config.max_tokens(i32::try_from(max_tokens).unwrap_or(i32::MAX));
        }
        if let Some(temperature) = inference.temperature {
            config = config.temperature(temperature);
        }
        if let Some(top_p) = inference.top_p {
            config = config.top_p(top_p);
        }
        for stop in &inference.stop_sequences {
            config = config.stop_sequences(stop.clone());
        }
        let response = call.inference_config(config.build()).send().await.map_err(map_error)?;

        let text = match response.output() {
            Some(ConverseOutput::Message(message)) => message
                .content()
                .iter()
                .filter_map(|block| block.as_text().ok().cloned())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => {
                return Err(CallError {
                    kind: CallErrorKind::MalformedResponse,
                    status: Some(200),
                    message: "response has no output message".into(),
                })
            }
        };
        let usage = response.usage();
        let (input_tokens, output_tokens) = usage.map_or((0, 0), |u| (u.input_tokens(), u.output_tokens()));
        if usage.is_none() || (input_tokens == 0 && output_tokens == 0) {
            return Err(CallError {
                kind: CallErrorKind::MissingUsage,
                status: Some(200),
                message: "response reported no token usage; refusing to count the call as free".into(),
            });
        }
        let cache = |tokens: Option<i32>| tokens.and_then(|t| u64::try_from(t).ok()).unwrap_or(0);
        Ok(Completion {
            cache_read_tokens: cache(usage.and_then(|u| u.cache_read_input_tokens())),
            cache_write_tokens: cache(usage.and_then(|u| u.cache_write_input_tokens())),
            text,
            stop_reason: response.stop_reason().as_str().to_string(),
            input_tokens: u64::try_from(input_tokens).unwrap_or(0),
            output_tokens: u64::try_from(output_tokens).unwrap_or(0),
            service_latency_ms: response.metrics().and_then(|m| u64::try_from(m.latency_ms()).ok()),
        })
    }
}

impl Provider for BedrockProvider {
    fn converse<'a>(&'a self, request: &'a ModelRequest) -> BoxFuture<'a, Result<Completion, CallError>> {
        Box::pin(self.call(request))
    }
}

/// A Converse `{"cachePoint": {"type": "default"}}` block.
fn cache_point() -> Result<CachePointBlock, CallError> {
    CachePointBlock::builder()
        .r#type(CachePointType::Default)
        .build()
        .map_err(|e| other(format!("cannot build a cache point: {e}")))
}

fn credentials_error(message: String) -> CallError {
    CallError {
        kind: CallErrorKind::Credentials,
        status: None,
        message,
    }
}

fn other(message: String) -> CallError {
    CallError {
        kind: CallErrorKind::Other,
        status: None,
        message,
    }
}

/// Error codes AWS answers for credentials it does not accept (common to every service, so not in Bedrock's model).
fn is_credentials_error(code: &str) -> bool {
    matches!(
        code,
        "UnrecognizedClientException"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "InvalidSignatureException"
            | "IncompleteSignatureException"
            | "MissingAuthenticationTokenException"
            | "InvalidClientTokenId"
    )
}

/// Whether a credential provider's failure is among the causes of `error` (the SDK found nothing to sign with).
fn is_caused_by_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<CredentialsError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn map_error(error: SdkError<ConverseError, HttpResponse>) -> CallError {
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let kind = match err {
                ConverseError::ThrottlingException(_) => CallErrorKind::Throttling,
                ConverseError::ModelNotReadyException(_) => CallErrorKind::ModelNotReady,
                ConverseError::ValidationException(_) => CallErrorKind::Validation,
                ConverseError::AccessDeniedException(_) => CallErrorKind::AccessDenied,
                ConverseError::ResourceNotFoundException(_) => CallErrorKind::ResourceNotFound,
                ConverseError::ModelTimeoutException(_) => CallErrorKind::ModelTimeout,
                ConverseError::ModelErrorException(_) => CallErrorKind::ModelError,
                ConverseError::InternalServerException(_) => CallErrorKind::InternalServer,
                ConverseError::ServiceUnavailableException(_) => CallErrorKind::ServiceUnavailable,
                _ if err.code().is_some_and(is_credentials_error) => CallErrorKind::Credentials,
                _ => match service.raw().status().as_u16() {
                    // A success status the SDK could not deserialize: a broken body, not a service error.
                    200..=299 => CallErrorKind::MalformedResponse,
                    429 => CallErrorKind::Throttling,
                    500 | 502 | 504 => CallErrorKind::InternalServer,
                    503 => CallErrorKind::ServiceUnavailable,
                    _ => CallErrorKind::Other,
                },
            };
            let message = match kind {
                CallErrorKind::MalformedResponse => format!("response could not be parsed: {}", error_chain(&error)),
                _ => err.message().unwrap_or("no message").to_string(),
            };
            CallError {
                kind,
                status: Some(service.raw().status().as_u16()),
                message,
            }
        }
        SdkError::TimeoutError(_) => CallError {
            kind: CallErrorKind::Timeout,
            status: None,
            message: "the SDK timed out".into(),
        },
        SdkError::DispatchFailure(failure) => {
            let chain = error_chain(&error);
            CallError {
                kind: if failure.is_timeout() {
                    CallErrorKind::Timeout
                } else if is_caused_by_credentials(&error) {
                    // Signing found no credentials (or could not refresh them): no retry will find them.
                    CallErrorKind::Credentials
                } else {
                    CallErrorKind::Network
                },
                status: None,
                message: format!("request could not be sent: {chain}"),
            }
        }
        SdkError::ResponseError(response) => CallError {
            kind: CallErrorKind::MalformedResponse,
            status: Some(response.raw().status().as_u16()),
            message: format!("response could not be parsed: {}", error_chain(&error)),
        },
        _ => other(error_chain(&error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::{future, ProvideCredentials};

    /// A credential chain that finds nothing, as the SDK's default chain does on a machine without credentials.
    #[derive(Debug)]
    struct NoCredentials;

    impl ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("no credentials found in chain")))
        }
    }

    #[tokio::test]
    async fn missing_credentials_are_a_credentials_error_not_a_network_one() {
        let config = aws_sdk_bedrockruntime::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(NoCredentials))
            // Never reached: signing fails first.
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(RetryConfig::disabled())
            .build();
        let provider = BedrockProvider {
            client: Client::from_conf(config),
            region: None,
            credentials: Some(SharedCredentialsProvider::new(NoCredentials)),
        };
        let checked = provider.check_credentials().await.expect_err("checked up front");
        assert_eq!(checked.kind, CallErrorKind::Credentials);
        assert!(checked.message.contains("no credentials found in chain"), "{checked}");
        let request = ModelRequest {
            model: "amazon.nova-lite-v1:0".into(),
            system: None,
            messages: vec![crate::dataset::Turn {
                role: Role::User,
                text: "hello".into(),
            }],
            inference: Default::default(),
            cache_after_messages: None,
        };
        let error = provider.converse(&request).await.expect_err("no credentials");
        assert_eq!(error.kind, CallErrorKind::Credentials, "{error}");
        assert!(!error.kind.is_retryable() && error.kind.is_fatal());
    }
}
