//! Fetching what an app names remotely into kiln's cache before it loads: components whose
//! `source` is `{ url, digest }` or `{ registry, package, version }`, and dependencies by
//! `{ url, digest }` or by registry version. Each is then named by its local file.

use std::path::PathBuf;

use kiln_manifest::{AppSpec, Content, DependencySource, RemoteSource};
use kiln_oci::BlobStore;

/// Fetches every remote component source and dependency of `app` (checking URL digests,
/// choosing the highest version a requirement allows), and points each at its file.
pub(crate) async fn remote(app: &mut AppSpec) -> anyhow::Result<()> {
    let any = app.components.iter().any(|c| {
        matches!(c.source, Content::Remote(_))
            || c.dependencies.iter().any(|d| {
                matches!(
                    d.source,
                    DependencySource::Url { .. } | DependencySource::Registry { .. }
                )
            })
    });
    if !any {
        return Ok(());
    }
    let blobs = blob_store()?;
    for component in &mut app.components {
        let id = component.id.clone();
        if let Content::Remote(source) = &component.source {
            let path = source_file(source, &blobs)
                .await
                .map_err(|e| anyhow::anyhow!("component \"{id}\": source {source}: {e:#}"))?;
            component.source = Content::File(path);
        }
        for dependency in &mut component.dependencies {
            let path = match &dependency.source {
                DependencySource::Url { url, digest } => {
                    kiln_oci::fetch_verified(url, digest, &blobs).await
                }
                DependencySource::Registry {
                    package,
                    version,
                    registry,
                } => package_file(package, version, registry.as_deref(), &blobs, &id).await,
                DependencySource::File(_) | DependencySource::Component(_) => continue,
            }
            .map_err(|e| {
                anyhow::anyhow!(
                    "component \"{id}\": dependency \"{}\": {e:#}",
                    dependency.import
                )
            })?;
            dependency.source = DependencySource::File(path);
        }
    }
    Ok(())
}

/// The local file of a remote component source.
async fn source_file(source: &RemoteSource, blobs: &BlobStore) -> anyhow::Result<PathBuf> {
    match source {
        RemoteSource::Url { url, digest } => kiln_oci::fetch_verified(url, digest, blobs).await,
        RemoteSource::Package {
            registry,
            package,
            version,
        } => {
            let exactly = format!("={version}");
            let fetched =
                kiln_oci::fetch_package(package, &exactly, registry.as_deref(), blobs).await?;
            Ok(fetched.path)
        }
    }
}

/// The local file of the highest version of `package` that `requirement` allows, saying
/// which it is (for component `id`).
async fn package_file(
    package: &str,
    requirement: &str,
    registry: Option<&str>,
    blobs: &BlobStore,
    id: &str,
) -> anyhow::Result<PathBuf> {
    let fetched = kiln_oci::fetch_package(package, requirement, registry, blobs).await?;
    tracing::info!(
        "component \"{id}\": {package} {requirement} is {} ({})",
        fetched.version,
        fetched.reference
    );
    Ok(fetched.path)
}

/// The local cache of fetched and pulled blobs: `oci/` in kiln's cache directory.
pub(crate) fn blob_store() -> anyhow::Result<BlobStore> {
    let dir = kiln_runtime::default_cache_dir()
        .ok_or_else(|| anyhow::anyhow!("no cache directory: set KILN_CACHE_DIR (or HOME)"))?;
    Ok(BlobStore::new(dir.join("oci")))
}
