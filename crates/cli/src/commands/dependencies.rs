//! Fetching the `{ url, digest }` and registry dependencies of an app's components into kiln's
//! cache before the app loads; each is then named by its local file.

use kiln_manifest::{AppSpec, DependencySource};

/// Fetches every URL dependency of `app` (checking its digest) and every registry one (the
/// highest version its requirement allows), and points each at its file.
pub(crate) async fn fetch(app: &mut AppSpec) -> anyhow::Result<()> {
    let remote = app
        .components
        .iter()
        .flat_map(|c| &c.dependencies)
        .any(|d| {
            matches!(
                d.source,
                DependencySource::Url { .. } | DependencySource::Registry { .. }
            )
        });
    if !remote {
        return Ok(());
    }
    let blobs = super::registry::blob_store()?;
    for component in &mut app.components {
        for dependency in &mut component.dependencies {
            let fetched = match &dependency.source {
                DependencySource::Url { url, digest } => {
                    kiln_oci::fetch_verified(url, digest, &blobs).await
                }
                DependencySource::Registry {
                    package,
                    version,
                    registry,
                } => kiln_oci::fetch_package(package, version, registry.as_deref(), &blobs)
                    .await
                    .map(|fetched| {
                        tracing::info!(
                            "component \"{}\": dependency \"{}\" is {package} {} ({})",
                            component.id,
                            dependency.import,
                            fetched.version,
                            fetched.reference
                        );
                        fetched.path
                    }),
                DependencySource::File(_) | DependencySource::Component(_) => continue,
            };
            let path = fetched.map_err(|e| {
                anyhow::anyhow!(
                    "component \"{}\": dependency \"{}\": {e:#}",
                    component.id,
                    dependency.import
                )
            })?;
            dependency.source = DependencySource::File(path);
        }
    }
    Ok(())
}
