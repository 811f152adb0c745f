//! The AWS side of batch inference: clients, S3 upload and download, creating and describing jobs.

use aws_config::BehaviorVersion;
use aws_sdk_bedrock::error::DisplayErrorContext;
use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig,
    ModelInvocationJobS3OutputDataConfig, ModelInvocationType, S3InputFormat,
};
use aws_sdk_s3::primitives::ByteStream;

use super::input::S3Location;

/// The two clients the batch path needs: Bedrock's control plane (jobs) and S3 (input and output objects).
#[derive(Debug, Clone)]
pub struct BatchClients {
    /// Bedrock control plane (`CreateModelInvocationJob`, `GetModelInvocationJob`).
    pub bedrock: aws_sdk_bedrock::Client,
    /// S3, for the input and output objects.
    pub s3: aws_sdk_s3::Client,
}

impl BatchClients {
    /// Clients from the standard AWS configuration chain (credentials, region, `AWS_ENDPOINT_URL_BEDROCK` and
    /// `AWS_ENDPOINT_URL_S3`), with optional endpoint overrides; an S3 override uses path-style addressing.
    pub async fn from_environment(
        region: Option<&str>,
        profile: Option<&str>,
        bedrock_endpoint_url: Option<&str>,
        s3_endpoint_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        let sdk_config = loader.load().await;
        if sdk_config.region().is_none() {
            anyhow::bail!("no AWS region configured: pass --region or set AWS_REGION");
        }
        let mut bedrock = aws_sdk_bedrock::config::Builder::from(&sdk_config);
        if let Some(url) = bedrock_endpoint_url {
            bedrock = bedrock.endpoint_url(url);
        }
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk_config);
        if let Some(url) = s3_endpoint_url {
            s3 = s3.endpoint_url(url).force_path_style(true);
        }
        Ok(BatchClients {
            bedrock: aws_sdk_bedrock::Client::from_conf(bedrock.build()),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
        })
    }

    /// Clients for the embedded endpoint at `bedrock_url` and an S3-compatible server at `s3_url`, with fixed
    /// placeholder credentials (`access_key`/`secret_key`, which the S3 server may check) and no credential chain.
    pub fn for_local(bedrock_url: &str, s3_url: &str, access_key: &str, secret_key: &str) -> Self {
        let credentials =
            aws_sdk_s3::config::Credentials::new(access_key, secret_key, None, None, "bedrock-eval-local");
        let bedrock = aws_sdk_bedrock::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_bedrock::config::Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(bedrock_url)
            .build();
        let s3 = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(s3_url)
            .force_path_style(true)
            .build();
        BatchClients {
            bedrock: aws_sdk_bedrock::Client::from_conf(bedrock),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}

/// What one `CreateModelInvocationJob` needs.
pub(super) struct JobSpec<'a> {
    pub job_name: &'a str,
    pub role_arn: &'a str,
    pub model: &'a str,
    pub input_uri: &'a str,
    pub output_uri: &'a str,
    pub client_request_token: &'a str,
    pub timeout_hours: Option<u32>,
}

/// A job's state as `GetModelInvocationJob` reports it.
#[derive(Debug, Clone)]
pub(super) struct JobStatus {
    pub status: String,
    pub message: Option<String>,
    pub processed: Option<i64>,
    pub total: Option<i64>,
}

/// Statuses after which a job changes no more.
pub(super) fn is_final(status: &str) -> bool {
    matches!(
        status,
        "Completed" | "PartiallyCompleted" | "Failed" | "Stopped" | "Expired"
    )
}

/// Uploads `body` to `s3://bucket/key`.
pub(super) async fn upload(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> anyhow::Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/jsonl")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot upload s3://{bucket}/{key}: {}", DisplayErrorContext(&e)))?;
    Ok(())
}

/// Creates one job (modelInvocationType Converse: each `modelInput` is a Converse body) and returns its ARN.
pub(super) async fn create_job(bedrock: &aws_sdk_bedrock::Client, spec: &JobSpec<'_>) -> anyhow::Result<String> {
    let input = ModelInvocationJobS3InputDataConfig::builder()
        .s3_uri(spec.input_uri)
        .s3_input_format(S3InputFormat::Jsonl)
        .build()?;
    let output = ModelInvocationJobS3OutputDataConfig::builder()
        .s3_uri(spec.output_uri)
        .build()?;
    let mut call = bedrock
        .create_model_invocation_job()
        .job_name(spec.job_name)
        .role_arn(spec.role_arn)
        .model_id(spec.model)
        .client_request_token(spec.client_request_token)
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(input))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(output))
        .model_invocation_type(ModelInvocationType::Converse);
    if let Some(hours) = spec.timeout_hours {
        call = call.timeout_duration_in_hours(i32::try_from(hours).unwrap_or(i32::MAX));
    }
    let created = call.send().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot create the batch job for {}: {}",
            spec.model,
            DisplayErrorContext(&e)
        )
    })?;
    Ok(created.job_arn().to_string())
}

/// Describes one job.
pub(super) async fn describe_job(bedrock: &aws_sdk_bedrock::Client, job_arn: &str) -> anyhow::Result<JobStatus> {
    let job = bedrock
        .get_model_invocation_job()
        .job_identifier(job_arn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot describe batch job {job_arn}: {}", DisplayErrorContext(&e)))?;
    Ok(JobStatus {
        status: job
            .status()
            .map_or_else(|| "Unknown".to_string(), |s| s.as_str().to_string()),
        message: job.message().map(str::to_string),
        processed: job.processed_record_count(),
        total: job.total_record_count(),
    })
}

/// Every `*.jsonl.out` object under `<output>/<jobId>/`, concatenated (Bedrock writes one per input file).
pub(super) async fn download_outputs(
    s3: &aws_sdk_s3::Client,
    output: &S3Location,
    job_id: &str,
) -> anyhow::Result<Vec<u8>> {
    let prefix = format!("{}/", output.key(&[job_id]));
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(&output.bucket)
        .prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| anyhow::anyhow!("cannot list {}: {}", output.uri(&prefix), DisplayErrorContext(&e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key())
                .filter(|key| key.ends_with(".jsonl.out"))
                .map(str::to_string),
        );
    }
    keys.sort();
    let mut all = Vec::new();
    for key in keys {
        let object = s3
            .get_object()
            .bucket(&output.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read {}: {}", output.uri(&key), DisplayErrorContext(&e)))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", output.uri(&key)))?
            .into_bytes();
        all.extend_from_slice(&bytes);
        if !all.ends_with(b"\n") {
            all.push(b'\n');
        }
    }
    Ok(all)
}
