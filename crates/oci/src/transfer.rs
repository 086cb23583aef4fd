//! [`Transfer`]: what a push or pull reports as its layers move, for a progress display; and
//! the download of one blob, counted as it arrives and tried again when the connection drops.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use oci_client::manifest::OciDescriptor;
use oci_client::{Client, Reference};
use tokio::io::AsyncWrite;

/// Told how each layer of a push or pull moves. Every method does nothing by default.
pub trait Transfer: Send + Sync {
    /// A layer of `size` bytes starts moving.
    fn start(&self, _digest: &str, _size: u64) {}
    /// `bytes` more of it have moved.
    fn advance(&self, _digest: &str, _bytes: u64) {}
    /// It has arrived, or was already there.
    fn finish(&self, _digest: &str) {}
}

/// Reports nothing.
impl Transfer for () {}

/// Attempts at one blob before its download is an error.
const ATTEMPTS: u32 = 3;

/// Downloads the blob `layer` of `image`, reporting to `transfer`; a dropped connection is
/// tried again from the start (twice, after a short wait).
pub(crate) async fn download(
    client: &Client,
    image: &Reference,
    layer: &OciDescriptor,
    transfer: &dyn Transfer,
) -> anyhow::Result<Vec<u8>> {
    let size = u64::try_from(layer.size).unwrap_or_default();
    let mut attempt = 1;
    loop {
        transfer.start(&layer.digest, size);
        let mut counted = Counted {
            bytes: Vec::with_capacity(usize::try_from(size).unwrap_or_default()),
            digest: &layer.digest,
            transfer,
        };
        match client.pull_blob(image, layer, &mut counted).await {
            Ok(()) => {
                transfer.finish(&layer.digest);
                return Ok(counted.bytes);
            }
            Err(e) if attempt < ATTEMPTS => {
                let wait = Duration::from_millis(200 * u64::from(attempt));
                tracing::warn!(
                    "fetching {} of {image} failed ({e}); trying again in {wait:?}",
                    layer.digest
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(anyhow::Error::from(e).context(format!(
                "fetching layer {} of {image} failed {ATTEMPTS} times: is the registry reachable?",
                layer.digest
            )))
            }
        }
    }
}

/// A buffer that reports each write.
struct Counted<'a> {
    bytes: Vec<u8>,
    digest: &'a str,
    transfer: &'a dyn Transfer,
}

impl AsyncWrite for Counted<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.bytes.extend_from_slice(buf);
        self.transfer.advance(self.digest, buf.len() as u64);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
