//! Bedrock's control plane for batch inference: `CreateModelInvocationJob` (`POST /model-invocation-job`) and
//! `GetModelInvocationJob` (`GET /model-invocation-job/{jobIdentifier}`), with jobs completed in the background
//! against an S3-compatible server ([`super::S3Options`]): each input record is answered by the same simulated
//! model a live Converse call reaches, and the output is written where Bedrock writes it
//! (`<output>/<jobId>/<input file>.out` and `manifest.json.out`). `GET /_local/batch-jobs` lists the jobs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::server::{check_authorization, Shared};
use super::wire::{converse_body, json_response, BedrockError, ErrorKind};
use super::S3Options;

/// How long a new job stays `Submitted` before it starts, so callers can see the transition.
const START_DELAY: Duration = Duration::from_millis(20);
/// The account id in the job ARNs the endpoint hands out.
const ACCOUNT: &str = "123456789012";

/// The control plane's state: the simulated models (through [`Shared`]), the S3 client and the jobs.
pub(super) struct ControlPlane {
    shared: Arc<Shared>,
    s3: Option<aws_sdk_s3::Client>,
    seed: u64,
    jobs: Mutex<Jobs>,
}

#[derive(Default)]
struct Jobs {
    by_id: BTreeMap<String, Job>,
    by_token: HashMap<String, String>,
    created: u64,
}

/// One job, as `GetModelInvocationJob` describes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    job_arn: String,
    job_name: String,
    model_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_request_token: Option<String>,
    role_arn: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    submit_time: String,
    last_modified_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    input_data_config: Value,
    output_data_config: Value,
    model_invocation_type: &'static str,
    total_record_count: u64,
    processed_record_count: u64,
    success_record_count: u64,
    error_record_count: u64,
    #[serde(skip)]
    input_uri: String,
    #[serde(skip)]
    output_uri: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    job_name: String,
    role_arn: String,
    model_id: String,
    client_request_token: Option<String>,
    input_data_config: Value,
    output_data_config: Value,
    model_invocation_type: Option<String>,
}

/// The control-plane routes, with their own state.
pub(super) fn router(shared: Arc<Shared>, s3: Option<&S3Options>, seed: u64) -> Router {
    let s3 = s3.map(|options| {
        let credentials = aws_sdk_s3::config::Credentials::new(
            &options.access_key_id,
            &options.secret_access_key,
            None,
            None,
            "bedrock-eval-endpoint",
        );
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(&options.endpoint_url)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    });
    let control = Arc::new(ControlPlane {
        shared,
        s3,
        seed,
        jobs: Mutex::new(Jobs::default()),
    });
    Router::new()
        .route("/model-invocation-job", post(create_job))
        .route("/model-invocation-job/{job_identifier}", get(get_job))
        .route("/_local/batch-jobs", get(list_jobs))
        .with_state(control)
}

impl ControlPlane {
    fn lock(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Job)) {
        if let Some(job) = self.lock().by_id.get_mut(id) {
            change(job);
            job.last_modified_time = now();
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn request_id(seed: u64, n: u64) -> String {
    let digest = Sha256::new()
        .chain_update(b"control-request")
        .chain_update(seed.to_le_bytes())
        .chain_update(n.to_le_bytes())
        .finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `s3Uri` of `{"s3InputDataConfig": {"s3Uri": …}}` (or the output form).
fn s3_uri(config: &Value, member: &str, field: &str) -> Result<String, BedrockError> {
    config
        .pointer(&format!("/{member}/s3Uri"))
        .and_then(Value::as_str)
        .filter(|uri| uri.starts_with("s3://"))
        .map(str::to_string)
        .ok_or_else(|| BedrockError::validation(format!("{field}.{member}.s3Uri must be an s3:// URI")))
}

fn split_uri(uri: &str) -> (String, String) {
    let rest = uri.trim_start_matches("s3://");
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (bucket.to_string(), key.to_string())
}

/// `POST /model-invocation-job`: validates, creates (or, for a repeated `clientRequestToken`, finds) the job and
/// starts it.
async fn create_job(State(control): State<Arc<ControlPlane>>, headers: HeaderMap, body: Bytes) -> Response {
    let created = (|| {
        check_authorization(&headers)?;
        let body: CreateBody = serde_json::from_slice(&body)
            .map_err(|e| BedrockError::validation(format!("Malformed CreateModelInvocationJob request: {e}")))?;
        let name_ok = !body.job_name.is_empty()
            && body.job_name.len() <= 63
            && body.job_name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && body
                .job_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !name_ok {
            return Err(BedrockError::validation(format!(
                "1 validation error detected: Value '{}' at 'jobName' failed to satisfy constraint",
                body.job_name
            )));
        }
        if !body.role_arn.contains(":role/") {
            return Err(BedrockError::validation(format!(
                "1 validation error detected: Value '{}' at 'roleArn' failed to satisfy constraint",
                body.role_arn
            )));
        }
        // As AWS: "Batch inference isn't supported for provisioned models" (Bedrock user guide, batch inference).
        if body.model_id.contains(":provisioned-model/") {
            return Err(BedrockError::validation(format!(
                "Batch inference isn't supported for provisioned models: {}",
                body.model_id
            )));
        }
        if body.model_invocation_type.as_deref() != Some("Converse") {
            return Err(BedrockError::validation(
                "The local endpoint runs batch jobs with modelInvocationType Converse only.",
            ));
        }
        let input_uri = s3_uri(&body.input_data_config, "s3InputDataConfig", "inputDataConfig")?;
        let output_uri = s3_uri(&body.output_data_config, "s3OutputDataConfig", "outputDataConfig")?;
        if control.s3.is_none() {
            return Err(BedrockError::validation(
                "The local endpoint has no S3 server to read batch input from (endpoint option s3.endpoint_url).",
            ));
        }
        let mut jobs = control.lock();
        if let Some(id) = body.client_request_token.as_ref().and_then(|t| jobs.by_token.get(t)) {
            let arn = jobs.by_id[id].job_arn.clone();
            return Ok((arn, None));
        }
        jobs.created += 1;
        let digest = Sha256::new()
            .chain_update(b"batch-job")
            .chain_update(control.seed.to_le_bytes())
            .chain_update(jobs.created.to_le_bytes())
            .finalize();
        let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let arn = format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:model-invocation-job/{id}");
        let time = now();
        let job = Job {
            job_arn: arn.clone(),
            job_name: body.job_name,
            model_id: body.model_id,
            client_request_token: body.client_request_token.clone(),
            role_arn: body.role_arn,
            status: "Submitted",
            message: None,
            submit_time: time.clone(),
            last_modified_time: time,
            end_time: None,
            input_data_config: body.input_data_config,
            output_data_config: body.output_data_config,
            model_invocation_type: "Converse",
            total_record_count: 0,
            processed_record_count: 0,
            success_record_count: 0,
            error_record_count: 0,
            input_uri,
            output_uri,
        };
        jobs.by_id.insert(id.clone(), job);
        if let Some(token) = body.client_request_token {
            jobs.by_token.insert(token, id.clone());
        }
        Ok((arn, Some(id)))
    })();
    let n = control.lock().created;
    match created {
        Ok((arn, new_job)) => {
            if let Some(id) = new_job {
                tokio::spawn(run_job(Arc::clone(&control), id));
            }
            json_response(json!({ "jobArn": arn }).to_string(), &request_id(control.seed, n))
        }
        Err(error) => error.into_response(&request_id(control.seed, n)),
    }
}

/// `GET /model-invocation-job/{jobIdentifier}`: the job by ARN or id (the SDK sends the ARN percent-encoded as one
/// segment; the router decodes it).
async fn get_job(
    State(control): State<Arc<ControlPlane>>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
) -> Response {
    let id = identifier.rsplit('/').next().unwrap_or(&identifier).to_string();
    let found = check_authorization(&headers).and_then(|()| {
        control.lock().by_id.get(&id).cloned().ok_or_else(|| {
            BedrockError::new(
                ErrorKind::ResourceNotFound,
                format!("The specified job {identifier} was not found."),
            )
        })
    });
    let request = request_id(control.seed, u64::MAX);
    match found {
        Ok(job) => json_response(serde_json::to_string(&job).unwrap_or_default(), &request),
        Err(error) => error.into_response(&request),
    }
}

/// `GET /_local/batch-jobs`: every job, in creation order of ids (for tests and other processes).
async fn list_jobs(State(control): State<Arc<ControlPlane>>) -> Json<Value> {
    let jobs: Vec<Job> = control.lock().by_id.values().cloned().collect();
    Json(json!({ "jobs": jobs }))
}

/// Runs one job: Submitted → InProgress → Completed (PartiallyCompleted when some records failed, Failed when
/// the input or output could not be read or written).
async fn run_job(control: Arc<ControlPlane>, id: String) {
    tokio::time::sleep(START_DELAY).await;
    control.update(&id, |job| job.status = "InProgress");
    let outcome = process(&control, &id).await;
    control.update(&id, |job| {
        job.end_time = Some(now());
        match outcome {
            Ok(()) if job.error_record_count == 0 => job.status = "Completed",
            Ok(()) => job.status = "PartiallyCompleted",
            Err(message) => {
                job.status = "Failed";
                job.message = Some(message);
            }
        }
    });
}

async fn process(control: &ControlPlane, id: &str) -> Result<(), String> {
    let Some(s3) = &control.s3 else {
        return Err("no S3 server configured".into());
    };
    let (input_uri, output_uri, model_id) = {
        let jobs = control.lock();
        let job = &jobs.by_id[id];
        (job.input_uri.clone(), job.output_uri.clone(), job.model_id.clone())
    };
    let (bucket, key) = split_uri(&input_uri);
    let keys = input_keys(s3, &bucket, &key).await?;
    if keys.is_empty() {
        return Err(format!("no .jsonl input found at {input_uri}"));
    }
    let (out_bucket, out_prefix) = split_uri(output_uri.trim_end_matches('/'));
    let out_folder = if out_prefix.is_empty() {
        id.to_string()
    } else {
        format!("{out_prefix}/{id}")
    };
    let (mut input_tokens, mut output_tokens) = (0u64, 0u64);
    for key in keys {
        let object = s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))?
            .into_bytes();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        control.update(id, |job| job.total_record_count += lines.len() as u64);
        let mut out = String::new();
        for line in lines {
            let (answer, tokens) = answer_line(&control.shared, &model_id, line);
            input_tokens += tokens.0;
            output_tokens += tokens.1;
            let failed = answer.get("error").is_some();
            out.push_str(&answer.to_string());
            out.push('\n');
            control.update(id, |job| {
                job.processed_record_count += 1;
                if failed {
                    job.error_record_count += 1;
                } else {
                    job.success_record_count += 1;
                }
            });
        }
        let file = key.rsplit('/').next().unwrap_or(&key);
        put(s3, &out_bucket, &format!("{out_folder}/{file}.out"), out.into_bytes()).await?;
    }
    let manifest = {
        let jobs = control.lock();
        let job = &jobs.by_id[id];
        json!({
            "totalRecordCount": job.total_record_count,
            "processedRecordCount": job.processed_record_count,
            "successRecordCount": job.success_record_count,
            "errorRecordCount": job.error_record_count,
            "inputTokenCount": input_tokens,
            "outputTokenCount": output_tokens,
        })
    };
    put(
        s3,
        &out_bucket,
        &format!("{out_folder}/manifest.json.out"),
        manifest.to_string().into_bytes(),
    )
    .await
}

/// The input objects: the object itself when the URI names a `.jsonl` file, else every `.jsonl` under the folder.
async fn input_keys(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<String>, String> {
    if key.ends_with(".jsonl") {
        return Ok(vec![key.to_string()]);
    }
    let prefix = if key.is_empty() || key.ends_with('/') {
        key.to_string()
    } else {
        format!("{key}/")
    };
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&prefix)
        .send()
        .await
        .map_err(|e| format!("cannot list s3://{bucket}/{prefix}: {e}"))?;
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .filter(|k| k.ends_with(".jsonl"))
        .map(str::to_string)
        .collect();
    keys.sort();
    Ok(keys)
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot write s3://{bucket}/{key}: {e}"))
}

/// One output line for one input line: `modelOutput` (a Converse response body) or `error`, and its tokens.
fn answer_line(shared: &Shared, model_id: &str, line: &str) -> (Value, (u64, u64)) {
    let parsed: Result<Value, _> = serde_json::from_str(line);
    let (record_id, model_input) = match &parsed {
        Ok(value) => (value.get("recordId").cloned(), value.get("modelInput").cloned()),
        Err(_) => (None, None),
    };
    let mut out = serde_json::Map::new();
    if let Some(id) = record_id {
        out.insert("recordId".into(), id);
    }
    let Some(model_input) = model_input else {
        out.insert(
            "error".into(),
            json!({ "errorCode": 400, "errorMessage": "Malformed input record: expected {\"recordId\", \"modelInput\"}" }),
        );
        return (Value::Object(out), (0, 0));
    };
    let body = serde_json::to_vec(&model_input).unwrap_or_default();
    out.insert("modelInput".into(), model_input);
    match shared.answer_record(model_id, &body) {
        Ok(completion) => {
            let tokens = (u64::from(completion.input_tokens), u64::from(completion.output_tokens));
            let output: Value = serde_json::from_str(&converse_body(&completion, 0)).unwrap_or(Value::Null);
            out.insert("modelOutput".into(), output);
            (Value::Object(out), tokens)
        }
        Err(error) => {
            out.insert(
                "error".into(),
                json!({ "errorCode": error.kind.status().as_u16(), "errorMessage": error.message }),
            );
            (Value::Object(out), (0, 0))
        }
    }
}
