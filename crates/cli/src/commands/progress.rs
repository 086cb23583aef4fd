//! [`Bars`]: a progress bar per layer while a push or pull moves it (bytes, on stderr), drawn
//! only when stderr is a terminal.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one push or pull.
pub(crate) struct Bars {
    all: MultiProgress,
    by_digest: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// Bars on stderr, or nothing drawn when stderr is not a terminal.
    pub(crate) fn new() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            all: MultiProgress::with_draw_target(target),
            by_digest: Mutex::default(),
        }
    }

    fn bar(&self, digest: &str) -> Option<ProgressBar> {
        self.by_digest.lock().ok()?.get(digest).cloned()
    }
}

impl kiln_oci::Transfer for Bars {
    fn start(&self, digest: &str, size: u64) {
        let bar = self.all.add(ProgressBar::new(size));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:19} [{bar:30}] {bytes:>10} / {total_bytes:<10} {bytes_per_sec}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        // The digest's first hex digits name the layer, as docker shows them.
        let short = digest.trim_start_matches("sha256:");
        bar.set_message(short[..short.len().min(12)].to_string());
        if let Ok(mut bars) = self.by_digest.lock() {
            bars.insert(digest.to_string(), bar);
        }
    }

    fn advance(&self, digest: &str, bytes: u64) {
        if let Some(bar) = self.bar(digest) {
            bar.inc(bytes);
        }
    }

    fn finish(&self, digest: &str) {
        if let Some(bar) = self.bar(digest) {
            bar.set_position(bar.length().unwrap_or_default());
            bar.finish();
        }
    }
}
