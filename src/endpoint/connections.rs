//! Accepting connections so that slow clients cannot starve the endpoint: at most `max_connections` are open at
//! once (the next waits in the listen queue until one closes), and each is served over HTTP/1.1 by hyper with a
//! header-read timeout, so a connection that sends nothing, or half a request head, or idles between requests, is
//! closed after `header_read_timeout_ms` and its place goes to the next client. `axum::serve` offers neither
//! setting, hence this loop; it also closes connections gracefully on shutdown, as `axum::serve` did.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::server::Shared;

/// How long to wait before accepting again after the system refused (e.g. out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(200);

/// The limits on connections.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a request's head (request line and headers) may take to arrive, idle time before it included.
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` within `limits` until `stopped` completes, then closes idle connections, lets
/// requests in flight finish, and returns once every connection is closed.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    limits: ConnectionLimits,
    stopped: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(stopped);
    loop {
        let (permit, stream) = tokio::select! {
            () = &mut stopped => break,
            next = accept_within_cap(&listener, &permits) => next,
        };
        // Answers are small and written at once; waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        shared.connection_opened();
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let served = graceful.watch(connection);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let outcome = served.await;
            shared.connection_closed(outcome.is_err_and(|e| e.is_timeout()));
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The next connection, once fewer than the cap are open; the permit is its place, held until it closes.
async fn accept_within_cap(listener: &TcpListener, permits: &Arc<Semaphore>) -> (OwnedSemaphorePermit, TcpStream) {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return (permit, stream),
            // The client gave up before it was accepted: nothing to wait for.
            Err(e) if is_connection_error(&e) => {}
            Err(_) => tokio::time::sleep(ACCEPT_RETRY).await,
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}
