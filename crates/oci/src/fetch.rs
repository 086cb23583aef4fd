//! Components an app names by URL and digest (`{ url, digest }` dependencies): downloaded once
//! into the content-addressed [`BlobStore`], and refused when the bytes do not have the digest.

use std::path::PathBuf;

use anyhow::Context as _;
use kiln_manifest::digest_of;

use crate::BlobStore;

/// The local file of the content at `url`, which must have `digest`: from `blobs` when it is
/// already there, else downloaded into it.
pub async fn fetch_verified(url: &str, digest: &str, blobs: &BlobStore) -> anyhow::Result<PathBuf> {
    if blobs.has(digest) {
        return Ok(blobs.path(digest)?);
    }
    let response = crate::client::http_client()
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("downloading {url}"))?;
    let bytes = response
        .bytes()
        .await
        .with_context(|| format!("downloading {url}"))?;
    let got = digest_of(&bytes);
    anyhow::ensure!(
        got == digest,
        "{url} has digest {got}, not the {digest} the manifest names: fix the digest, or the URL"
    );
    Ok(blobs.write(digest, &bytes)?)
}
