//! Prompt caching end to end: the Bedrock provider (the real `aws-sdk-bedrockruntime` client) places a Converse
//! `cachePoint`, the embedded endpoint on 127.0.0.1 simulates the cache's write on first sight of a prefix and reads
//! after, and the usage comes back in `cacheWriteInputTokens` / `cacheReadInputTokens`.

use bedrock_eval::dataset::{Role, Turn};
use bedrock_eval::endpoint::{self, EndpointOptions};
use bedrock_eval::provider::bedrock::BedrockProvider;
use bedrock_eval::provider::{ModelRequest, Provider};
use bedrock_eval::run::plan::RequestFingerprint;
use bedrock_eval::suite::schema::InferenceSection;

/// A system prompt long enough to be cached (over Nova's 1,000-token minimum per checkpoint).
fn long_system() -> String {
    "You are a support agent for Kestrel Home. Follow the house style: greet by first name, name the product, \
     give numbered steps, and sign off as Kestrel Support. "
        .repeat(40)
}

fn request(system: &str, ticket: &str, cache: bool) -> ModelRequest {
    ModelRequest {
        model: "amazon.nova-lite-v1:0".to_string(),
        system: Some(system.to_string()),
        messages: vec![Turn {
            role: Role::User,
            text: ticket.to_string(),
        }],
        inference: InferenceSection {
            max_tokens: Some(200),
            temperature: Some(0.0),
            ..InferenceSection::default()
        },
        cache_after_messages: cache.then_some(0),
    }
}

#[tokio::test]
async fn the_first_request_writes_the_prefix_and_the_next_ones_read_it() {
    let running = endpoint::start(EndpointOptions::default(), "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("endpoint starts");
    let provider = BedrockProvider::for_local_endpoint(&running.url());
    let system = long_system();

    let uncached = provider
        .converse(&request(&system, "My Kestrel Cam 3 drops off the Wi-Fi.", false))
        .await
        .expect("uncached call");
    assert_eq!((uncached.cache_read_tokens, uncached.cache_write_tokens), (0, 0));

    let first = provider
        .converse(&request(&system, "My Kestrel Cam 3 drops off the Wi-Fi.", true))
        .await
        .expect("first cached call");
    assert!(first.cache_write_tokens >= 1_000, "{first:?}");
    assert_eq!(first.cache_read_tokens, 0);
    // The prefix moved out of the input tokens, as Bedrock reports them.
    assert_eq!(first.input_tokens + first.cache_write_tokens, uncached.input_tokens);

    let second = provider
        .converse(&request(&system, "The Kestrel Lock 2 jams in the cold.", true))
        .await
        .expect("second cached call");
    assert_eq!(
        (second.cache_read_tokens, second.cache_write_tokens),
        (first.cache_write_tokens, 0)
    );

    // A prefix under the minimum is not cached.
    let short = provider
        .converse(&request("Be brief.", "My Kestrel Cam 3 drops off the Wi-Fi.", true))
        .await
        .expect("short prefix");
    assert_eq!((short.cache_read_tokens, short.cache_write_tokens), (0, 0));
    running.shutdown().await;
}

#[test]
fn a_cached_request_is_a_different_request() {
    let system = long_system();
    let plain = request(&system, "Hi", false);
    let cached = request(&system, "Hi", true);
    assert_ne!(RequestFingerprint::of(&plain, 0), RequestFingerprint::of(&cached, 0));
    // An uncached request keeps the fingerprint it had before caching existed: the field is left out.
    assert!(!serde_json::to_string(&plain).unwrap().contains("cache"));
}
