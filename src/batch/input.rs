//! The batch input side: a planned request as a Bedrock batch record, S3 locations, job names and how a model's
//! requests are split into jobs.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::dataset::Role;
use crate::provider::ModelRequest;
use crate::run::plan::PlannedRequest;

/// An `s3://bucket/prefix` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]`.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{uri}` is not an s3:// URI (expected s3://bucket/prefix)"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !bucket_ok {
            return Err(format!(
                "`{bucket}` is not a valid S3 bucket name (3 to 63 lowercase letters, digits, `-` or `.`)"
            ));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The key `prefix/parts...` joined with `/`.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(part);
        }
        key
    }

    /// `s3://bucket/key`.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }
}

/// A model id or ARN as one S3 path segment Bedrock accepts (`[-!_*'().a-zA-Z0-9]`): `amazon.nova-lite-v1:0` →
/// `amazon.nova-lite-v1-0`. Long ARNs keep their tail and gain a hash, so two models never share a folder.
pub fn model_slug(model: &str) -> String {
    let clean: String = model
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.len() <= 80 {
        return clean;
    }
    let tail = &clean[clean.len() - 60..];
    format!("{}-{}", tail.trim_start_matches(['-', '.']), short_hash(model, 10))
}

/// The first `len` hex digits of SHA-256 of `text`.
pub fn short_hash(text: &str, len: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..len.min(hex.len())].to_string()
}

/// A job name matching Bedrock's pattern (`[a-zA-Z0-9]` first, then `[a-zA-Z0-9+.-]`, at most 63 characters),
/// unique per run, model and part.
pub fn job_name(run_id: &str, slug: &str, part: usize) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let name = format!("bedrock-eval-{}-{}-p{part}", clean(run_id), clean(slug));
    if name.len() <= 63 {
        return name;
    }
    let hash = short_hash(&name, 10);
    format!("{}-{hash}", &name[..52])
}

/// The idempotency token of one job's creation: the same run, model, part and records always give the same token,
/// so a create repeated after a crash (before `batch.json` was written) returns the job already created.
pub fn client_request_token(run_id: &str, model: &str, part: usize, record_ids: &[String]) -> String {
    let mut hasher = Sha256::new();
    for piece in [run_id, model, &part.to_string()] {
        hasher.update(piece.as_bytes());
        hasher.update([0]);
    }
    for id in record_ids {
        hasher.update(id.as_bytes());
        hasher.update([0]);
    }
    let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("bedrock-eval-{}", &hex[..40])
}

/// The Converse request body of `request` (`messages`, `system`, `inferenceConfig`), as the SDK sends it for a
/// live call: floats widened from `f32` the same way, so the service sees identical numbers.
pub fn converse_body(request: &ModelRequest) -> Value {
    let cache_point = json!({ "cachePoint": { "type": "default" } });
    let messages: Vec<Value> = request
        .messages
        .iter()
        .enumerate()
        .map(|(index, turn)| {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let mut content = vec![json!({ "text": turn.text })];
            if request.cache_point_after(index) {
                content.push(cache_point.clone());
            }
            json!({ "role": role, "content": content })
        })
        .collect();
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if let Some(system) = &request.system {
        let mut blocks = vec![json!({ "text": system })];
        if request.cache_point_after_system() {
            blocks.push(cache_point);
        }
        body.insert("system".into(), Value::Array(blocks));
    }
    let inference = &request.inference;
    let mut config = Map::new();
    if let Some(max_tokens) = inference.max_tokens {
        config.insert("maxTokens".into(), json!(i32::try_from(max_tokens).unwrap_or(i32::MAX)));
    }
    if let Some(temperature) = inference.temperature {
        config.insert("temperature".into(), json!(f64::from(temperature)));
    }
    if let Some(top_p) = inference.top_p {
        config.insert("topP".into(), json!(f64::from(top_p)));
    }
    if !inference.stop_sequences.is_empty() {
        config.insert("stopSequences".into(), json!(inference.stop_sequences));
    }
    body.insert("inferenceConfig".into(), Value::Object(config));
    Value::Object(body)
}

/// The JSONL input of one job: `{"recordId": <fingerprint>, "modelInput": <Converse body>}` per line.
pub fn input_jsonl(requests: &[&PlannedRequest]) -> Vec<u8> {
    let mut out = Vec::new();
    for planned in requests {
        let line = json!({ "recordId": planned.fingerprint.0, "modelInput": converse_body(&planned.request) });
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Splits `count` records into the fewest jobs of at most `max` records, as even as possible (so each part stays
/// at or above the minimum whenever `max >= 2 * min`). Returns the part sizes.
pub fn part_sizes(count: usize, max: usize) -> Vec<usize> {
    if count == 0 || max == 0 {
        return Vec::new();
    }
    let parts = count.div_ceil(max);
    let base = count / parts;
    let extra = count % parts;
    (0..parts).map(|i| base + usize::from(i < extra)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Turn;
    use crate::suite::schema::InferenceSection;

    #[test]
    fn s3_uris_parse_into_bucket_and_prefix() {
        let location = S3Location::parse("s3://my-bucket/evals/batch/").expect("valid");
        assert_eq!(location.bucket, "my-bucket");
        assert_eq!(location.prefix, "evals/batch");
        assert_eq!(
            location.key(&["run", "m", "input.jsonl"]),
            "evals/batch/run/m/input.jsonl"
        );
        assert_eq!(S3Location::parse("s3://bkt").expect("valid").key(&["a"]), "a");
        assert!(S3Location::parse("https://bkt/x").is_err());
        assert!(S3Location::parse("s3://Bad_Bucket/x").is_err());
    }

    #[test]
    fn slugs_and_job_names_fit_bedrock_patterns() {
        assert_eq!(model_slug("amazon.nova-lite-v1:0"), "amazon.nova-lite-v1-0");
        let arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefabcdef".repeat(2);
        let slug = model_slug(&arn);
        assert!(slug.len() <= 80, "{slug}");
        let name = job_name("20261125T175305Z", &slug, 0);
        assert!(name.len() <= 63, "{name}");
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')));
        assert_eq!(
            job_name("r1", "amazon.nova-lite-v1-0", 1),
            "bedrock-eval-r1-amazon.nova-lite-v1-0-p1"
        );
    }

    #[test]
    fn parts_are_even_and_bounded() {
        assert_eq!(part_sizes(0, 10), Vec::<usize>::new());
        assert_eq!(part_sizes(10, 10), vec![10]);
        assert_eq!(part_sizes(11, 10), vec![6, 5]);
        assert_eq!(part_sizes(120_000, 50_000), vec![40_000, 40_000, 40_000]);
    }

    #[test]
    fn converse_bodies_carry_system_messages_and_set_parameters_only() {
        let request = ModelRequest {
            model: "amazon.nova-lite-v1:0".into(),
            system: Some("Be brief.".into()),
            messages: vec![Turn {
                role: Role::User,
                text: "Hi".into(),
            }],
            cache_after_messages: None,
            inference: InferenceSection {
                max_tokens: Some(300),
                temperature: Some(0.0),
                top_p: None,
                stop_sequences: Vec::new(),
            },
        };
        let body = converse_body(&request);
        assert_eq!(
            body,
            json!({
                "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
                "system": [{"text": "Be brief."}],
                "inferenceConfig": {"maxTokens": 300, "temperature": 0.0}
            })
        );
    }
}
