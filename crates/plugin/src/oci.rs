//! Plugins shipped as OCI artifacts: an app pushed with `kiln push` (or `spin registry push`),
//! whose only component, or the one `REFERENCE#ID` names, is the plugin. Pulled into a
//! content-addressed cache shared with `kiln` (layers already there are not fetched again).

use std::path::PathBuf;

use kiln_manifest::ComponentSpec;
use kiln_oci::BlobStore;
pub use kiln_oci::{RegistryOptions, VerifyKey};

use crate::error::PluginError;
use crate::host::PluginHost;
use crate::{Plugin, PluginConfig};

impl<D: Send + 'static> PluginHost<D> {
    /// Pulls `reference` (`registry/repository:tag` or `...@sha256:...`, with `#ID` to pick
    /// one component of an app that has several) and loads its component as
    /// [`Self::load_file`] does; the plugin is named after the component unless `config`
    /// names it. With [`RegistryOptions::verify`], an artifact that key did not sign is
    /// refused before anything of it is fetched.
    pub async fn load_reference(
        &self,
        reference: &str,
        registry: &RegistryOptions,
        config: PluginConfig,
    ) -> Result<Plugin<D>, PluginError> {
        let (image, wanted) = match reference.split_once('#') {
            Some((image, id)) => (image, Some(id)),
            None => (reference, None),
        };
        let pull_error = |reason: String| PluginError::Pull {
            reference: reference.to_string(),
            reason,
        };
        let blobs = BlobStore::new(self.artifact_dir().ok_or_else(|| {
            pull_error("no cache directory to pull into: set KILN_CACHE_DIR (or HOME), or PluginHostBuilder::artifact_cache".into())
        })?);
        let pulled = kiln_oci::pull(image, &blobs, PathBuf::from("."), registry, &())
            .await
            .map_err(|e| pull_error(format!("{e:#}")))?;
        let component = pick(&pulled.app.components, wanted).map_err(pull_error)?;
        let path = component
            .source
            .local_path(&blobs)
            .map_err(|e| pull_error(e.to_string()))?;
        let config = match config.name {
            Some(_) => config,
            None => config.name(component.id.clone()),
        };
        // Compiling is CPU-bound: off the async threads.
        let host = self.clone();
        tokio::task::spawn_blocking(move || host.load_file(path, config))
            .await
            .map_err(|e| PluginError::Host(e.into()))?
    }
}

/// The component `wanted` names, or the only one.
fn pick<'a>(
    components: &'a [ComponentSpec],
    wanted: Option<&str>,
) -> Result<&'a ComponentSpec, String> {
    let ids = || {
        components
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (wanted, components) {
        (Some(id), _) => components
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| format!("the app has no component \"{id}\"; it has: {}", ids())),
        (None, [only]) => Ok(only),
        (None, _) => Err(format!(
            "the app has {} components ({}): name the plugin's as REFERENCE#ID",
            components.len(),
            ids()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(id: &str) -> ComponentSpec {
        ComponentSpec {
            id: id.into(),
            ..ComponentSpec::default()
        }
    }

    #[test]
    fn a_component_is_picked_by_id_or_as_the_only_one() {
        let one = [component("redact")];
        assert_eq!(pick(&one, None).unwrap().id, "redact");
        let two = [component("redact"), component("headline")];
        assert_eq!(pick(&two, Some("headline")).unwrap().id, "headline");
        let error = pick(&two, None).unwrap_err();
        assert!(error.contains("REFERENCE#ID") && error.contains("redact, headline"));
        let error = pick(&two, Some("nope")).unwrap_err();
        assert!(error.contains("\"nope\"") && error.contains("redact, headline"));
    }
}
