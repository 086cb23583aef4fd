//! The files an app is made of (components' Wasm, static files), named by their SHA-256 digest
//! so that an [`AppSpec`] can travel: [`AppSpec::lock`] turns every file of a checkout into a
//! [`Content::Digest`], and whoever loads the spec resolves digests through a
//! [`ContentStore`]: the checkout itself ([`LocalFiles`]) today, a registry's or a lattice's
//! store as well tomorrow.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::AppSpec;

/// One file of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// A file of the checkout, at this absolute path: how the manifest names it.
    File(PathBuf),
    /// Content named by its digest (`sha256:HEX`), which a [`ContentStore`] resolves.
    Digest(String),
    /// A component elsewhere, to fetch before the app loads (`kiln up` and the other
    /// commands that load an app fetch it and name it by its file).
    Remote(RemoteSource),
}

/// Where a component's Wasm is fetched from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteSource {
    /// `source = { url, digest }`: downloaded, and refused unless it has the digest.
    Url {
        /// Where it is.
        url: String,
        /// `sha256:HEX`.
        digest: String,
    },
    /// `source = { registry, package, version }`: a package version from a registry.
    Package {
        /// The registry, when not the one wasm-pkg's config maps the namespace to.
        registry: Option<String>,
        /// The package (`ns:name`).
        package: String,
        /// Its version (exactly).
        version: String,
    },
}

impl std::fmt::Display for RemoteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteSource::Url { url, .. } => f.write_str(url),
            RemoteSource::Package {
                package, version, ..
            } => write!(f, "{package}@{version}"),
        }
    }
}

impl Default for Content {
    fn default() -> Self {
        Content::File(PathBuf::new())
    }
}

impl Content {
    /// Where the content was found in a checkout, if it names a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Content::File(path) => Some(path),
            Content::Digest(_) | Content::Remote(_) => None,
        }
    }

    /// Its digest, if it is named by one.
    pub fn digest(&self) -> Option<&str> {
        match self {
            Content::File(_) | Content::Remote(_) => None,
            Content::Digest(digest) => Some(digest),
        }
    }

    /// A local file that holds it: the file it names, or what `store` holds for its digest.
    pub fn local_path(&self, store: &dyn ContentStore) -> Result<PathBuf, ContentError> {
        match self {
            Content::File(path) => Ok(path.clone()),
            Content::Digest(digest) => store.local_path(digest),
            Content::Remote(source) => Err(ContentError::NotFetched(source.to_string())),
        }
    }
}

/// The digest that names `bytes`: `sha256:` and 64 lower-case hex digits.
pub fn digest_of(bytes: &[u8]) -> String {
    let mut digest = String::with_capacity(71);
    digest.push_str("sha256:");
    for byte in Sha256::digest(bytes) {
        let _ = write!(digest, "{byte:02x}");
    }
    digest
}

/// Where the content that digests name can be read.
pub trait ContentStore: Send + Sync {
    /// A local file holding the content `digest` names. The file is expected to hold exactly
    /// that content; a reader that hashes it anyway (to key a cache) checks it.
    fn local_path(&self, digest: &str) -> Result<PathBuf, ContentError>;
}

/// A content store that cannot give a digest's content.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No content with this digest is known to the store.
    #[error("no content with digest {digest} in {store}: fetch the app again")]
    Missing {
        /// The digest asked for.
        digest: String,
        /// Which store was asked.
        store: String,
    },
    /// A remote component source that was not fetched before the app loaded.
    #[error("{0} was not fetched before the app loaded")]
    NotFetched(String),
}

/// A file of a checkout that could not be read while locking the app.
#[derive(Debug, thiserror::Error)]
#[error("component \"{component}\": cannot read {}: {reason}: build it (kiln build) or fix `{field}`", path.display())]
pub struct LockError {
    /// The component the file belongs to.
    pub component: String,
    /// `source` or `files`.
    pub field: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub reason: std::io::Error,
}

/// The files of a checkout, by digest: what [`AppSpec::lock`] read.
#[derive(Debug, Default)]
pub struct LocalFiles {
    by_digest: HashMap<String, PathBuf>,
}

impl LocalFiles {
    /// Every digest known, with the file that held it when the app was locked.
    pub fn files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.by_digest
            .iter()
            .map(|(digest, path)| (digest.as_str(), path.as_path()))
    }

    /// Reads the file at `path` and names it by its digest.
    fn add(&mut self, path: &Path) -> std::io::Result<String> {
        let digest = digest_of(&std::fs::read(path)?);
        self.by_digest.insert(digest.clone(), path.to_path_buf());
        Ok(digest)
    }
}

impl ContentStore for LocalFiles {
    fn local_path(&self, digest: &str) -> Result<PathBuf, ContentError> {
        self.by_digest
            .get(digest)
            .cloned()
            .ok_or_else(|| ContentError::Missing {
                digest: digest.to_string(),
                store: "the app's checkout".to_string(),
            })
    }
}

impl AppSpec {
    /// The app with every file it is made of named by its digest, so that it loads anywhere
    /// a store holds those digests; and the checkout's files as that store. Each file is
    /// read once, here, on every core: for an app of thousands of components, hashing is most
    /// of a warm start.
    pub fn lock(mut self) -> Result<(AppSpec, LocalFiles), LockError> {
        let mut unlocked = Vec::new();
        for component in &mut self.components {
            let files = component
                .files
                .iter_mut()
                .map(|m| (&mut m.content, "files"));
            let contents = std::iter::once((&mut component.source, "source")).chain(files);
            for (content, field) in contents {
                if let Content::File(_) = content {
                    unlocked.push((component.id.as_str(), field, content));
                }
            }
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = unlocked.len().div_ceil(threads).max(1);
        let mut files = LocalFiles::default();
        let locked: Vec<Result<LocalFiles, LockError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = unlocked
                .chunks_mut(chunk)
                .map(|chunk| scope.spawn(move || lock_files(chunk)))
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        // Chunks are in manifest order: the first failure is the first broken file.
        for part in locked {
            files.by_digest.extend(part?.by_digest);
        }
        Ok((self, files))
    }
}

/// Names each file of `contents` (of a component, and its field) by its digest, in order;
/// stops at the first that cannot be read.
fn lock_files(
    contents: &mut [(&str, &'static str, &mut Content)],
) -> Result<LocalFiles, LockError> {
    let mut files = LocalFiles::default();
    for (component, field, content) in contents {
        if let Content::File(path) = &**content {
            let digest = files.add(path).map_err(|reason| LockError {
                component: component.to_string(),
                field,
                path: path.clone(),
                reason,
            })?;
            **content = Content::Digest(digest);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use crate::LoadedManifest;

    use super::*;

    #[test]
    fn digests_are_sha256_in_hex() {
        assert_eq!(
            digest_of(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_locked_app_names_its_files_by_digest_and_travels_without_its_checkout() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.wasm"), b"wasm bytes").unwrap();
        std::fs::write(dir.path().join("index.html"), b"<h1>hi</h1>").unwrap();
        let manifest = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"web\"\n[component.web]\nsource = \"app.wasm\"\nfiles = [\"index.html\"]\n";
        let path = dir.path().join("spin.toml");
        let app = LoadedManifest::from_text(&path, manifest).unwrap().app;
        let (locked, files) = app.lock().unwrap();
        let web = &locked.components[0];
        assert_eq!(web.source, Content::Digest(digest_of(b"wasm bytes")));
        assert_eq!(
            web.files[0].content,
            Content::Digest(digest_of(b"<h1>hi</h1>"))
        );
        assert_eq!(web.files[0].guest, "/index.html");
        assert_eq!(
            files.local_path(&digest_of(b"wasm bytes")).unwrap(),
            dir.path().join("app.wasm")
        );
        assert!(files.local_path(&digest_of(b"other")).is_err());

        let travelled: AppSpec =
            serde_json::from_str(&serde_json::to_string(&locked).unwrap()).unwrap();
        assert_eq!(travelled.components[0].source, web.source);
        assert_eq!(travelled.triggers[0].component, "web");
    }

    #[test]
    fn a_missing_file_is_named_with_its_component() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"web\"\n[component.web]\nsource = \"missing.wasm\"\n";
        let app = LoadedManifest::from_text(&dir.path().join("spin.toml"), manifest)
            .unwrap()
            .app;
        let error = app.lock().unwrap_err().to_string();
        assert!(
            error.starts_with("component \"web\": cannot read "),
            "{error}"
        );
        assert!(error.contains("missing.wasm"), "{error}");
        assert!(
            error.ends_with("build it (kiln build) or fix `source`"),
            "{error}"
        );
    }
}
