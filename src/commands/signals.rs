//! Interrupts: Ctrl-C (SIGINT) and SIGTERM stop a run the same way — no new calls start or are retried, the calls in
//! flight finish their attempt and the answered ones are recorded, the command prints how to resume — and the exit
//! code says which signal came first.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Exit code after Ctrl-C (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Exit code after SIGTERM (128 + SIGTERM), as a process manager or CI runner expects.
pub(crate) const EXIT_TERMINATED: u8 = 143;

/// The interrupts a command is listening for, from [`Interrupts::listen`] until dropped.
pub(crate) struct Interrupts {
    receiver: mpsc::Receiver<()>,
    first: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl Interrupts {
    /// Starts listening: from now on SIGINT and SIGTERM no longer end the process, they send one message each.
    pub(crate) fn listen() -> Interrupts {
        let (sender, receiver) = mpsc::channel(4);
        let first = Arc::new(AtomicU8::new(0));
        let noted = Arc::clone(&first);
        let mut signals = Signals::register();
        let task = tokio::spawn(async move {
            while let Some(code) = signals.next().await {
                let _ = noted.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
                if sender.send(()).await.is_err() {
                    break;
                }
            }
        });
        Interrupts { receiver, first, task }
    }

    /// One message per signal received.
    pub(crate) fn receiver(&mut self) -> &mut mpsc::Receiver<()> {
        &mut self.receiver
    }

    /// The exit code of a command stopped by these interrupts: 143 when SIGTERM came first, else 130.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self.first.load(Ordering::SeqCst) {
            EXIT_TERMINATED => ExitCode::from(EXIT_TERMINATED),
            _ => ExitCode::from(EXIT_INTERRUPTED),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The signals listened for, registered when created (so none slips through before the listening task runs).
#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The exit code of the next signal; `None` once neither can be received any more.
    async fn next(&mut self) -> Option<u8> {
        async fn receive(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
            match signal {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        }
        if self.interrupt.is_none() && self.terminate.is_none() {
            return None;
        }
        tokio::select! {
            received = receive(&mut self.interrupt) => received.map(|()| EXIT_INTERRUPTED),
            received = receive(&mut self.terminate) => received.map(|()| EXIT_TERMINATED),
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn register() -> Signals {
        Signals
    }

    async fn next(&mut self) -> Option<u8> {
        tokio::signal::ctrl_c().await.ok().map(|()| EXIT_INTERRUPTED)
    }
}
