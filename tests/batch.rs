//! Batch inference end to end over loopback: an in-process S3 server (s3s-fs on a temp dir), the embedded
//! endpoint serving the batch control plane, and the real SDK clients (aws-sdk-bedrock, aws-sdk-s3).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bedrock_eval::batch::{self, BatchClients, BatchSettings};
use bedrock_eval::endpoint::{self, EndpointOptions, RunningEndpoint, S3Options};
use bedrock_eval::provider::bedrock::BedrockProvider;
use bedrock_eval::run::plan::build_plan;
use bedrock_eval::run::records::{read_records, Record, RecordStatus};
use bedrock_eval::run::{run_suite, EndpointInfo, RunOptions, RECORDS_FILE};
use bedrock_eval::suite::{self, Suite};
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use serde_json::Value;
use tokio::task::JoinHandle;

const KEY: &str = "batchtest";
const SECRET: &str = "batchtest-secret";
const BUCKET: &str = "evals";

/// An S3 server on 127.0.0.1 storing objects under `root`; aborted when dropped.
struct S3Server {
    url: String,
    task: JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start_s3(root: &Path) -> S3Server {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs root");
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(KEY, SECRET));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = builder.serve_connection(TokioIo::new(socket), service).await;
            });
        }
    });
    S3Server { url, task }
}

fn mini_suite(dir: &Path) -> (PathBuf, Suite) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini");
    for name in ["train.jsonl", "held-out.jsonl", "rubric.yaml", "suite.yaml"] {
        std::fs::copy(fixture.join(name), dir.join(name)).expect("copy fixture");
    }
    let path = dir.join("suite.yaml");
    let suite = suite::load(&path).expect("the mini suite loads");
    (path, suite)
}

/// The endpoint options `run --local` uses for a suite (its seed and simulated custom models), plus S3.
fn options(suite: &Suite, s3_url: Option<&str>) -> EndpointOptions {
    EndpointOptions {
        s3: s3_url.map(|url| S3Options {
            endpoint_url: url.to_string(),
            access_key_id: KEY.into(),
            secret_access_key: SECRET.into(),
        }),
        ..suite.local_endpoint_options()
    }
}

async fn serve(options: EndpointOptions) -> RunningEndpoint {
    endpoint::start(options, "127.0.0.1:0".parse().expect("valid address"))
        .await
        .expect("endpoint starts")
}

fn settings(min_records_per_job: usize) -> BatchSettings {
    BatchSettings {
        s3_uri: format!("s3://{BUCKET}/batch"),
        role_arn: "arn:aws:iam::123456789012:role/BedrockBatch".into(),
        poll_interval_ms: 10,
        max_poll_interval_ms: 80,
        timeout_minutes: 1,
        min_records_per_job,
        max_records_per_job: 50_000,
        job_timeout_hours: None,
    }
}

async fn clients(endpoint: &RunningEndpoint, s3: &S3Server) -> BatchClients {
    let clients = BatchClients::for_local(&endpoint.url(), &s3.url, KEY, SECRET);
    clients
        .s3
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket created");
    clients
}

async fn batch_jobs(endpoint: &RunningEndpoint) -> Vec<Value> {
    let listing: Value = reqwest::get(format!("{}/_local/batch-jobs", endpoint.url()))
        .await
        .expect("listing answered")
        .json()
        .await
        .expect("listing is JSON");
    listing["jobs"].as_array().cloned().unwrap_or_default()
}

/// The plan's requests that batch inference accepts: the provisioned model's are left out (AWS refuses them).
fn batchable(suite: &Suite) -> Vec<bedrock_eval::run::plan::PlannedRequest> {
    build_plan(suite)
        .expect("plan")
        .into_iter()
        .filter(|p| !p.request.model.contains(":provisioned-model/"))
        .collect()
}

fn records_by_fingerprint(run_dir: &Path) -> BTreeMap<String, Record> {
    read_records(&run_dir.join(RECORDS_FILE))
        .expect("records readable")
        .records
        .into_iter()
        .map(|r| (r.fingerprint.0.clone(), r))
        .collect()
}

#[tokio::test]
async fn a_batch_run_records_what_a_live_run_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, suite) = mini_suite(dir.path());
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(&s3_root).expect("s3 root");
    let s3 = start_s3(&s3_root).await;

    // Live: the same simulated models through Converse.
    let live_endpoint = serve(options(&suite, None)).await;
    let provider = BedrockProvider::for_local_endpoint(&live_endpoint.url());
    let live_dir = dir.path().join("results/mini/live");
    let (_keep, mut interrupts) = tokio::sync::mpsc::channel(1);
    let info = EndpointInfo::Simulated {
        url: live_endpoint.url(),
        external: false,
    };
    run_suite(
        &suite,
        &provider,
        info,
        &live_dir,
        &RunOptions::default(),
        &mut interrupts,
    )
    .await
    .expect("live run");

    // Batch inference refuses the provisioned custom model, as AWS does: nothing is submitted for it.
    let batch_endpoint = serve(options(&suite, Some(&s3.url))).await;
    let clients = clients(&batch_endpoint, &s3).await;
    let refused_dir = dir.path().join("results/mini/refused");
    let error = batch::run_batch(&build_plan(&suite).expect("plan"), &settings(5), &clients, &refused_dir)
        .await
        .expect_err("a provisioned model in a batch job");
    assert!(
        format!("{error:#}").contains("isn't supported for provisioned models"),
        "{error:#}"
    );
    assert!(batch_jobs(&batch_endpoint).await.is_empty());
    // And the control plane refuses such a job the way AWS does, with a ValidationException.
    let refusal = clients
        .bedrock
        .create_model_invocation_job()
        .job_name("provisioned")
        .role_arn("arn:aws:iam::123456789012:role/BedrockBatch")
        .model_id("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/m1n1t3st0001")
        .input_data_config(
            aws_sdk_bedrock::types::ModelInvocationJobInputDataConfig::S3InputDataConfig(
                aws_sdk_bedrock::types::ModelInvocationJobS3InputDataConfig::builder()
                    .s3_uri(format!("s3://{BUCKET}/in.jsonl"))
                    .build()
                    .expect("input config"),
            ),
        )
        .output_data_config(
            aws_sdk_bedrock::types::ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
                aws_sdk_bedrock::types::ModelInvocationJobS3OutputDataConfig::builder()
                    .s3_uri(format!("s3://{BUCKET}/out/"))
                    .build()
                    .expect("output config"),
            ),
        )
        .model_invocation_type(aws_sdk_bedrock::types::ModelInvocationType::Converse)
        .send()
        .await
        .expect_err("a provisioned model");
    let service = refusal.into_service_error();
    assert!(service.is_validation_exception(), "{service:?}");
    assert!(batch_jobs(&batch_endpoint).await.is_empty());

    // The rest: one job for Nova Lite's 16 requests.
    let batch_dir = dir.path().join("results/mini/batchrun");
    let plan = batchable(&suite);
    let outcome = batch::run_batch(&plan, &settings(5), &clients, &batch_dir)
        .await
        .expect("batch run");
    assert_eq!(outcome.submitted_jobs, 1);
    assert_eq!(outcome.attached_jobs, 0);
    assert_eq!((outcome.ok_records, outcome.error_records), (16, 0));

    let live: BTreeMap<String, Record> = records_by_fingerprint(&live_dir)
        .into_iter()
        .filter(|(_, r)| r.model == "amazon.nova-lite-v1:0")
        .collect();
    let batched = records_by_fingerprint(&batch_dir);
    assert_eq!(live.len(), 16);
    assert_eq!(live.keys().collect::<Vec<_>>(), batched.keys().collect::<Vec<_>>());
    for (fingerprint, l) in &live {
        let b = &batched[fingerprint];
        assert_eq!(b.status, RecordStatus::Ok, "{b:?}");
        assert_eq!(
            (&b.example_id, &b.config, b.repeat, &b.model),
            (&l.example_id, &l.config, l.repeat, &l.model)
        );
        assert_eq!(b.output, l.output, "{fingerprint}");
        assert_eq!(b.stop_reason, l.stop_reason);
        assert_eq!((b.input_tokens, b.output_tokens), (l.input_tokens, l.output_tokens));
    }

    // Bedrock's layout in S3: the input where the job was told, the output under <output>/<jobId>/.
    let state = batch::state::read_state(&batch_dir).expect("batch.json");
    assert_eq!(state.jobs.len(), 1);
    assert!(state
        .jobs
        .iter()
        .all(|job| job.collected && job.final_status.as_deref() == Some("Completed")));
    let nova = state
        .jobs
        .iter()
        .find(|job| job.model == "amazon.nova-lite-v1:0")
        .expect("a Nova Lite job");
    assert_eq!(
        nova.input_uri,
        "s3://evals/batch/batchrun/amazon.nova-lite-v1-0/input.jsonl"
    );
    let bucket = s3_root.join(BUCKET);
    let input =
        std::fs::read_to_string(bucket.join("batch/batchrun/amazon.nova-lite-v1-0/input.jsonl")).expect("input");
    assert_eq!(input.lines().count(), 16);
    let first: Value = serde_json::from_str(input.lines().next().expect("a line")).expect("JSON");
    assert!(first["recordId"].as_str().is_some_and(|id| live.contains_key(id)));
    assert!(first["modelInput"]["messages"].is_array());
    let out_dir = bucket.join(format!("batch/batchrun/amazon.nova-lite-v1-0/output/{}", nova.job_id()));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("input.jsonl.out"))
            .expect("output")
            .lines()
            .count(),
        16
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("manifest.json.out")).expect("manifest"))
            .expect("manifest JSON");
    assert_eq!(manifest["successRecordCount"], 16);

    // The endpoint saw the one job through to Completed with its counts.
    let jobs = batch_jobs(&batch_endpoint).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["totalRecordCount"], 16);
    assert!(jobs
        .iter()
        .all(|j| j["status"] == "Completed" && j["modelInvocationType"] == "Converse"));

    // A second invocation has nothing left to attach to or submit.
    let again = batch::run_batch(&[], &settings(5), &clients, &batch_dir)
        .await
        .expect("re-run");
    assert_eq!((again.submitted_jobs, again.attached_jobs), (0, 0));
    assert_eq!(batch_jobs(&batch_endpoint).await.len(), 1);
}

#[tokio::test]
async fn a_rerun_attaches_to_submitted_jobs_instead_of_submitting_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, suite) = mini_suite(dir.path());
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(&s3_root).expect("s3 root");
    let s3 = start_s3(&s3_root).await;
    let endpoint = serve(options(&suite, Some(&s3.url))).await;
    let clients = clients(&endpoint, &s3).await;
    let run_dir = dir.path().join("results/mini/resumed");
    let plan = batchable(&suite);

    // Submit, then "die" before polling: only batch.json remembers the jobs.
    let created = batch::submit(&plan, &settings(5), &clients, &run_dir)
        .await
        .expect("submitted");
    assert_eq!(created, 1);
    let submitted = batch::state::read_state(&run_dir).expect("batch.json");
    assert_eq!(submitted.jobs.len(), 1);
    assert!(!run_dir.join(RECORDS_FILE).exists());

    // A crash between CreateModelInvocationJob and writing batch.json: the same idempotency token gives the same
    // jobs back, so nothing is created twice.
    std::fs::remove_file(run_dir.join(batch::state::BATCH_FILE)).expect("forget batch.json");
    batch::submit(&plan, &settings(5), &clients, &run_dir)
        .await
        .expect("resubmitted");
    let resubmitted = batch::state::read_state(&run_dir).expect("batch.json");
    let arns = |s: &batch::state::BatchState| s.jobs.iter().map(|j| j.job_arn.clone()).collect::<Vec<_>>();
    assert_eq!(arns(&resubmitted), arns(&submitted));
    assert_eq!(batch_jobs(&endpoint).await.len(), 1);

    // The re-run attaches, collects, and creates nothing.
    let outcome = batch::run_batch(&plan, &settings(5), &clients, &run_dir)
        .await
        .expect("attached");
    assert_eq!((outcome.submitted_jobs, outcome.attached_jobs), (0, 1));
    assert_eq!(outcome.ok_records, 16);
    assert_eq!(batch_jobs(&endpoint).await.len(), 1);
    assert_eq!(records_by_fingerprint(&run_dir).len(), 16);
    // Only the provisioned model's requests are left, for a live run.
    assert!(batch::pending_requests(&suite, &run_dir, false)
        .expect("pending")
        .iter()
        .all(|p| p.request.model.contains(":provisioned-model/")));

    // Killed while collecting (jobs not yet marked collected): collecting again writes no record twice.
    let mut state = batch::state::read_state(&run_dir).expect("batch.json");
    state.jobs.iter_mut().for_each(|job| job.collected = false);
    batch::state::write_state(&run_dir, &state).expect("written");
    let outcome = batch::run_batch(&plan, &settings(5), &clients, &run_dir)
        .await
        .expect("collected again");
    assert_eq!(
        (outcome.submitted_jobs, outcome.attached_jobs, outcome.ok_records),
        (0, 1, 0)
    );
    let lines = std::fs::read_to_string(run_dir.join(RECORDS_FILE)).expect("records");
    assert_eq!(lines.lines().count(), 16);
    assert_eq!(batch_jobs(&endpoint).await.len(), 1);
}

#[tokio::test]
async fn below_the_minimum_nothing_is_submitted_and_errors_become_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, suite) = mini_suite(dir.path());
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(&s3_root).expect("s3 root");
    let s3 = start_s3(&s3_root).await;
    let mut endpoint_options = options(&suite, Some(&s3.url));
    endpoint_options.denied_models.insert("amazon.nova-lite-v1:0".into());
    let endpoint = serve(endpoint_options).await;
    let clients = clients(&endpoint, &s3).await;
    let plan = batchable(&suite);

    // Bedrock's default minimum is 100 records per job: the mini suite's Nova Lite has 16, so it is refused, unpadded.
    let run_dir = dir.path().join("results/mini/small");
    let error = batch::run_batch(&plan, &settings(100), &clients, &run_dir)
        .await
        .expect_err("below the minimum");
    let message = format!("{error:#}");
    assert!(message.contains("at least 100 records"), "{message}");
    assert!(message.contains("amazon.nova-lite-v1:0 has 16"), "{message}");
    assert!(message.contains("live"), "{message}");
    assert!(batch_jobs(&endpoint).await.is_empty());
    assert!(!s3_root.join(BUCKET).join("batch").exists());

    // A record the model refuses is an error line in the output, recorded with its typed error.
    let run_dir = dir.path().join("results/mini/denied");
    let outcome = batch::run_batch(&plan, &settings(5), &clients, &run_dir)
        .await
        .expect("batch run");
    assert_eq!((outcome.ok_records, outcome.error_records), (0, 16));
    let records = records_by_fingerprint(&run_dir);
    let denied: Vec<&Record> = records.values().filter(|r| r.status == RecordStatus::Error).collect();
    assert_eq!(denied.len(), 16);
    let error = denied[0].error.as_ref().expect("an error");
    assert_eq!(error.kind.as_str(), "access_denied");
    assert_eq!(error.status, Some(403));
    let jobs = batch_jobs(&endpoint).await;
    assert!(jobs
        .iter()
        .any(|j| j["status"] == "PartiallyCompleted" && j["errorRecordCount"] == 16));
}

/// The example suite with a `batch:` section, without its provisioned fine-tuned config (batch inference does not
/// accept provisioned models).
fn example_suite_with_batch(dir: &Path) -> PathBuf {
    let path = example_suite_with_provisioned_batch(dir);
    let text = std::fs::read_to_string(&path).expect("suite");
    let cut = |text: &str, from: &str, to: &str| {
        let start = text.find(from).expect("start of the cut");
        let end = start + text[start..].find(to).expect("end of the cut");
        format!("{}{}", &text[..start], &text[end..])
    };
    let text = cut(&text, "  - name: fine-tuned\n", "# Scores the rubric");
    let text = cut(
        &text,
        "  custom:\n    fine-tuned:\n",
        "# Only used on the embedded endpoint",
    );
    let text = cut(
        &text,
        "  arn:aws:bedrock:us-east-1:123456789012:provisioned-model/k3str3lsupp0:\n    requests",
        "# What each",
    );
    std::fs::write(&path, text).expect("suite written");
    path
}

/// The example suite as shipped, with a `batch:` section.
fn example_suite_with_provisioned_batch(dir: &Path) -> PathBuf {
    common::example_suite(
        dir,
        &format!(
            "batch:\n  s3_uri: s3://{BUCKET}/cli\n  role_arn: arn:aws:iam::123456789012:role/BedrockBatch\n  \
             poll_interval_ms: 10\n  max_poll_interval_ms: 80\n  timeout_minutes: 1\n  min_records_per_job: 1\n"
        ),
    )
}

fn cli_run(suite: &Path, results: &Path, endpoint_url: &str, s3_url: &str, extra: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bedrock-eval"));
    for var in [
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    ] {
        command.env_remove(var);
    }
    command
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/bedrock-eval-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/bedrock-eval-test-credentials",
        )
        .arg("run")
        .arg(suite)
        .args(["--endpoint-url", endpoint_url, "--s3-endpoint-url", s3_url, "--results"])
        .arg(results)
        .args(extra)
        .output()
        .expect("run the binary")
}

fn csv_column(path: &Path, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let index = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column)
        .expect("column");
    reader.records().map(|r| r.expect("row")[index].to_string()).collect()
}

/// The example suite from the command line, live and in batch mode against the same simulated models: the same
/// records (text, tokens) and the same report numbers; the batch run is labelled as such, and a re-run attaches to
/// its jobs instead of submitting again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_suite_in_batch_mode_reports_what_a_live_run_reports() {
    let s3_root = tempfile::tempdir().expect("s3 root");
    let s3 = start_s3(s3_root.path()).await;
    let dir = tempfile::tempdir().expect("suite dir");
    // With its provisioned config the suite is refused for batch mode before anything is called: exit 2, naming it.
    let provisioned_dir = tempfile::tempdir().expect("suite dir");
    let provisioned = example_suite_with_provisioned_batch(provisioned_dir.path());
    let no_results = provisioned_dir.path().join("results");
    let (suite_owned, results_owned, s3_owned) = (provisioned.clone(), no_results.clone(), s3.url.clone());
    let refused = tokio::task::spawn_blocking(move || {
        cli_run(
            &suite_owned,
            &results_owned,
            "http://127.0.0.1:9",
            &s3_owned,
            &["--mode", "batch"],
        )
    })
    .await
    .expect("refused run ends");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("fine-tuned") && stderr.contains("configs[3].model"),
        "{stderr}"
    );
    assert!(!no_results.exists());

    let suite_path = example_suite_with_batch(dir.path());
    let suite = suite::load(&suite_path).expect("example suite loads");
    let endpoint = serve(options(&suite, Some(&s3.url))).await;
    let _clients = clients(&endpoint, &s3).await;
    let results = dir.path().join("results");
    let (endpoint_url, s3_url, suite_owned, results_owned) =
        (endpoint.url(), s3.url.clone(), suite_path.clone(), results.clone());
    let (live, batch, again) = tokio::task::spawn_blocking(move || {
        let run = |extra: &[&str]| cli_run(&suite_owned, &results_owned, &endpoint_url, &s3_url, extra);
        (
            run(&["--run-id", "live"]),
            run(&["--run-id", "b", "--mode", "batch"]),
            run(&["--run-id", "b", "--mode", "batch", "--resume"]),
        )
    })
    .await
    .expect("runs finish");
    for output in [&live, &batch, &again] {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(String::from_utf8_lossy(&again.stdout).contains("198 recorded earlier, 0 recorded now"));
    assert_eq!(
        batch_jobs(&endpoint).await.len(),
        1,
        "one job per model, none submitted by the re-run"
    );

    let (live_dir, batch_dir) = (results.join("support-tone/live"), results.join("support-tone/b"));
    let (live_records, batch_records) = (records_by_fingerprint(&live_dir), records_by_fingerprint(&batch_dir));
    assert_eq!(live_records.len(), 198);
    assert_eq!(
        live_records.keys().collect::<Vec<_>>(),
        batch_records.keys().collect::<Vec<_>>()
    );
    for (fingerprint, l) in &live_records {
        let b = &batch_records[fingerprint];
        assert_eq!(
            (&b.output, b.input_tokens, b.output_tokens),
            (&l.output, l.input_tokens, l.output_tokens)
        );
    }
    // The same numbers: every comparison, and each config's quality, pass rate and tokens.
    assert_eq!(
        std::fs::read(live_dir.join("comparisons.csv")).expect("live comparisons"),
        std::fs::read(batch_dir.join("comparisons.csv")).expect("batch comparisons")
    );
    for column in [
        "mean_quality",
        "quality_ci_t_low",
        "quality_ci_bca_high",
        "pass_rate",
        "input_tokens",
        "output_tokens",
    ] {
        assert_eq!(
            csv_column(&live_dir.join("summary.csv"), column),
            csv_column(&batch_dir.join("summary.csv"), column),
            "{column}"
        );
    }
    let metadata: Value =
        serde_json::from_str(&std::fs::read_to_string(batch_dir.join("run.json")).expect("run.json")).expect("JSON");
    assert_eq!(metadata["mode"], "batch");
    let report = std::fs::read_to_string(batch_dir.join("report.md")).expect("report");
    assert!(
        report.contains("batch inference (the run's cost at batch prices)"),
        "{report}"
    );
    // Nova Lite's batch price is half its on-demand price: the batch run's generation cost is lower.
    let cost = |dir: &Path| -> f64 {
        let metadata: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).expect("run.json")).expect("JSON");
        metadata["run_cost"]["generation"][0][1]
            .as_f64()
            .expect("prompt config's cost")
    };
    assert!(
        (cost(&batch_dir) - cost(&live_dir) / 2.0).abs() < 1e-9,
        "{} vs {}",
        cost(&batch_dir),
        cost(&live_dir)
    );
}
