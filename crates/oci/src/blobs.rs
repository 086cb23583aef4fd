//! [`BlobStore`]: a content-addressed directory of blobs (`sha256/HEX`), the cache pulled apps
//! run from. A blob is written to a temporary file, checked against its digest and only then
//! renamed into place: the store never holds a blob that does not match its name.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use kiln_manifest::{digest_of, ContentError, ContentStore};

/// Blobs by digest under one directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// A blob that could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The bytes are not what the digest names.
    #[error("blob {expected} arrived with digest {actual}: it was corrupted or truncated on the way; pull again")]
    Mismatch {
        /// The digest the blob was asked for by.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// Not a `sha256:` digest of 64 hex digits.
    #[error("\"{0}\" is not a sha256 digest")]
    BadDigest(String),
    /// The cache directory could not be written.
    #[error("writing blob {digest} under {dir}: {source}")]
    Io {
        /// The blob.
        digest: String,
        /// The store's directory.
        dir: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

impl BlobStore {
    /// The store under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the blob `digest` lives (whether or not it is there yet).
    pub fn path(&self, digest: &str) -> Result<PathBuf, BlobError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| BlobError::BadDigest(digest.to_string()))?;
        Ok(self.dir.join("sha256").join(hex.to_ascii_lowercase()))
    }

    /// Whether the blob `digest` is stored.
    pub fn has(&self, digest: &str) -> bool {
        self.path(digest).is_ok_and(|p| p.is_file())
    }

    /// Stores `bytes` as the blob `digest`, if they are what it names.
    pub fn write(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, BlobError> {
        let actual = digest_of(bytes);
        if actual != digest {
            return Err(BlobError::Mismatch {
                expected: digest.to_string(),
                actual,
            });
        }
        let path = self.path(digest)?;
        let io = |source| BlobError::Io {
            digest: digest.to_string(),
            dir: self.dir.clone(),
            source,
        };
        let parent = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io)?;
        let mut file = tempfile::NamedTempFile::new_in(parent).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.persist(&path).map_err(|e| io(e.error))?;
        Ok(path)
    }
}

impl ContentStore for BlobStore {
    fn local_path(&self, digest: &str) -> Result<PathBuf, ContentError> {
        match self.path(digest) {
            Ok(path) if path.is_file() => Ok(path),
            _ => Err(ContentError::Missing {
                digest: digest.to_string(),
                store: format!("the registry cache {}", self.dir.display()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_stored_only_under_its_own_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path());
        let digest = digest_of(b"hello");
        let path = store.write(&digest, b"hello").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert!(store.has(&digest));
        assert_eq!(store.local_path(&digest).unwrap(), path);

        let other = digest_of(b"other");
        let refused = store.write(&other, b"truncat").unwrap_err();
        assert!(matches!(refused, BlobError::Mismatch { .. }), "{refused}");
        assert!(!store.has(&other), "nothing is left behind");
        assert!(store.write("sha256:zz", b"x").is_err());
        assert!(store.local_path(&other).is_err());
    }
}
