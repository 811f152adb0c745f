//! Files that are not what they should be fail fast and say why: YAML nested absurdly deep, bytes that are not
//! UTF-8, a directory, FIFO or device where a file belongs, a line too long to be a record, and a `.env` where the
//! rubric belongs, whose secrets must not reach the terminal. A UTF-8 byte-order mark, on the other hand, is fine.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{command, mini_suite, wait_bounded};

/// The longest any of these commands may take before the test gives up on it (a bound, not a speed target: each
/// answers at once, but the refused inputs used to hang for minutes or forever).
const BOUND: Duration = Duration::from_secs(120);

/// Runs `command` to its end, killing it (by its PID) if it outlives [`BOUND`]; returns its exit code and stderr.
fn run_bounded(mut command: Command) -> (Option<i32>, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bedrock-eval");
    let status = wait_bounded(&mut child, BOUND);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).unwrap();
    (status.code(), stderr)
}

fn validate(suite: &Path) -> (Option<i32>, String) {
    let mut validate = command();
    validate.arg("validate").arg(suite);
    run_bounded(validate)
}

fn data_check(file: &Path) -> (Option<i32>, String) {
    let mut check = command();
    check.args(["data", "check"]).arg(file);
    run_bounded(check)
}

fn prepend(path: &Path, bytes: &[u8]) {
    let mut content = bytes.to_vec();
    content.extend(std::fs::read(path).unwrap());
    std::fs::write(path, content).unwrap();
}

#[test]
fn yaml_nested_200000_levels_deep_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    for (name, nesting) in [
        (
            "flow sequences",
            format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
        ),
        (
            "flow mappings",
            format!("{}1{}", "{a: ".repeat(200_000), "}".repeat(200_000)),
        ),
    ] {
        let text = std::fs::read_to_string(&suite).unwrap();
        let deep = suite.with_file_name("deep.yaml");
        std::fs::write(&deep, text.replace("name: mini", &format!("name: {nesting}"))).unwrap();
        let (code, stderr) = validate(&deep);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(stderr.contains("deep.yaml:2:"), "{name}: {stderr}");
        assert!(stderr.contains("nested more than 100 levels"), "{name}: {stderr}");
    }
}

#[test]
fn a_byte_order_mark_is_accepted_in_suites_rubrics_and_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    for name in ["suite.yaml", "rubric.yaml", "held-out.jsonl", "train.jsonl"] {
        prepend(&dir.path().join(name), b"\xEF\xBB\xBF");
    }
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = data_check(&dir.path().join("train.jsonl"));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn bytes_that_are_not_utf8_are_reported_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let held_out = dir.path().join("held-out.jsonl");
    let text = std::fs::read_to_string(&held_out).unwrap();
    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    // "Zoë" in Latin-1, as a file saved in the wrong encoding would have it.
    let at = lines[2]
        .windows(4)
        .position(|w| w == b"Zoe\"")
        .expect("line 3 names Zoe");
    lines[2].splice(at + 2..at + 3, [0xEB]);
    std::fs::write(&held_out, lines.join(&b'\n')).unwrap();
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("held-out.jsonl:3:"), "{stderr}");
    assert!(stderr.contains("not UTF-8") && stderr.contains("0xeb"), "{stderr}");
    let (code, stderr) = data_check(&held_out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("held-out.jsonl:3:"), "{stderr}");

    let rubric = dir.path().join("rubric.yaml");
    let mut bytes = std::fs::read(&rubric).unwrap();
    let at = bytes.windows(9).position(|w| w == b"gate: tru").expect("a gate");
    bytes[at] = 0xFF;
    std::fs::write(&rubric, bytes).unwrap();
    std::fs::write(&held_out, text).unwrap();
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("rubric.yaml:") && stderr.contains("not UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_directory_fifo_or_device_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    std::fs::remove_file(dir.path().join("held-out.jsonl")).unwrap();
    std::fs::create_dir(dir.path().join("held-out.jsonl")).unwrap();
    std::fs::remove_file(dir.path().join("train.jsonl")).unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.path().join("train.jsonl"))
        .status()
        .unwrap();
    assert!(made.success());
    common::edit(&suite, "rubric: rubric.yaml", "rubric: /dev/zero");
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        "dataset.held_out: not a regular file (a directory)",
        "dataset.training: not a regular file (a FIFO)",
        "rubric: not a regular file (a device)",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in: {stderr}");
    }
    assert!(!stderr.contains("not found"), "{stderr}");

    let (code, stderr) = data_check(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file (a directory)"), "{stderr}");
    let (code, stderr) = data_check(&dir.path().join("train.jsonl"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file (a FIFO)"), "{stderr}");
}

#[test]
fn a_line_over_8_mib_is_refused_at_load_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let held_out = dir.path().join("held-out.jsonl");
    let text = std::fs::read_to_string(&held_out).unwrap();
    let first = text.lines().next().unwrap();
    let huge = first.replace("Thanks, Lena", &format!("Thanks, Lena{}", " really".repeat(1_300_000)));
    assert!(huge.len() > 8 * 1024 * 1024);
    std::fs::write(&held_out, format!("{first}\n{huge}\n{text}")).unwrap();
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("held-out.jsonl:2:"), "{stderr}");
    assert!(stderr.contains("longer than 8 MiB"), "{stderr}");
    let (code, stderr) = data_check(&held_out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("held-out.jsonl:2:") && stderr.contains("longer than 8 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_rubric_pointed_at_a_dotenv_file_never_prints_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let secrets = [
        "sk-live-51HqLyjWDarjtT1zdp7dc",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "hunter2",
    ];
    let shapes = [
        format!(
            "# local settings\nOPENAI_API_KEY={}\nAWS_SECRET_ACCESS_KEY={}\nDB_PASSWORD={}\n",
            secrets[0], secrets[1], secrets[2]
        ),
        format!(
            "export OPENAI_API_KEY=\"{}\"\nexport AWS_SECRET_ACCESS_KEY='{}'\n",
            secrets[0], secrets[1]
        ),
        format!("OPENAI_API_KEY: {}\nDB_PASSWORD={}: x\n", secrets[0], secrets[2]),
        format!("pass_threshold: {}\ncriteria: []\n", secrets[0]),
    ];
    common::edit(&suite, "rubric: rubric.yaml", "rubric: .env");
    for env in shapes {
        std::fs::write(dir.path().join(".env"), &env).unwrap();
        let (code, stderr) = validate(&suite);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(".env:"), "{stderr}");
        for secret in secrets {
            assert!(!stderr.contains(secret), "`{secret}` printed from\n{env}\n: {stderr}");
        }
    }
}

#[test]
fn values_quoted_from_the_data_are_cut_to_an_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let held_out = dir.path().join("held-out.jsonl");
    let text = std::fs::read_to_string(&held_out).unwrap();
    let long_id = |n: usize| format!("{n}{}", "x".repeat(100_000));
    let with_ids = |id: &dyn Fn(usize) -> String| -> String {
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                let mut example: serde_json::Value = serde_json::from_str(line).unwrap();
                example["id"] = id(i).into();
                example.to_string() + "\n"
            })
            .collect()
    };
    // The same long id twice: the dataset's duplicate check quotes it.
    std::fs::write(&held_out, with_ids(&|i| long_id(i.min(1)))).unwrap();
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        stderr.contains("duplicate example id `1xxxx"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
    // Long ids and a pool too small for k: the suite's check names the example.
    std::fs::write(&held_out, with_ids(&long_id)).unwrap();
    common::edit(&suite, "k: 3", "k: 50");
    let (code, stderr) = validate(&suite);
    assert_eq!(code, Some(2), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        stderr.contains("for example `0xxxx"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
}
