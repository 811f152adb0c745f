//! A run against `bedrock-eval serve` through `--endpoint-url` is labelled simulated, like a `--local` run, so the
//! report shows the banner and `compare` sees two simulated runs, not a mixed pair; any other server is not.

mod common;

use std::io::{Read, Write};

use common::{command, mini_suite, run_local_ok, Server};

#[test]
fn a_run_against_serve_is_labelled_simulated_and_compares_with_a_local_run() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(&suite, &[]);
    let served = server.run(&suite, &dir.path().join("served"));
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(served.join("run.json")).unwrap()).unwrap();
    assert_eq!(metadata["endpoint"]["kind"], "simulated", "{metadata}");
    assert_eq!(metadata["endpoint"]["url"], server.url.as_str());
    let report = std::fs::read_to_string(served.join("report.md")).unwrap();
    assert!(report.contains("**Simulated run.**"), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(served.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["simulated"], true);

    run_local_ok(&suite, &dir.path().join("local"));
    let output = command()
        .arg("compare")
        .arg(dir.path().join("local/mini/r"))
        .arg(&served)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{all}"
    );
    let markdown = std::fs::read_to_string(served.join("compare.md")).unwrap();
    assert!(!markdown.contains("One run was simulated"), "{markdown}");
    assert!(!all.contains("One run was simulated"), "{all}");
}

/// A loopback server that answers every request with `status` and `body`, for `requests` requests.
fn fixed_server(status: &str, body: &'static str, requests: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let status = status.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[tokio::test]
async fn only_the_embedded_endpoint_is_recognised() {
    let server = Server::start(&[]);
    assert!(bedrock_eval::endpoint::is_embedded_endpoint(&server.url).await);
    assert!(bedrock_eval::endpoint::is_embedded_endpoint(&format!("{}/", server.url)).await);
    // Another server with a health route of its own, one without, and nothing listening at all.
    let other = fixed_server("200 OK", r#"{"status": "ok"}"#, 1);
    assert!(!bedrock_eval::endpoint::is_embedded_endpoint(&other).await);
    let missing = fixed_server("404 Not Found", r#"{"message": "no such route"}"#, 1);
    assert!(!bedrock_eval::endpoint::is_embedded_endpoint(&missing).await);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    assert!(!bedrock_eval::endpoint::is_embedded_endpoint(&closed).await);
}
