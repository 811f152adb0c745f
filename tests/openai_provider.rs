//! The OpenAI-compatible provider against the embedded endpoint's `/v1/chat/completions` (started in this process
//! on 127.0.0.1), a few loopback stubs for what the endpoint cannot answer (a 200 without usage) or cannot show
//! (the request as sent), the routing provider, and the suite checks of `provider`, `base_url` and `api_key_env`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bedrock_eval::dataset::{Role, Turn};
use bedrock_eval::endpoint::{self, EndpointOptions, Faults, RunningEndpoint};
use bedrock_eval::error::InputErrors;
use bedrock_eval::provider::bedrock::BedrockProvider;
use bedrock_eval::provider::openai::OpenAiProvider;
use bedrock_eval::provider::routing::{self, RoutingError};
use bedrock_eval::provider::{CallError, CallErrorKind, Completion, ModelRequest, Provider};
use bedrock_eval::suite::schema::InferenceSection;
use bedrock_eval::suite::{self, Suite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const BEDROCK_MODEL: &str = "amazon.nova-lite-v1:0";
const LOCAL_MODEL: &str = "llama3.1:8b";
const SYSTEM: &str = "You are a support agent for Kestrel Home. Reply to the customer's ticket.";
const TICKET: &str = "My Kestrel Cam 3 keeps dropping off the Wi-Fi at night, even after restarting the router.\n\n\
Thanks,\nJonas";

/// What every call may take at most, so that no test can hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve(options: EndpointOptions) -> RunningEndpoint {
    endpoint::start(options, "127.0.0.1:0".parse().expect("valid address"))
        .await
        .expect("endpoint starts")
}

fn faulty(faults: Faults) -> EndpointOptions {
    EndpointOptions {
        faults,
        seed: 3,
        ..EndpointOptions::default()
    }
}

fn openai(endpoint: &RunningEndpoint) -> OpenAiProvider {
    OpenAiProvider::new(&format!("{}/v1", endpoint.url()), None).expect("a valid base URL")
}

fn request(model: &str, inference: InferenceSection) -> ModelRequest {
    ModelRequest {
        model: model.to_string(),
        system: Some(SYSTEM.to_string()),
        messages: vec![Turn {
            role: Role::User,
            text: TICKET.to_string(),
        }],
        inference,
        cache_after_messages: None,
    }
}

fn deterministic() -> InferenceSection {
    InferenceSection {
        max_tokens: Some(400),
        temperature: Some(0.0),
        ..InferenceSection::default()
    }
}

async fn call(provider: &dyn Provider, request: &ModelRequest) -> Result<Completion, CallError> {
    tokio::time::timeout(CALL_TIMEOUT, provider.converse(request))
        .await
        .expect("the call ends in time")
}

async fn ask(provider: &dyn Provider, model: &str) -> Result<Completion, CallError> {
    call(provider, &request(model, deterministic())).await
}

#[tokio::test]
async fn a_completion_comes_back_with_its_usage_and_is_counted_under_the_model_name() {
    let endpoint = serve(EndpointOptions::default()).await;
    let completion = ask(&openai(&endpoint), LOCAL_MODEL).await.expect("an answer");
    assert!(completion.text.contains("Wi-Fi"), "{}", completion.text);
    assert_eq!(completion.stop_reason, "end_turn");
    assert!(
        completion.input_tokens > 0 && completion.output_tokens > 0,
        "{completion:?}"
    );
    assert_eq!(completion.service_latency_ms, None);

    let stats = endpoint.stats();
    let model = &stats.models[LOCAL_MODEL];
    assert_eq!((model.requests, model.ok), (1, 1));
    assert_eq!(
        (model.input_tokens, model.output_tokens),
        (completion.input_tokens, completion.output_tokens)
    );
    endpoint.shutdown().await;
}

#[tokio::test]
async fn the_openai_route_answers_exactly_as_converse_does_for_the_same_request() {
    let endpoint = serve(EndpointOptions::default()).await;
    let bedrock = BedrockProvider::for_local_endpoint(&endpoint.url());
    let through_converse = ask(&bedrock, BEDROCK_MODEL).await.expect("converse answers");
    let through_openai = ask(&openai(&endpoint), BEDROCK_MODEL)
        .await
        .expect("chat completions answers");
    assert_eq!(through_openai.text, through_converse.text);
    assert_eq!(
        (through_openai.input_tokens, through_openai.output_tokens),
        (through_converse.input_tokens, through_converse.output_tokens)
    );
    assert_eq!(endpoint.stats().models[BEDROCK_MODEL].ok, 2);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_reply_cut_at_max_tokens_says_so() {
    let endpoint = serve(EndpointOptions::default()).await;
    let inference = InferenceSection {
        max_tokens: Some(5),
        temperature: Some(0.0),
        ..InferenceSection::default()
    };
    let completion = call(&openai(&endpoint), &request(LOCAL_MODEL, inference))
        .await
        .expect("an answer");
    assert_eq!(completion.stop_reason, "max_tokens");
    assert!(completion.output_tokens <= 5, "{completion:?}");
    endpoint.shutdown().await;
}

#[tokio::test]
async fn throttling_is_a_retryable_throttling_error() {
    let endpoint = serve(faulty(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let error = ask(&openai(&endpoint), LOCAL_MODEL).await.expect_err("throttled");
    assert_eq!((error.kind, error.status), (CallErrorKind::Throttling, Some(429)));
    assert!(error.kind.is_retryable());
    assert!(error.message.contains("Too many requests"), "{error}");
    assert_eq!(endpoint.stats().models[LOCAL_MODEL].throttled, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_typed_by_their_status() {
    let endpoint = serve(faulty(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let provider = openai(&endpoint);
    let mut seen = Vec::new();
    for _ in 0..8 {
        let error = ask(&provider, LOCAL_MODEL).await.expect_err("a server error");
        let expected = match error.status {
            Some(500) => CallErrorKind::InternalServer,
            Some(503) => CallErrorKind::ServiceUnavailable,
            other => panic!("unexpected status {other:?}: {error}"),
        };
        assert_eq!(error.kind, expected);
        assert!(error.kind.is_retryable());
        seen.push(error.kind);
    }
    assert!(seen.contains(&CallErrorKind::InternalServer) && seen.contains(&CallErrorKind::ServiceUnavailable));
    assert_eq!(endpoint.stats().models[LOCAL_MODEL].server_errors, 8);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn other_refusals_keep_bedrocks_kinds_and_are_not_retried_unless_bedrocks_would_be() {
    let cases = [
        (
            Faults {
                model_timeout_rate: 1.0,
                ..Faults::default()
            },
            CallErrorKind::ModelTimeout,
            408,
        ),
        (
            Faults {
                model_error_rate: 1.0,
                ..Faults::default()
            },
            CallErrorKind::ModelError,
            424,
        ),
        (
            Faults {
                model_not_ready_rate: 1.0,
                ..Faults::default()
            },
            // OpenAI-compatible servers have no "not ready" error: a 429 is throttling.
            CallErrorKind::Throttling,
            429,
        ),
    ];
    for (faults, kind, status) in cases {
        let endpoint = serve(faulty(faults)).await;
        let error = ask(&openai(&endpoint), LOCAL_MODEL).await.expect_err("refused");
        assert_eq!((error.kind, error.status), (kind, Some(status)), "{error}");
        endpoint.shutdown().await;
    }

    let mut options = EndpointOptions::default();
    options.denied_models.insert(LOCAL_MODEL.to_string());
    let endpoint = serve(options).await;
    let provider = openai(&endpoint);
    let denied = ask(&provider, LOCAL_MODEL).await.expect_err("denied");
    assert_eq!((denied.kind, denied.status), (CallErrorKind::AccessDenied, Some(403)));
    assert!(!denied.kind.is_retryable());
    let too_hot = InferenceSection {
        temperature: Some(1.5),
        ..InferenceSection::default()
    };
    let invalid = call(&provider, &request("qwen2.5:7b", too_hot))
        .await
        .expect_err("invalid");
    assert_eq!((invalid.kind, invalid.status), (CallErrorKind::Validation, Some(400)));
    assert!(invalid.message.contains("temperature"), "{invalid}");
    assert_eq!(endpoint.stats().models["qwen2.5:7b"].validation_errors, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_broken_body_is_a_malformed_response() {
    let endpoint = serve(faulty(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let error = ask(&openai(&endpoint), LOCAL_MODEL).await.expect_err("broken body");
    assert_eq!(
        (error.kind, error.status),
        (CallErrorKind::MalformedResponse, Some(200))
    );
    assert_eq!(endpoint.stats().models[LOCAL_MODEL].malformed, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address")
    };
    let provider = OpenAiProvider::new(&format!("http://{closed}/v1"), None).expect("valid");
    let error = ask(&provider, LOCAL_MODEL).await.expect_err("nothing listens");
    assert_eq!((error.kind, error.status), (CallErrorKind::Network, None), "{error}");
    assert!(error.kind.is_retryable());
}

/// A loopback server that answers each of its canned responses once, in order, and reports every request it
/// received (head and body, as text).
struct Stub {
    url: String,
    requests: mpsc::UnboundedReceiver<String>,
}

impl Stub {
    async fn start(responses: Vec<(u16, &'static str)>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (sender, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for (status, body) in responses {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let received = read_request(&mut stream).await;
                let _ = sender.send(received);
                let response = format!(
                    "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        Stub { url, requests }
    }

    async fn next_request(&mut self) -> String {
        tokio::time::timeout(CALL_TIMEOUT, self.requests.recv())
            .await
            .expect("a request in time")
            .expect("the stub is running")
    }
}

/// One HTTP/1.1 request: the head, then as many body bytes as `content-length` says (at most 1 MiB).
async fn read_request(stream: &mut tokio::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    while data.len() < 1 << 20 {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
        match tokio::time::timeout(CALL_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => data.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

fn body_of(request: &str) -> serde_json::Value {
    let (_, body) = request.split_once("\r\n\r\n").expect("an HTTP request");
    serde_json::from_str(body).expect("a JSON body")
}

const NO_USAGE: &str = r#"{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,
"message":{"role":"assistant","content":"Hi Jonas"},"finish_reason":"stop"}]}"#;
const ZERO_USAGE: &str = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi Jonas"},
"finish_reason":"stop"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}"#;
const GOOD: &str = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi Jonas"},
"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":3,"total_tokens":43}}"#;

#[tokio::test]
async fn a_reply_without_usage_is_never_taken_as_free() {
    let stub = Stub::start(vec![(200, NO_USAGE), (200, ZERO_USAGE)]).await;
    let provider = OpenAiProvider::new(&format!("{}/v1", stub.url), None).expect("valid");
    for _ in 0..2 {
        let error = ask(&provider, LOCAL_MODEL).await.expect_err("no usage");
        assert_eq!(
            (error.kind, error.status),
            (CallErrorKind::MissingUsage, Some(200)),
            "{error}"
        );
        assert!(!error.kind.is_retryable());
    }
}

#[tokio::test]
async fn the_request_is_posted_to_chat_completions_with_the_key_only_when_one_is_configured() {
    let mut stub = Stub::start(vec![(200, GOOD), (200, GOOD)]).await;
    let base_url = format!("{}/v1/", stub.url);
    let inference = InferenceSection {
        max_tokens: Some(64),
        temperature: Some(0.0),
        top_p: Some(0.5),
        stop_sequences: vec!["\n\n\n".to_string()],
    };

    let with_key = OpenAiProvider::new(&base_url, Some("sk-local-test")).expect("valid");
    let completion = call(&with_key, &request(LOCAL_MODEL, inference.clone()))
        .await
        .expect("an answer");
    assert_eq!((completion.input_tokens, completion.output_tokens), (40, 3));
    let sent = stub.next_request().await;
    assert!(sent.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"), "{sent}");
    assert!(
        sent.to_lowercase()
            .contains("\r\nauthorization: bearer sk-local-test\r\n"),
        "{sent}"
    );
    assert_eq!(
        body_of(&sent),
        serde_json::json!({
            "model": LOCAL_MODEL,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TICKET}],
            "max_tokens": 64,
            "temperature": 0.0,
            "top_p": 0.5,
            "stop": ["\n\n\n"],
        })
    );

    let without_key = OpenAiProvider::new(&base_url, None).expect("valid");
    call(&without_key, &request(LOCAL_MODEL, inference))
        .await
        .expect("an answer");
    let sent = stub.next_request().await;
    assert!(!sent.to_lowercase().contains("\r\nauthorization:"), "{sent}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mini")
        .join(name)
}

/// Writes a suite over the mini fixtures with the given `configs:` block (YAML, indented by two) and extra
/// top-level YAML, and loads it.
fn load_suite(dir: &Path, configs: &str, extra: &str) -> Result<Suite, InputErrors> {
    let text = format!(
        "name: openai-test\ndataset:\n  held_out: {}\n  training: {}\nrubric: {}\nconfigs:\n{configs}baseline: prompt\n{extra}",
        fixture("held-out.jsonl").display(),
        fixture("train.jsonl").display(),
        fixture("rubric.yaml").display(),
    );
    let path = dir.join("suite.yaml");
    std::fs::write(&path, text).expect("write the suite");
    suite::load(&path)
}

const BEDROCK_CONFIG: &str = "  - {name: prompt, kind: prompt, model: amazon.nova-lite-v1:0}\n";

fn openai_config(name: &str, model: &str, base_url: &str, key: Option<&str>) -> String {
    let key = key.map_or_else(String::new, |k| format!(", api_key_env: {k}"));
    format!("  - {{name: {name}, kind: prompt, model: \"{model}\", provider: openai, base_url: \"{base_url}\"{key}}}\n")
}

#[tokio::test]
async fn the_router_sends_bedrock_models_to_converse_and_openai_models_to_their_server() {
    let endpoint = serve(EndpointOptions::default()).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let configs = format!(
        "{BEDROCK_CONFIG}{}",
        openai_config(
            "local",
            LOCAL_MODEL,
            &format!("{}/v1", endpoint.url()),
            Some("LOCAL_LLM_KEY")
        )
    );
    let suite = load_suite(dir.path(), &configs, "").expect("a valid suite");
    let bedrock: Arc<dyn Provider> = Arc::new(BedrockProvider::for_local_endpoint(&endpoint.url()));

    let missing = routing::build_with_env(&suite, Arc::clone(&bedrock), |_| None).expect_err("no key");
    assert!(matches!(&missing, RoutingError::MissingApiKey { variable, configs, .. }
        if variable == "LOCAL_LLM_KEY" && configs == &["local"]));
    assert!(missing.to_string().contains("`LOCAL_LLM_KEY` is not set"), "{missing}");

    let router = routing::build_with_env(&suite, bedrock, |name| {
        (name == "LOCAL_LLM_KEY").then(|| "sk-local-test".to_string())
    })
    .expect("providers set up");
    assert_eq!(router.routed_models(), [LOCAL_MODEL]);

    // Converse reports the service's latency; chat completions do not: that tells the two routes apart.
    let converse = ask(&router, BEDROCK_MODEL).await.expect("bedrock answers");
    assert!(converse.service_latency_ms.is_some(), "{converse:?}");
    let chat = ask(&router, LOCAL_MODEL).await.expect("the local model answers");
    assert_eq!(chat.service_latency_ms, None, "{chat:?}");
    // A model no config names (the judge's, say) goes to Bedrock.
    let judge = ask(&router, "amazon.nova-pro-v1:0").await.expect("bedrock answers");
    assert!(judge.service_latency_ms.is_some());

    let stats = endpoint.stats();
    assert_eq!(stats.models[BEDROCK_MODEL].ok, 1);
    assert_eq!(stats.models[LOCAL_MODEL].ok, 1);
    assert_eq!(stats.models["amazon.nova-pro-v1:0"].ok, 1);
    endpoint.shutdown().await;
}

#[tokio::test]
async fn the_router_sends_the_api_key_of_each_server() {
    let mut first = Stub::start(vec![(200, GOOD)]).await;
    let mut second = Stub::start(vec![(200, GOOD)]).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let configs = format!(
        "{BEDROCK_CONFIG}{}{}",
        openai_config("a", "model-a", &format!("{}/v1", first.url), Some("KEY_A")),
        openai_config("b", "model-b", &format!("{}/v1", second.url), None),
    );
    let suite = load_suite(dir.path(), &configs, "").expect("a valid suite");
    let bedrock: Arc<dyn Provider> = Arc::new(BedrockProvider::for_local_endpoint("http://127.0.0.1:9"));
    let router = routing::build_with_env(&suite, bedrock, |name| (name == "KEY_A").then(|| "sk-a".to_string()))
        .expect("providers set up");
    ask(&router, "model-a").await.expect("server a answers");
    ask(&router, "model-b").await.expect("server b answers");
    let to_first = first.next_request().await.to_lowercase();
    let to_second = second.next_request().await.to_lowercase();
    assert!(to_first.contains("\r\nauthorization: bearer sk-a\r\n"), "{to_first}");
    assert!(to_first.contains("\"model\":\"model-a\""), "{to_first}");
    assert!(!to_second.contains("\r\nauthorization:"), "{to_second}");
    assert!(to_second.contains("\"model\":\"model-b\""), "{to_second}");
}

#[tokio::test]
async fn with_the_local_endpoint_openai_configs_go_to_its_chat_completions_route() {
    let endpoint = serve(EndpointOptions::default()).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    // A server that is not running, and a key that is not set: neither is needed on the embedded endpoint.
    let configs = format!(
        "{BEDROCK_CONFIG}{}",
        openai_config(
            "local",
            LOCAL_MODEL,
            "http://127.0.0.1:9/v1",
            Some("UNSET_KEY_FOR_LOCAL_TEST")
        )
    );
    let suite = load_suite(dir.path(), &configs, "").expect("a valid suite");
    let bedrock: Arc<dyn Provider> = Arc::new(BedrockProvider::for_local_endpoint(&endpoint.url()));
    let router = routing::build_for_local_endpoint(&suite, bedrock, &endpoint.url()).expect("set up");
    let chat = ask(&router, LOCAL_MODEL).await.expect("the simulated model answers");
    assert_eq!(chat.service_latency_ms, None);
    assert_eq!(endpoint.stats().models[LOCAL_MODEL].ok, 1);
    endpoint.shutdown().await;
}

/// The errors of a suite that must not load, as `field: message` lines, each with a line number.
fn load_errors(configs: &str, extra: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let errors = load_suite(dir.path(), configs, extra).expect_err("an invalid suite").0;
    errors
        .into_iter()
        .map(|e| {
            assert!(e.line.is_some(), "no line for {e}");
            (e.field.unwrap_or_default(), e.message)
        })
        .collect()
}

fn has_error(errors: &[(String, String)], field: &str, words: &str) -> bool {
    errors.iter().any(|(f, m)| f == field && m.contains(words))
}

#[test]
fn provider_keys_are_checked_when_the_suite_loads() {
    let url = "http://127.0.0.1:8000/v1";
    let cases = [
        (
            "  - {name: prompt, kind: prompt, model: amazon.nova-lite-v1:0, base_url: \"http://x/v1\"}\n".to_string(),
            "configs[0].base_url",
            "for `provider: openai` configs",
        ),
        (
            "  - {name: prompt, kind: prompt, model: amazon.nova-lite-v1:0, api_key_env: KEY}\n".to_string(),
            "configs[0].api_key_env",
            "for `provider: openai` configs",
        ),
        (
            format!("{BEDROCK_CONFIG}  - {{name: local, kind: prompt, model: m, provider: openai}}\n"),
            "configs[1].provider",
            "needs `base_url`",
        ),
        (
            format!("{BEDROCK_CONFIG}{}", openai_config("local", "m", "127.0.0.1:8000/v1", None)),
            "configs[1].base_url",
            "http:// or https://",
        ),
        (
            format!("{BEDROCK_CONFIG}{}", openai_config("local", "m", "ftp://127.0.0.1/v1", None)),
            "configs[1].base_url",
            "http:// or https://",
        ),
        (
            format!(
                "{BEDROCK_CONFIG}{}",
                openai_config("local", "m", "http://127.0.0.1:8000/v1/chat/completions", None)
            ),
            "configs[1].base_url",
            "without `/chat/completions`",
        ),
        (
            format!("{BEDROCK_CONFIG}{}", openai_config("local", "m", url, Some("sk-abc123"))),
            "configs[1].api_key_env",
            "not the key itself",
        ),
        (
            format!(
                "{BEDROCK_CONFIG}  - {{name: tuned, kind: custom, model: my-tuned, provider: openai, base_url: \"{url}\"}}\n"
            ),
            "configs[1].kind",
            "need `provider: bedrock`",
        ),
        (
            format!("{BEDROCK_CONFIG}{}", openai_config("local", BEDROCK_MODEL, url, None)),
            "configs[1].model",
            "is also used by config `prompt` through bedrock",
        ),
        (
            format!(
                "{BEDROCK_CONFIG}{}{}",
                openai_config("a", "m", url, None),
                openai_config("b", "m", "http://127.0.0.1:8001/v1", None)
            ),
            "configs[2].model",
            "routed by model id",
        ),
        (
            format!(
                "{BEDROCK_CONFIG}{}{}",
                openai_config("a", "m", url, Some("KEY_A")),
                openai_config("b", "m", url, Some("KEY_B"))
            ),
            "configs[2].model",
            "same provider, base_url and api_key_env",
        ),
    ];
    for (configs, field, words) in cases {
        let errors = load_errors(&configs, "");
        assert!(has_error(&errors, field, words), "{configs}\n{errors:#?}");
        assert_eq!(errors.len(), 1, "one error for one mistake: {errors:#?}");
    }
}

#[test]
fn valid_openai_configs_load_and_an_openai_model_must_be_priced_explicitly() {
    let url = "http://127.0.0.1:8000/v1";
    // The same model in two configs through the same server (a trailing slash is the same server).
    let configs = format!(
        "{BEDROCK_CONFIG}{}{}",
        openai_config("local", LOCAL_MODEL, url, Some("LOCAL_KEY")),
        openai_config("local-2", LOCAL_MODEL, &format!("{url}/"), Some("LOCAL_KEY")),
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    load_suite(dir.path(), &configs, "").expect("valid without a cost section");

    let errors = load_errors(&configs, "cost:\n  monthly_requests: 1000\n");
    assert!(
        has_error(&errors, "configs[1].model", "cost.prices.llama3.1:8b.input_per_million"),
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 1, "one error per model, not per config: {errors:#?}");
    let priced = format!(
        "cost:\n  monthly_requests: 1000\n  prices:\n    \"{LOCAL_MODEL}\": {{input_per_million: 0, output_per_million: 0}}\n"
    );
    load_suite(dir.path(), &configs, &priced).expect("priced explicitly, at zero");
}
