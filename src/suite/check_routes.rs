//! Where each config's requests go: provider, base URL and key, one route per model id.

use std::collections::BTreeMap;

use super::check::Checker;
use super::schema::{ConfigKind, ConfigSection, ProviderKind, SuiteFile};
use crate::error::InputError;
use crate::redact::redact_url;

impl Checker<'_> {
    /// A config's `provider`, `base_url` and `api_key_env`: the URL and key only with `provider: openai`, where the
    /// URL is required; custom (fine-tuned ARN) configs run on Bedrock.
    pub(super) fn check_provider(&self, i: usize, config: &ConfigSection) -> Vec<InputError> {
        let mut errors = Vec::new();
        let field = |key: &str| format!("configs[{i}].{key}");
        match config.provider {
            ProviderKind::Bedrock => {
                for (key, set) in [
                    ("base_url", config.base_url.is_some()),
                    ("api_key_env", config.api_key_env.is_some()),
                ] {
                    if set {
                        errors.push(self.at(
                            &field(key),
                            format!(
                                "`{key}` is for `provider: openai` configs; a bedrock config is reached through the \
                                 AWS SDK (--region, --endpoint-url). Add `provider: openai` or remove `{key}`"
                            ),
                        ));
                    }
                }
            }
            ProviderKind::OpenAi => {
                match &config.base_url {
                    None => errors.push(self.at(
                        &field("provider"),
                        "an openai config needs `base_url`, the server's OpenAI-compatible API root, e.g. \
                         `http://127.0.0.1:8000/v1`",
                    )),
                    Some(url) => {
                        if let Err(problem) = check_base_url(url) {
                            errors.push(self.at(&field("base_url"), problem));
                        }
                    }
                }
                if let Some(name) = &config.api_key_env {
                    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        errors.push(self.at(
                            &field("api_key_env"),
                            format!(
                                "must be the name of an environment variable (letters, digits and `_`, not starting \
                                 with a digit), not the key itself; got `{name}`"
                            ),
                        ));
                    }
                }
                if config.kind == ConfigKind::Custom {
                    errors.push(self.at(
                        &field("kind"),
                        "custom configs are Bedrock fine-tuned models (an ARN) and need `provider: bedrock`; for a \
                         self-hosted fine-tuned model use `kind: prompt` with `provider: openai`",
                    ));
                }
            }
        }
        errors
    }

    /// Requests are routed by model id, so a model id must name one endpoint across the suite: the same provider,
    /// base URL and API key in every config that uses it.
    pub(super) fn check_model_routes(&self, file: &SuiteFile) -> Vec<InputError> {
        let mut errors = Vec::new();
        let mut first_use: BTreeMap<&str, (usize, &ConfigSection)> = BTreeMap::new();
        for (i, config) in file.configs.iter().enumerate() {
            let Some(&(_, first)) = first_use.get(config.model.as_str()) else {
                first_use.insert(&config.model, (i, config));
                continue;
            };
            let route = |c: &ConfigSection| {
                (
                    c.provider,
                    c.base_url.as_deref().map(|u| u.trim_end_matches('/').to_string()),
                    c.api_key_env.clone(),
                )
            };
            if route(first) != route(config) {
                errors.push(self.at(
                    &format!("configs[{i}].model"),
                    format!(
                        "model `{}` is also used by config `{}` through {}; requests are routed by model id, so every \
                         config using one model id must use the same provider, base_url and api_key_env (here: {})",
                        config.model,
                        first.name,
                        describe_route(first),
                        describe_route(config)
                    ),
                ));
            }
        }
        errors
    }
}

/// Where a config's requests go, for messages: `bedrock`, or `openai at URL (key from VAR)`.
fn describe_route(config: &ConfigSection) -> String {
    match config.provider {
        ProviderKind::Bedrock => "bedrock".to_string(),
        ProviderKind::OpenAi => {
            let url = config
                .base_url
                .as_deref()
                .map_or_else(|| "(no base_url)".to_string(), redact_url);
            match &config.api_key_env {
                Some(var) => format!("openai at {url} (key from {var})"),
                None => format!("openai at {url} (no key)"),
            }
        }
    }
}

/// Checks an OpenAI-compatible base URL: http or https, with a host, no query or fragment, and not already the
/// chat-completions path (the provider appends `/chat/completions`).
fn check_base_url(given: &str) -> Result<(), String> {
    // Messages quote the URL with any credentials in it (user info, a key in the query) replaced.
    let url = redact_url(given);
    let parsed = reqwest::Url::parse(given).map_err(|e| {
        format!(
            "`{url}` is not a URL ({e}); give the server's API root as an http:// or https:// URL, e.g. \
             `http://127.0.0.1:8000/v1`"
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{url}` must be an http:// or https:// URL with a host, e.g. `http://127.0.0.1:8000/v1`"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("`{url}` must not have a query or fragment"));
    }
    if parsed.path().trim_end_matches('/').ends_with("/chat/completions") {
        return Err(format!(
            "`{url}` is the chat-completions URL; give its root (without `/chat/completions`), which the tool \
             appends"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_about_a_base_url_do_not_print_its_credentials() {
        for url in [
            "ftp://user:s3cret-pass@127.0.0.1:8000/v1",
            "http://127.0.0.1:8000/v1?api_key=s3cret-pass",
            "http://user:s3cret-pass@127.0.0.1:8000/v1/chat/completions",
        ] {
            let problem = check_base_url(url).unwrap_err();
            assert!(!problem.contains("s3cret-pass"), "{problem}");
            assert!(problem.contains("127.0.0.1:8000"), "{problem}");
        }
    }
}
