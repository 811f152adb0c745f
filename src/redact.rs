//! Keeping secrets out of what the tool writes: credentials inside URLs are replaced before a URL (or a message
//! that quotes one) reaches `run.json`, a report, a log line or an error.
//!
//! A URL can carry a secret in two places: its user info (`https://user:password@host/`) and its query (presigned
//! AWS URLs carry `X-Amz-Security-Token`, `X-Amz-Signature` and `X-Amz-Credential`; OpenAI-compatible servers often
//! take `api_key`). Both are replaced by [`REDACTED`]; the scheme, host, port and path stay, so a reader can still
//! tell where calls went.

use std::sync::LazyLock;

use regex::Regex;

/// What a secret is replaced with.
pub const REDACTED: &str = "REDACTED";

/// Query parameters whose value is a secret (compared case-insensitively, `-` and `_` alike).
const SECRET_PARAMETERS: &[&str] = &[
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-credential",
    "api-key",
    "apikey",
    "key",
    "access-token",
    "token",
    "auth",
    "password",
    "secret",
    "signature",
    "sig",
    "code",
];

/// A URL with its user info and secret query values replaced by [`REDACTED`]. Text that is not a URL is returned
/// with the same replacements applied to anything URL-like inside it (see [`redact_urls_in`]).
pub fn redact_url(url: &str) -> String {
    redact_urls_in(url)
}

/// `text` with every URL inside it redacted: the user info of `scheme://user:password@host` and the values of
/// secret query parameters.
pub fn redact_urls_in(text: &str) -> String {
    static URL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#@"'<>()]*@)?([^\s?#"'<>()]*)(\?[^\s#"'<>()]*)?"#)
            .expect("the URL pattern is valid")
    });
    URL.replace_all(text, |caps: &regex::Captures<'_>| {
        let mut out = String::with_capacity(caps[0].len());
        out.push_str(&caps[1]);
        if caps.get(2).is_some() {
            out.push_str(REDACTED);
            out.push('@');
        }
        out.push_str(&caps[3]);
        if let Some(query) = caps.get(4) {
            out.push('?');
            out.push_str(&redact_query(&query.as_str()[1..]));
        }
        out
    })
    .into_owned()
}

/// A query string (without its `?`) with the values of secret parameters replaced.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret_parameter(name) && !value.is_empty() => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_parameter(name: &str) -> bool {
    let normalized = name.to_ascii_lowercase().replace('_', "-");
    let normalized = normalized.trim();
    SECRET_PARAMETERS.contains(&normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_replaced_and_the_host_kept() {
        assert_eq!(
            redact_url("https://alice:s3cret@bedrock.example:8443/v1"),
            "https://REDACTED@bedrock.example:8443/v1"
        );
        assert_eq!(redact_url("http://token@127.0.0.1:9/"), "http://REDACTED@127.0.0.1:9/");
    }

    #[test]
    fn secret_query_values_are_replaced_and_others_kept() {
        let url = "https://s3.example/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261202&\
                   X-Amz-Security-Token=FQoGZXIvYXdz&X-Amz-Signature=abcdef&region=us-east-1";
        assert_eq!(
            redact_url(url),
            "https://s3.example/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&\
             X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&region=us-east-1"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8000/v1?api_key=sk-live-123&model=x"),
            "http://127.0.0.1:8000/v1?api_key=REDACTED&model=x"
        );
        assert_eq!(redact_url("http://h/?API-KEY=1"), "http://h/?API-KEY=REDACTED");
    }

    #[test]
    fn urls_inside_messages_are_redacted_and_the_rest_kept() {
        let message = "error sending request for url (http://bob:hunter2@127.0.0.1:4000/model/x/converse?token=t0k): \
                       connection refused";
        let redacted = redact_urls_in(message);
        assert_eq!(
            redacted,
            "error sending request for url (http://REDACTED@127.0.0.1:4000/model/x/converse?token=REDACTED): \
             connection refused"
        );
        assert!(!redacted.contains("hunter2") && !redacted.contains("t0k"));
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for text in [
            "http://127.0.0.1:4000",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse",
            "no url here",
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
            "",
        ] {
            assert_eq!(redact_urls_in(text), text);
        }
    }
}
