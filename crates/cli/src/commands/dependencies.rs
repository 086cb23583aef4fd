//! Downloading the `{ url, digest }` dependencies of an app's components into kiln's cache,
//! before the app loads; each is then named by its local file.

use kiln_manifest::{AppSpec, DependencySource};

/// Fetches every URL dependency of `app` (checking its digest) and points it at the file.
pub(crate) async fn fetch(app: &mut AppSpec) -> anyhow::Result<()> {
    let urls = app
        .components
        .iter()
        .flat_map(|c| &c.dependencies)
        .any(|d| matches!(d.source, DependencySource::Url { .. }));
    if !urls {
        return Ok(());
    }
    let blobs = super::registry::blob_store()?;
    for component in &mut app.components {
        for dependency in &mut component.dependencies {
            if let DependencySource::Url { url, digest } = &dependency.source {
                let path = kiln_oci::fetch_verified(url, digest, &blobs)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "component \"{}\": dependency \"{}\": {e:#}",
                            component.id,
                            dependency.import
                        )
                    })?;
                dependency.source = DependencySource::File(path);
            }
        }
    }
    Ok(())
}
