//! Which model a `modelId` names: a base model (by id, inference profile or foundation-model ARN), or a custom
//! model (a provisioned-model, custom-model-deployment, custom-model or imported-model ARN) that must be listed.

use super::wire::{BedrockError, ErrorKind};

/// Model providers whose ids Bedrock serves (`provider.model-name…`).
const PROVIDERS: &[&str] = &[
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "google",
    "luma",
    "meta",
    "minimax",
    "mistral",
    "moonshot",
    "nvidia",
    "openai",
    "qwen",
    "stability",
    "twelvelabs",
    "writer",
];

/// Prefixes of cross-region (system-defined) inference profiles.
const PROFILE_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."];

/// What a model id resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelTarget {
    /// A base model; the id without profile prefix or ARN (`amazon.nova-lite-v1:0`).
    Base(String),
    /// A listed custom model, by the key it is listed under.
    Custom(String),
}

/// A plain base-model id: a known provider, a dot, and a model name of letters, digits, `-`, `.` and `:`.
fn is_base_model_id(id: &str) -> bool {
    let Some((provider, name)) = id.split_once('.') else {
        return false;
    };
    PROVIDERS.contains(&provider)
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
}

fn without_profile_prefix(id: &str) -> &str {
    PROFILE_PREFIXES
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .filter(|rest| is_base_model_id(rest))
        .unwrap_or(id)
}

fn invalid() -> BedrockError {
    BedrockError::validation("The provided model identifier is invalid.")
}

/// Resolves `model_id`; `is_listed` says whether a custom-model key exists.
pub fn resolve(model_id: &str, is_listed: impl Fn(&str) -> bool) -> Result<ModelTarget, BedrockError> {
    if is_listed(model_id) {
        return Ok(ModelTarget::Custom(model_id.to_string()));
    }
    let Some(rest) = model_id.strip_prefix("arn:") else {
        let id = without_profile_prefix(model_id);
        return if is_base_model_id(id) {
            Ok(ModelTarget::Base(id.to_string()))
        } else {
            Err(invalid())
        };
    };
    // arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE-TYPE/ID (the id may itself hold colons).
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, service, _region, _account, resource] = parts[..] else {
        return Err(invalid());
    };
    if !partition.starts_with("aws") || service != "bedrock" {
        return Err(invalid());
    }
    let Some((kind, id)) = resource.split_once('/') else {
        return Err(invalid());
    };
    match kind {
        "foundation-model" | "inference-profile" if is_base_model_id(without_profile_prefix(id)) => {
            Ok(ModelTarget::Base(without_profile_prefix(id).to_string()))
        }
        "provisioned-model"
        | "custom-model-deployment"
        | "custom-model"
        | "imported-model"
        | "application-inference-profile" => {
            let what = kind.replace('-', " ");
            Err(BedrockError::new(
                ErrorKind::ResourceNotFound,
                format!(
                    "The {what} {model_id} was not found. Check the ARN, the Region and the account, and try again."
                ),
            ))
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVISIONED: &str = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl";

    fn resolve_listing(model_id: &str, listed: &[&str]) -> Result<ModelTarget, BedrockError> {
        resolve(model_id, |id| listed.contains(&id))
    }

    #[test]
    fn base_ids_profiles_and_foundation_arns_resolve_to_the_base_model() {
        let base = |id: &str| Ok(ModelTarget::Base(id.to_string()));
        assert_eq!(
            resolve_listing("amazon.nova-lite-v1:0", &[]),
            base("amazon.nova-lite-v1:0")
        );
        assert_eq!(
            resolve_listing("us.amazon.nova-lite-v1:0", &[]),
            base("amazon.nova-lite-v1:0")
        );
        assert_eq!(
            resolve_listing("anthropic.claude-3-haiku-20240307-v1:0", &[]),
            base("anthropic.claude-3-haiku-20240307-v1:0")
        );
        assert_eq!(
            resolve_listing("global.anthropic.claude-sonnet-4-v1:0", &[]),
            base("anthropic.claude-sonnet-4-v1:0")
        );
        assert_eq!(
            resolve_listing(
                "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-8b-instruct-v1:0",
                &[]
            ),
            base("meta.llama3-1-8b-instruct-v1:0")
        );
        assert_eq!(
            resolve_listing(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.mistral.mistral-large-v1:0",
                &[]
            ),
            base("mistral.mistral-large-v1:0")
        );
    }

    #[test]
    fn custom_arns_must_be_listed() {
        assert_eq!(
            resolve_listing(PROVISIONED, &[PROVISIONED]),
            Ok(ModelTarget::Custom(PROVISIONED.to_string()))
        );
        let error = resolve_listing(PROVISIONED, &[]).expect_err("unlisted");
        assert_eq!(error.kind, ErrorKind::ResourceNotFound);
        assert!(error.message.contains(PROVISIONED), "{}", error.message);
        let deployment = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghijkl";
        assert_eq!(
            resolve_listing(deployment, &[]).map_err(|e| e.kind),
            Err(ErrorKind::ResourceNotFound)
        );
    }

    #[test]
    fn anything_else_is_an_invalid_identifier() {
        for id in [
            "nova-lite",
            "foo.bar",
            "amazon.",
            "arn:aws:s3:::bucket/key",
            "arn:aws:bedrock:us-east-1:1:thing/x",
        ] {
            assert_eq!(
                resolve_listing(id, &[]).map_err(|e| e.kind),
                Err(ErrorKind::Validation),
                "{id}"
            );
        }
    }
}
