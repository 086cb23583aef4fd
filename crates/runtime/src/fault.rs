//! Why a request did not get its guest's answer: [`Failure`], with the [`FailureKind`] that
//! decides the status code, the metric label and the log line.

use std::error::Error as StdError;
use std::fmt;

use crate::limits::MemoryLimitExceeded;

/// What went wrong, in the few classes a client and an operator tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Every slot of the component was taken and none freed up in time (503).
    Busy,
    /// The request body was over the component's limit (413).
    RequestTooLarge,
    /// The guest did not finish within its timeout (504); it was stopped.
    Timeout,
    /// The guest grew its memory past its limit (500); it was stopped.
    MemoryLimit,
    /// The guest's response body was over its limit; it was stopped.
    ResponseTooLarge,
    /// The guest trapped: `unreachable`, a panic, a stack overflow, a division by zero (500).
    Trap,
    /// The guest returned without an answer, or answered with an error (500).
    GuestError,
    /// The component was unloaded and could not be loaded again (500).
    LoadFailed,
}

impl FailureKind {
    /// Every kind, in a fixed order (for metrics).
    pub const ALL: [FailureKind; 8] = [
        FailureKind::Busy,
        FailureKind::RequestTooLarge,
        FailureKind::Timeout,
        FailureKind::MemoryLimit,
        FailureKind::ResponseTooLarge,
        FailureKind::Trap,
        FailureKind::GuestError,
        FailureKind::LoadFailed,
    ];

    /// Its place in [`Self::ALL`].
    pub(crate) fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or_default()
    }

    /// The HTTP status a client gets for it: the one place a failure becomes a status.
    pub fn status(self) -> u16 {
        match self {
            FailureKind::Busy => 503,
            FailureKind::RequestTooLarge => 413,
            FailureKind::Timeout => 504,
            FailureKind::MemoryLimit
            | FailureKind::ResponseTooLarge
            | FailureKind::Trap
            | FailureKind::GuestError
            | FailureKind::LoadFailed => 500,
        }
    }

    /// A short snake_case name, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Busy => "busy",
            FailureKind::RequestTooLarge => "request_too_large",
            FailureKind::Timeout => "timeout",
            FailureKind::MemoryLimit => "memory_limit",
            FailureKind::ResponseTooLarge => "response_too_large",
            FailureKind::Trap => "trap",
            FailureKind::GuestError => "guest_error",
            FailureKind::LoadFailed => "load_failed",
        }
    }

    /// Whether the guest instance caused it (as opposed to the client or the load).
    pub fn is_guest_fault(self) -> bool {
        !matches!(
            self,
            FailureKind::Busy | FailureKind::RequestTooLarge | FailureKind::LoadFailed
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request or message that failed, and why.
#[derive(Debug)]
pub struct Failure {
    /// The class of failure.
    pub kind: FailureKind,
    /// What happened, with its causes.
    pub error: anyhow::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:#}", self.kind, self.error)
    }
}

impl StdError for Failure {}

impl Failure {
    /// A failure of `kind`, described by `error`.
    pub fn new(kind: FailureKind, error: impl Into<anyhow::Error>) -> Self {
        Self {
            kind,
            error: error.into(),
        }
    }

    /// What happened and why, on one line: the error's causes without the guest's backtrace.
    pub fn summary(&self) -> String {
        // wasmtime adds the backtrace as a context (not a typed error) with this fixed text.
        const BACKTRACE: &str = "error while executing at wasm backtrace";
        let causes: Vec<String> = self
            .error
            .chain()
            .map(ToString::to_string)
            .filter(|cause| !cause.starts_with(BACKTRACE))
            .collect();
        causes.join(": ")
    }

    /// A failure of `kind` described by `message`.
    pub(crate) fn msg(kind: FailureKind, message: impl fmt::Display) -> Self {
        Self::new(kind, anyhow::anyhow!("{message}"))
    }

    /// The failure of a guest stopped at its component's `timeout`.
    pub(crate) fn timed_out(timeout: std::time::Duration) -> Self {
        Self::msg(
            FailureKind::Timeout,
            format_args!("the guest ran past its timeout of {timeout:?} and was stopped"),
        )
    }

    /// The failure a guest's error or trap amounts to.
    pub fn from_guest(error: wasmtime::Error) -> Self {
        let kind = classify(error.chain());
        Self::new(kind, error)
    }
}

/// The kind of failure an error chain shows: a memory limit, a full instance pool (busy, as a
/// component past its `max_concurrent` is), a trap, or else a guest error.
fn classify<'a>(mut chain: impl Iterator<Item = &'a (dyn StdError + 'static)>) -> FailureKind {
    let mut kind = FailureKind::GuestError;
    for cause in chain.by_ref() {
        if cause.downcast_ref::<MemoryLimitExceeded>().is_some() {
            return FailureKind::MemoryLimit;
        }
        if cause
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return FailureKind::Busy;
        }
        if cause.downcast_ref::<wasmtime::Trap>().is_some() {
            kind = FailureKind::Trap;
        }
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_their_causes() {
        let trap = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached);
        assert_eq!(Failure::from_guest(trap).kind, FailureKind::Trap);
        let memory = wasmtime::Error::new(MemoryLimitExceeded {
            limit: 1,
            desired: 2,
        })
        .context("growing memory");
        assert_eq!(Failure::from_guest(memory).kind, FailureKind::MemoryLimit);
        let other = wasmtime::format_err!("no response");
        assert_eq!(Failure::from_guest(other).kind, FailureKind::GuestError);
        assert_eq!(FailureKind::Timeout.status(), 504);
        let with_backtrace = Failure::from_guest(
            wasmtime::Error::new(wasmtime::Trap::StackOverflow)
                .context("error while executing at wasm backtrace:\n    0: f")
                .context("calling the handler"),
        );
        assert_eq!(
            with_backtrace.summary(),
            "calling the handler: wasm trap: call stack exhausted"
        );
    }
}
