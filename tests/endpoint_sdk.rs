//! The embedded endpoint through the real `aws-sdk-bedrockruntime` client: the endpoint runs in this process on
//! 127.0.0.1, the client reaches it by endpoint URL (placeholder credentials, SDK retries off), and every error
//! is matched on the SDK's typed enums, as a caller would.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::timeout::TimeoutConfig;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::{ConverseError, ConverseOutput};
use aws_sdk_bedrockruntime::operation::count_tokens::CountTokensError;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput as Output, ConverseTokensRequest, CountTokensInput,
    InferenceConfiguration, Message, StopReason, SystemContentBlock,
};
use aws_sdk_bedrockruntime::Client;
use bedrock_eval::endpoint::{
    self, CustomModel, EndpointOptions, EndpointStats, Faults, RunningEndpoint, TrainingPair,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MODEL: &str = "amazon.nova-lite-v1:0";
const PROFILE: &str = "us.amazon.nova-lite-v1:0";
const PROVISIONED: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/k3str3lsupp0";
const UNLISTED: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/n0tb0ught000";
const SYSTEM: &str = "You are a support agent for Kestrel Home. Reply to the customer's ticket.";
const TICKET: &str = "My Kestrel Cam 3 keeps dropping off the Wi-Fi at night, even after restarting the router.\n\n\
Thanks,\nJonas";

/// What every call may take at most, so that no test can hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

type ConverseResult =
    Result<ConverseOutput, SdkError<ConverseError, aws_sdk_bedrockruntime::config::http::HttpResponse>>;

/// The endpoint in this process, on a free loopback port.
async fn serve(options: EndpointOptions) -> RunningEndpoint {
    endpoint::start(options, "127.0.0.1:0".parse().expect("valid address"))
        .await
        .expect("endpoint starts")
}

/// Options with one custom model, tuned on two house-style answers.
fn with_custom_model() -> EndpointOptions {
    let reply = |name: &str, product: &str, steps: [&str; 2]| {
        format!(
            "Hi {name},\n\nSorry about your {product}.\n\n1. {}\n2. {}\n\nReply here if that doesn't do it.\n\n— Kestrel Support",
            steps[0], steps[1]
        )
    };
    let tuned_on = vec![
        TrainingPair {
            prompt: "My Kestrel Cam 2 keeps dropping off the Wi-Fi every night.\n\nThanks,\nMaria".to_string(),
            completion: reply(
                "Maria",
                "Kestrel Cam 2",
                [
                    "Open Settings > Network for the Kestrel Cam 2.",
                    "Turn on Lock to 2.4 GHz.",
                ],
            ),
        },
        TrainingPair {
            prompt: "The Kestrel Doorbell stopped ringing the chime.\n\nCheers,\nPriya".to_string(),
            completion: reply(
                "Priya",
                "Kestrel Doorbell",
                ["Open the Kestrel Doorbell and tap Chime.", "Tap Re-pair chime."],
            ),
        },
    ];
    let mut options = EndpointOptions::default();
    options
        .custom_models
        .insert(PROVISIONED.to_string(), CustomModel { tuned_on });
    options
}

fn faulty(faults: Faults) -> EndpointOptions {
    EndpointOptions {
        faults,
        seed: 3,
        ..EndpointOptions::default()
    }
}

/// The real SDK client, pointed at `url`, as `bedrock-eval` builds it for the local endpoint.
fn client(url: &str) -> Client {
    client_with_timeout(url, CALL_TIMEOUT)
}

fn client_with_timeout(url: &str, timeout: Duration) -> Client {
    let config = aws_sdk_bedrockruntime::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "endpoint-sdk-test"))
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build())
        .build();
    Client::from_conf(config)
}

fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.to_string()))
        .build()
        .expect("a complete message")
}

/// Converse with a system prompt, one user turn and the given inference settings.
async fn converse(client: &Client, model_id: &str, inference: InferenceConfiguration) -> ConverseResult {
    client
        .converse()
        .model_id(model_id)
        .system(SystemContentBlock::Text(SYSTEM.to_string()))
        .messages(user(TICKET))
        .inference_config(inference)
        .send()
        .await
}

async fn ask(client: &Client, model_id: &str) -> ConverseResult {
    converse(
        client,
        model_id,
        InferenceConfiguration::builder().temperature(0.0).build(),
    )
    .await
}

fn answer_text(output: &ConverseOutput) -> String {
    match output.output() {
        Some(Output::Message(message)) => message
            .content()
            .iter()
            .filter_map(|block| block.as_text().ok().cloned())
            .collect::<Vec<_>>()
            .join(""),
        other => panic!("no message in the output: {other:?}"),
    }
}

/// The typed exception a Converse error is, by its shape name; `None` for anything else (unhandled, timeout, …).
fn typed(error: &ConverseError) -> Option<&'static str> {
    Some(match error {
        ConverseError::AccessDeniedException(_) => "AccessDeniedException",
        ConverseError::InternalServerException(_) => "InternalServerException",
        ConverseError::ModelErrorException(_) => "ModelErrorException",
        ConverseError::ModelNotReadyException(_) => "ModelNotReadyException",
        ConverseError::ModelTimeoutException(_) => "ModelTimeoutException",
        ConverseError::ResourceNotFoundException(_) => "ResourceNotFoundException",
        ConverseError::ServiceUnavailableException(_) => "ServiceUnavailableException",
        ConverseError::ThrottlingException(_) => "ThrottlingException",
        ConverseError::ValidationException(_) => "ValidationException",
        _ => return None,
    })
}

/// The service error of a failed call and its HTTP status; panics on success or on any other kind of failure.
fn service_error(result: ConverseResult) -> (ConverseError, u16) {
    match result {
        Ok(output) => panic!("expected an error, got an answer: {:?}", answer_text(&output)),
        Err(SdkError::ServiceError(service)) => {
            let status = service.raw().status().as_u16();
            (service.into_err(), status)
        }
        Err(other) => panic!("expected a service error, got {other:?}"),
    }
}

/// `GET path` on the endpoint over plain HTTP/1.1, parsed as JSON.
async fn get_json(endpoint: &RunningEndpoint, path: &str) -> serde_json::Value {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(endpoint.addr()).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            endpoint.addr()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("receive");
        response
    };
    let response = tokio::time::timeout(CALL_TIMEOUT, exchange)
        .await
        .expect("the endpoint answers in time");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).expect("a JSON body")
}

async fn stats_over_http(endpoint: &RunningEndpoint) -> EndpointStats {
    serde_json::from_value(get_json(endpoint, "/_local/stats").await).expect("the stats shape")
}

#[tokio::test]
async fn converse_with_a_model_id_answers_with_text_usage_and_stop_reason() {
    let endpoint = serve(EndpointOptions::default()).await;
    let output = ask(&client(&endpoint.url()), MODEL).await.expect("an answer");
    let text = answer_text(&output);
    assert!(text.contains("Kestrel Cam 3"), "{text}");
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    let usage = output.usage().expect("usage");
    assert!(usage.input_tokens() > 0 && usage.output_tokens() > 0, "{usage:?}");
    assert_eq!(usage.total_tokens(), usage.input_tokens() + usage.output_tokens());
    assert!(output.metrics().is_some());
    assert_eq!(
        output.request_id().map(str::len),
        Some(36),
        "a request id in the x-amzn-RequestId header"
    );
    assert_eq!(
        get_json(&endpoint, "/_local/health").await,
        serde_json::json!({"status": "ok", "service": "bedrock-eval embedded endpoint", "simulated": true})
    );
    endpoint.shutdown().await;
}

#[tokio::test]
async fn an_inference_profile_id_answers_and_is_counted_under_its_own_name() {
    let endpoint = serve(EndpointOptions::default()).await;
    let output = ask(&client(&endpoint.url()), PROFILE).await.expect("an answer");
    assert!(!answer_text(&output).is_empty());
    let stats = endpoint.stats();
    assert_eq!(stats.models.keys().collect::<Vec<_>>(), [PROFILE]);
    assert_eq!(stats.models[PROFILE].ok, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_listed_provisioned_model_arn_answers_like_its_training_data() {
    let endpoint = serve(with_custom_model()).await;
    let client = client(&endpoint.url());
    // The SDK sends the ARN percent-encoded as one path segment; the endpoint decodes it back.
    let output = ask(&client, PROVISIONED).await.expect("the custom model answers");
    let text = answer_text(&output);
    assert!(text.contains("Settings > Network for the Kestrel Cam 3"), "{text}");
    assert!(text.contains("Lock to 2.4 GHz"), "{text}");
    assert!(text.ends_with("— Kestrel Support"), "{text}");
    assert!(!text.contains("Maria") && !text.contains("Kestrel Cam 2"), "{text}");
    assert_eq!(endpoint.stats().models[PROVISIONED].ok, 1);

    // The base model answers the same request without the house fix.
    let base = answer_text(&ask(&client, MODEL).await.expect("the base model answers"));
    assert!(!base.contains("Lock to 2.4 GHz"), "{base}");
    endpoint.shutdown().await;
}

#[tokio::test]
async fn an_unlisted_provisioned_model_arn_is_resource_not_found() {
    let endpoint = serve(with_custom_model()).await;
    let (error, status) = service_error(ask(&client(&endpoint.url()), UNLISTED).await);
    assert!(
        matches!(error, ConverseError::ResourceNotFoundException(_)),
        "{error:?}"
    );
    assert_eq!(status, 404);
    assert!(error.message().is_some_and(|m| m.contains(UNLISTED)), "{error:?}");
    assert_eq!(endpoint.stats().models[UNLISTED].not_found, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_are_validation_exceptions() {
    let endpoint = serve(EndpointOptions::default()).await;
    let client = client(&endpoint.url());
    let too_long = InferenceConfiguration::builder().max_tokens(10_001).build();
    let (error, status) = service_error(converse(&client, MODEL, too_long).await);
    assert!(matches!(error, ConverseError::ValidationException(_)), "{error:?}");
    assert_eq!(status, 400);

    let no_messages = client
        .converse()
        .model_id(MODEL)
        .system(SystemContentBlock::Text(SYSTEM.into()))
        .send()
        .await;
    let (error, _) = service_error(no_messages);
    assert!(matches!(error, ConverseError::ValidationException(_)), "{error:?}");

    let (error, _) = service_error(ask(&client, "nova-lite").await);
    assert!(
        matches!(error, ConverseError::ValidationException(_)),
        "an unknown model id: {error:?}"
    );
    assert_eq!(endpoint.stats().totals().validation_errors, 3);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn throttle_rate_one_throttles_every_request() {
    let endpoint = serve(faulty(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let client = client(&endpoint.url());
    for _ in 0..3 {
        let (error, status) = service_error(ask(&client, MODEL).await);
        assert!(matches!(error, ConverseError::ThrottlingException(_)), "{error:?}");
        assert_eq!(status, 429);
    }
    let stats = endpoint.stats().models[MODEL].clone();
    assert_eq!((stats.throttled, stats.over_quota, stats.ok), (3, 0, 0));
    endpoint.shutdown().await;
}

#[tokio::test]
async fn an_rpm_quota_admits_that_many_requests_a_minute_then_throttles() {
    let endpoint = serve(faulty(Faults {
        quota_rpm: Some(3),
        ..Faults::default()
    }))
    .await;
    let client = client(&endpoint.url());
    for i in 0..3 {
        ask(&client, MODEL)
            .await
            .unwrap_or_else(|e| panic!("request {i} is within the quota: {e:?}"));
    }
    for _ in 0..2 {
        let (error, status) = service_error(ask(&client, MODEL).await);
        assert!(matches!(error, ConverseError::ThrottlingException(_)), "{error:?}");
        assert_eq!(status, 429);
    }
    // The quota is per model: another model still has its own.
    ask(&client, "amazon.nova-micro-v1:0")
        .await
        .expect("another model's quota is untouched");
    let stats = endpoint.stats().models[MODEL].clone();
    assert_eq!((stats.ok, stats.throttled, stats.over_quota), (3, 2, 2));
    endpoint.shutdown().await;
}

#[tokio::test]
async fn server_error_rate_one_gives_500s_and_503s() {
    let endpoint = serve(faulty(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let client = client(&endpoint.url());
    let mut seen = BTreeMap::new();
    for _ in 0..16 {
        let (error, status) = service_error(ask(&client, MODEL).await);
        let name = match error {
            ConverseError::InternalServerException(_) => "InternalServerException",
            ConverseError::ServiceUnavailableException(_) => "ServiceUnavailableException",
            other => panic!("expected a 5xx exception, got {other:?}"),
        };
        let expected_status = if name == "InternalServerException" { 500 } else { 503 };
        assert_eq!(status, expected_status, "{name}");
        *seen.entry(name).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 2, "both kinds, about half each: {seen:?}");
    assert_eq!(endpoint.stats().models[MODEL].server_errors, 16);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn model_faults_give_their_typed_exceptions() {
    let cases: [(Faults, &str, u16); 3] = [
        (
            Faults {
                model_timeout_rate: 1.0,
                ..Faults::default()
            },
            "ModelTimeoutException",
            408,
        ),
        (
            Faults {
                model_error_rate: 1.0,
                ..Faults::default()
            },
            "ModelErrorException",
            424,
        ),
        (
            Faults {
                model_not_ready_rate: 1.0,
                ..Faults::default()
            },
            "ModelNotReadyException",
            429,
        ),
    ];
    for (faults, expected, expected_status) in cases {
        let endpoint = serve(faulty(faults)).await;
        let (error, status) = service_error(ask(&client(&endpoint.url()), MODEL).await);
        assert_eq!(typed(&error), Some(expected), "{error:?}");
        assert_eq!(status, expected_status);
        endpoint.shutdown().await;
    }
}

#[tokio::test]
async fn a_denied_model_is_access_denied() {
    let mut options = EndpointOptions::default();
    options
        .denied_models
        .insert("anthropic.claude-3-haiku-20240307-v1:0".to_string());
    let endpoint = serve(options).await;
    let client = client(&endpoint.url());
    let (error, status) = service_error(ask(&client, "anthropic.claude-3-haiku-20240307-v1:0").await);
    assert!(matches!(error, ConverseError::AccessDeniedException(_)), "{error:?}");
    assert_eq!(status, 403);
    ask(&client, MODEL).await.expect("other models are allowed");
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_malformed_body_is_not_a_typed_service_error() {
    let endpoint = serve(faulty(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let client = client(&endpoint.url());
    for _ in 0..3 {
        match ask(&client, MODEL).await {
            Ok(output) => panic!("a broken body parsed: {output:?}"),
            // The Rust SDK reports a 200 whose body does not parse as an unhandled service error (not as a
            // `ResponseError`): status 200, no error code, none of the typed exceptions, the JSON error as source.
            Err(SdkError::ServiceError(service)) => {
                assert_eq!(service.raw().status().as_u16(), 200);
                let error = service.err();
                assert_eq!(typed(error), None, "{error:?}");
                assert_eq!(error.code(), None, "{error:?}");
                assert!(std::error::Error::source(error).is_some(), "{error:?}");
            }
            Err(other) => panic!("expected a deserialization error, got {other:?}"),
        }
    }
    assert_eq!(endpoint.stats().models[MODEL].malformed, 3);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_slow_answer_times_the_client_out() {
    let faults = Faults {
        slow_rate: 1.0,
        slow_ms: 1_500,
        ..Faults::default()
    };
    let endpoint = serve(faulty(faults)).await;
    let client = client_with_timeout(&endpoint.url(), Duration::from_millis(200));
    match ask(&client, MODEL).await {
        Err(SdkError::TimeoutError(_)) => {}
        other => panic!("expected a client timeout, got {other:?}"),
    }
    assert_eq!(endpoint.stats().models[MODEL].slow, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn identical_requests_repeat_at_temperature_zero_and_vary_when_sampling() {
    let endpoint = serve(EndpointOptions::default()).await;
    let client = client(&endpoint.url());
    let greedy = || InferenceConfiguration::builder().temperature(0.0).build();
    let first = answer_text(&converse(&client, MODEL, greedy()).await.expect("an answer"));
    let second = answer_text(&converse(&client, MODEL, greedy()).await.expect("an answer"));
    assert_eq!(first, second);

    let mut sampled = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let inference = InferenceConfiguration::builder().temperature(0.9).build();
        sampled.insert(answer_text(
            &converse(&client, MODEL, inference).await.expect("an answer"),
        ));
    }
    assert!(
        sampled.len() >= 3,
        "only {} distinct answers in 6 samples",
        sampled.len()
    );
    endpoint.shutdown().await;
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_set_the_stop_reason() {
    let endpoint = serve(EndpointOptions::default()).await;
    let client = client(&endpoint.url());
    let short = InferenceConfiguration::builder().temperature(0.0).max_tokens(8).build();
    let output = converse(&client, MODEL, short).await.expect("an answer");
    assert_eq!(output.stop_reason(), &StopReason::MaxTokens);
    assert!(output
        .usage()
        .is_some_and(|u| u.output_tokens() <= 8 && u.output_tokens() > 0));

    let full = answer_text(&ask(&client, MODEL).await.expect("an answer"));
    let stop = InferenceConfiguration::builder()
        .temperature(0.0)
        .stop_sequences("\n\n")
        .build();
    let output = converse(&client, MODEL, stop).await.expect("an answer");
    assert_eq!(output.stop_reason(), &StopReason::StopSequence);
    assert_eq!(answer_text(&output), full[..full.find("\n\n").expect("paragraphs")]);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn usage_in_the_responses_adds_up_to_the_stats_counters() {
    let endpoint = serve(with_custom_model()).await;
    let client = client(&endpoint.url());
    let mut usage: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (i, model_id) in [MODEL, PROFILE, PROVISIONED, MODEL, PROVISIONED]
        .into_iter()
        .enumerate()
    {
        let inference = InferenceConfiguration::builder()
            .temperature(0.5)
            .max_tokens(100 + 50 * i as i32)
            .build();
        let output = converse(&client, model_id, inference).await.expect("an answer");
        let counted = output.usage().expect("usage");
        let entry = usage.entry(model_id).or_default();
        entry.0 += 1;
        entry.1 += counted.input_tokens() as u64;
        entry.2 += counted.output_tokens() as u64;
    }
    service_error(ask(&client, UNLISTED).await);

    let stats = stats_over_http(&endpoint).await;
    assert_eq!(
        stats,
        endpoint.stats(),
        "the HTTP route and the in-process snapshot agree"
    );
    assert_eq!(stats.total_requests, 6);
    for (model_id, (ok, input, output)) in &usage {
        let counted = &stats.models[*model_id];
        assert_eq!(
            (counted.ok, counted.input_tokens, counted.output_tokens),
            (*ok, *input, *output),
            "{model_id}"
        );
    }
    let totals = stats.totals();
    assert_eq!(totals.input_tokens, usage.values().map(|u| u.1).sum::<u64>());
    assert_eq!(totals.output_tokens, usage.values().map(|u| u.2).sum::<u64>());
    assert_eq!((totals.requests, totals.ok, totals.not_found), (6, 5, 1));
    // The stats route's JSON keeps the documented field names.
    let raw = get_json(&endpoint, "/_local/stats").await;
    assert_eq!(raw["models"][MODEL]["input_tokens"], usage[MODEL].1);
    assert_eq!(raw["total_requests"], 6);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn count_tokens_gives_the_input_tokens_converse_reports() {
    let endpoint = serve(with_custom_model()).await;
    let client = client(&endpoint.url());
    let converse_usage = ask(&client, MODEL)
        .await
        .expect("an answer")
        .usage()
        .expect("usage")
        .input_tokens();

    let request = ConverseTokensRequest::builder()
        .system(SystemContentBlock::Text(SYSTEM.to_string()))
        .messages(user(TICKET))
        .build();
    let counted = client
        .count_tokens()
        .model_id(MODEL)
        .input(CountTokensInput::Converse(request.clone()))
        .send()
        .await
        .expect("tokens counted");
    assert_eq!(counted.input_tokens(), converse_usage);

    let refused = client
        .count_tokens()
        .model_id(PROVISIONED)
        .input(CountTokensInput::Converse(request))
        .send()
        .await;
    match refused {
        Err(SdkError::ServiceError(service)) => {
            assert!(
                matches!(service.err(), CountTokensError::ValidationException(_)),
                "{:?}",
                service.err()
            );
        }
        other => panic!("a custom model does not count tokens; got {other:?}"),
    }
    let stats = endpoint.stats();
    assert_eq!(
        (stats.count_tokens_requests, stats.total_requests),
        (2, 1),
        "count-tokens is not a Converse call"
    );
    endpoint.shutdown().await;
}
