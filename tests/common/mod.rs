//! Helpers for the integration tests: the real binary, the embedded endpoint as a separate process on loopback,
//! fixtures in temporary folders.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The bedrock-eval binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bedrock-eval"))
}

/// A command for the binary, with an environment that can only reach what the test says: no AWS profile, no
/// bearer token, no instance metadata, no endpoint from the surrounding shell.
pub fn command() -> Command {
    isolated(Command::new(binary()))
}

/// `command` with the environment [`command`] describes.
fn isolated(mut command: Command) -> Command {
    for var in [
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        command.env_remove(var);
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/bedrock-eval-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/bedrock-eval-test-credentials",
        );
    command
}

/// The command with placeholder credentials and a region, for runs through the standard AWS chain.
pub fn command_with_test_credentials() -> Command {
    let mut command = command();
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    command
}

/// `bedrock-eval serve` running as its own process on 127.0.0.1; killed (by its PID) when dropped.
pub struct Server {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl Server {
    /// Starts the endpoint with extra `serve` arguments and waits for its URL.
    pub fn start(args: &[&str]) -> Server {
        let mut child = command()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bedrock-eval serve");
        let stdout = child.stdout.take().expect("serve's stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read serve's URL");
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "serve printed `{url}`");
        Server { child, url }
    }

    /// Serves `suite`'s simulated models, with extra `serve` flags (faults, seed).
    pub fn for_suite(suite: &Path, flags: &[&str]) -> Server {
        let mut args = vec!["--suite", suite.to_str().expect("a UTF-8 path")];
        args.extend_from_slice(flags);
        Server::start(&args)
    }

    /// Runs `suite` against this endpoint (with placeholder credentials) as run `r` under `results`, asserts it
    /// succeeded, and returns the run folder.
    pub fn run(&self, suite: &Path, results: &Path) -> PathBuf {
        let output = command_with_test_credentials()
            .arg("run")
            .arg(suite)
            .args(["--run-id", "r", "--endpoint-url", &self.url, "--results"])
            .arg(results)
            .output()
            .expect("run bedrock-eval");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        results.join(suite_name(suite)).join("r")
    }

    /// The endpoint's counters (`GET /_local/stats`).
    pub fn stats(&self) -> serde_json::Value {
        get_json(&self.url, "/_local/stats")
    }

    /// 429 `ThrottlingException`s the endpoint answered over all models (random throttling and quota alike:
    /// the endpoint's `throttled` already includes `over_quota`).
    pub fn throttled(&self) -> u64 {
        let stats = self.stats();
        stats["models"]
            .as_object()
            .map(|models| models.values().map(|m| m["throttled"].as_u64().unwrap_or(0)).sum())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `name:` of a suite file.
pub fn suite_name(suite: &Path) -> String {
    std::fs::read_to_string(suite)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("name: ").map(|n| n.trim().to_string()))
        })
        .expect("the suite's name")
}

/// Runs `suite` on the embedded endpoint started in-process (`run --local`) as run `r` under `results`, asserts it
/// succeeded, and returns the run folder.
pub fn run_local(suite: &Path, results: &Path) -> PathBuf {
    let output = command()
        .arg("run")
        .arg(suite)
        .args(["--local", "--run-id", "r", "--results"])
        .arg(results)
        .output()
        .expect("run bedrock-eval");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    results.join(suite_name(suite)).join("r")
}

/// GET a JSON document from a loopback URL (`http://127.0.0.1:PORT`).
pub fn get_json(base_url: &str, path: &str) -> serde_json::Value {
    let authority = base_url.trim_start_matches("http://");
    assert!(authority.starts_with("127.0.0.1:"), "tests only talk to loopback");
    let mut stream = TcpStream::connect(authority).expect("connect to the endpoint");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("stats are not JSON ({e}): {response}"))
}

/// Copies the mini suite (its data and rubric) into `dir`; returns the suite's path there.
pub fn mini_suite(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/mini");
    for name in ["train.jsonl", "held-out.jsonl", "rubric.yaml", "suite.yaml"] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    dir.join("suite.yaml")
}

/// Copies the `labels` fixture (a small classification suite: data, suite, rubrics) into `dir`; returns the suite's
/// path there.
pub fn labels_suite(dir: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/labels");
    for name in [
        "held-out.jsonl",
        "train.jsonl",
        "suite.yaml",
        "rubric.yaml",
        "label-only.yaml",
    ] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    dir.join("suite.yaml")
}

/// Runs `suite` on the embedded endpoint as run `r` under `results`, and asserts it succeeded.
pub fn run_local_ok(suite: &Path, results: &Path) {
    run_local(suite, results);
}

/// Writes a copy of the example suite into `dir` (its data and rubric still read from the repository), plus
/// `extra` YAML appended; returns its path.
pub fn example_suite(dir: &Path, extra: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/support-tone");
    let mut text = std::fs::read_to_string(root.join("suite.yaml"))
        .unwrap()
        .replace("data/", &format!("{}/data/", root.display()))
        .replace("../../rubrics/", &format!("{}/../../rubrics/", root.display()));
    text.push_str(extra);
    let path = dir.join("suite.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Edits a suite file in place.
pub fn edit(path: &Path, find: &str, replace: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(find), "`{find}` not in {}", path.display());
    std::fs::write(path, text.replacen(find, replace, 1)).unwrap();
}

/// The records of a run directory, as JSON values.
pub fn records(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("records.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a valid record line"))
        .collect()
}

/// A shell running `line` exactly as a user would paste it, with the environment [`command`] describes.
pub fn shell(line: &str) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", line]);
    isolated(command)
}

/// Sends a signal (`INT`, `TERM`) to a child process, by its PID.
#[cfg(unix)]
pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {}", child.id());
}

/// Waits until the run folder holds at least `count` records (30 s at most); returns how many it holds.
pub fn wait_for_records(run_dir: &Path, count: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        // Complete lines only: a record being written may be half there.
        let recorded = std::fs::read(run_dir.join("records.jsonl"))
            .map_or(0, |bytes| bytes.iter().filter(|&&b| b == b'\n').count());
        if recorded >= count || std::time::Instant::now() > deadline {
            return recorded;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rewrites a run's `records.jsonl` in place, passing each record to `change`.
pub fn rewrite_records(run_dir: &Path, mut change: impl FnMut(&mut serde_json::Value)) {
    let path = run_dir.join("records.jsonl");
    let records: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).expect("a valid record line");
            change(&mut record);
            record.to_string()
        })
        .collect();
    std::fs::write(&path, records.join("\n") + "\n").unwrap();
}

/// Waits for `child` to end, killing it (by its PID) if it outlives `bound` — a bound on a test, not a speed target.
pub fn wait_bounded(child: &mut Child, bound: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child process") {
            return status;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command a stopped run printed to resume it: the line after the one saying "resume it … with:".
pub fn resume_line(stderr: &str) -> String {
    let mut lines = stderr.lines();
    lines
        .find(|l| l.contains("resume it") && l.ends_with("with:"))
        .and_then(|_| lines.next())
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no resume line in: {stderr}"))
}

/// A run's `run.json`.
pub fn run_json(run_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).expect("run.json")).expect("JSON")
}

/// `run SUITE --local --results RESULTS` with `extra` flags, to completion, whatever its exit.
pub fn run_local_with(suite: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    command()
        .arg("run")
        .arg(suite)
        .arg("--local")
        .arg("--results")
        .arg(results)
        .args(extra)
        .output()
        .expect("run bedrock-eval")
}

/// Starts `run SUITE --results RESULTS` with `args`, placeholder credentials and captured output.
pub fn spawn_run(suite: &Path, results: &Path, args: &[&str]) -> Child {
    command_with_test_credentials()
        .arg("run")
        .arg(suite)
        .arg("--results")
        .arg(results)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bedrock-eval run")
}

/// Converse requests the endpoint received.
pub fn total_requests(server: &Server) -> u64 {
    server.stats()["total_requests"].as_u64().expect("a count")
}

/// A run long enough to stop halfway, set up in `dir`: the mini suite with four repeats (96 requests), served with
/// 30 ms of latency per answer. Returns the suite, the endpoint, the results root and the folder of run `r`.
pub fn slow_run(dir: &Path) -> (PathBuf, Server, PathBuf, PathBuf) {
    let suite = mini_suite(dir);
    edit(&suite, "baseline: prompt", "baseline: prompt\nrepeats: 4");
    let server = Server::for_suite(&suite, &["--latency-ms", "30"]);
    let results = dir.join("results");
    let run_dir = results.join("mini/r");
    (suite, server, results, run_dir)
}
