//! Guest stdout and stderr for apps: appended to `.kiln/logs/<component>_stdout.txt` and
//! `_stderr.txt` (as Spin keeps `.spin/logs/`), and echoed on kiln's own stdout and stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// Most bytes a guest may hand over in one write.
const MAX_WRITE: usize = 64 << 10;

/// A component's two output log files, opened when the guest first writes to them (an app of
/// thousands of components holds no files for those that never write).
#[derive(Clone)]
pub struct GuestLogs {
    pub(crate) stdout: GuestOutput,
    pub(crate) stderr: GuestOutput,
}

impl GuestLogs {
    /// Logs to `dir/<component_id>_stdout.txt` and `_stderr.txt`, appended to. Creates both
    /// files now (as Spin does), but holds neither open until the guest writes.
    pub fn open(dir: &Path, component_id: &str) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let output = |stream: &str, echo| -> io::Result<GuestOutput> {
            let path = dir.join(format!("{component_id}_{stream}.txt"));
            LogFile::open(&path)?;
            Ok(GuestOutput {
                file: Arc::new(LogFile {
                    path,
                    file: OnceLock::new(),
                }),
                echo,
            })
        };
        Ok(Self {
            stdout: output("stdout", Echo::Stdout)?,
            stderr: output("stderr", Echo::Stderr)?,
        })
    }
}

#[derive(Clone, Copy)]
enum Echo {
    Stdout,
    Stderr,
}

/// One guest output stream: its log file, then kiln's own stream.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    file: Arc<LogFile>,
    echo: Echo,
}

/// A log file, opened for appending on first use.
struct LogFile {
    path: PathBuf,
    file: OnceLock<File>,
}

impl LogFile {
    fn open(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    fn get(&self) -> io::Result<&File> {
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let opened = Self::open(&self.path)?;
        // Two first writes at once: one file is kept, the other closed.
        Ok(self.file.get_or_init(|| opened))
    }
}

impl GuestOutput {
    fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        let mut file = self.file.get()?;
        file.write_all(bytes)?;
        // kiln's own stream may be closed (a daemon); the log file is what must not fail.
        let _ = match self.echo {
            Echo::Stdout => io::stdout().lock().write_all(bytes),
            Echo::Stderr => io::stderr().lock().write_all(bytes),
        };
        Ok(())
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes)
            .map_err(|e| StreamError::LastOperationFailed(wasmtime::format_err!(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_WRITE)
    }
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
