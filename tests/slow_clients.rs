//! `serve` survives slow clients: connections that send nothing, or half a request head, hold more than all the
//! places the endpoint allows, and still `/_local/health` answers and a whole run goes through the SDK, because the
//! header-read timeout closes every one of them and the cap keeps them from piling up.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{get_json, mini_suite, records, Server};

/// The endpoint's limits in this test: small, so a few connections are more than it takes.
const MAX_CONNECTIONS: u64 = 8;
const HEADER_READ_TIMEOUT_MS: &str = "300";

/// Slow connections of each kind: four times the cap in all.
const EACH: usize = 16;

/// Whether the server closed `stream`: end of file, or a reset, before `bound` passes.
fn closed_by_server(mut stream: &TcpStream, bound: Duration) -> bool {
    stream.set_read_timeout(Some(bound)).unwrap();
    let mut buffer = [0u8; 256];
    match stream.read(&mut buffer) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    }
}

#[test]
fn idle_and_half_sent_connections_are_closed_and_real_requests_still_answered() {
    let dir = tempfile::tempdir().unwrap();
    let suite = mini_suite(dir.path());
    let server = Server::for_suite(
        &suite,
        &[
            "--max-connections",
            &MAX_CONNECTIONS.to_string(),
            "--header-read-timeout-ms",
            HEADER_READ_TIMEOUT_MS,
        ],
    );
    let authority = server.url.trim_start_matches("http://").to_string();
    let mut slow: Vec<TcpStream> = (0..EACH)
        .map(|_| TcpStream::connect(&authority).expect("connect"))
        .collect();
    for _ in 0..EACH {
        let mut stream = TcpStream::connect(&authority).expect("connect");
        write!(
            stream,
            "POST /model/amazon.nova-lite-v1:0/converse HTTP/1.1\r\nHost: {authority}\r\nX-Still-Typing: "
        )
        .unwrap();
        slow.push(stream);
    }

    // Behind four times as many slow connections as it has places, the endpoint still answers.
    assert_eq!(get_json(&server.url, "/_local/health")["status"], "ok");
    let run_dir = server.run(&suite, &dir.path().join("results"));
    let records = records(&run_dir);
    assert_eq!(records.len(), 24);
    assert!(records.iter().all(|r| r["status"] == "ok"), "{records:?}");

    // Each slow connection was closed by the endpoint, not left open for ever.
    let still_open = slow
        .iter()
        .filter(|stream| !closed_by_server(stream, Duration::from_secs(20)))
        .count();
    assert_eq!(still_open, 0, "of {} slow connections", slow.len());
    let stats = get_json(&server.url, "/_local/stats");
    let connections = &stats["connections"];
    assert!(
        connections["header_timeouts"].as_u64().unwrap() >= 2 * EACH as u64,
        "{connections}"
    );
    let peak = connections["peak_open"].as_u64().unwrap();
    assert!((1..=MAX_CONNECTIONS).contains(&peak), "{connections}");
}
