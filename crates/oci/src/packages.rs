//! Component packages in registries, named and laid out as the wasm-pkg tools (`wkg`) and
//! Spin's registry dependencies do: the package `ns:name` at a version is the OCI artifact
//! `REGISTRY/PREFIXns/name:VERSION`, with one `application/wasm` layer and a
//! `application/vnd.wasm.config.v0+json` config (the CNCF Wasm OCI artifact). Its registry is
//! the one given, else the one wasm-pkg's config maps its namespace to
//! (`~/.config/wasm-pkg/config.toml`: `default_registry`, `[namespace_registries]`); the
//! registry's `/.well-known/wasm-pkg/registry.json` may move it to another OCI registry and
//! prefix. A loopback registry (`localhost`, `127.0.0.1`) is spoken to over plain HTTP.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use kiln_manifest::digest_of;
use oci_client::client::{Config, ImageLayer};
use semver::{Version, VersionReq};
use serde::Deserialize;
use wasm_pkg_common::config::{Config as PackageConfig, RegistryMapping};
use wasm_pkg_common::metadata::{RegistryMetadata, OCI_PROTOCOL, REGISTRY_METADATA_PATH};
use wasm_pkg_common::package::PackageRef;
use wasm_pkg_common::registry::Registry;

use crate::blobs::BlobStore;
use crate::client::RegistryOptions;
use crate::credentials::auth_for;
use crate::registry::{parse_reference, push_artifact, Pushed, WASM_MEDIA_TYPE};
use crate::transfer::download;

/// A Wasm package's layer, as `wkg` pushes it.
pub const PACKAGE_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// A Wasm package's config.
pub const PACKAGE_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// Versions asked of a registry at a time.
const TAGS_PER_PAGE: usize = 1000;

/// A package version fetched into the blob store.
#[derive(Debug, Clone)]
pub struct FetchedPackage {
    /// Its Wasm, in the blob store.
    pub path: PathBuf,
    /// The version chosen: the highest the registry has that the requirement allows.
    pub version: Version,
    /// Where it came from: `REGISTRY/REPOSITORY:VERSION`.
    pub reference: String,
}

/// The highest version of `package` (`ns:name`) that `requirement` (Cargo's syntax: `1.2.0`
/// means `^1.2.0`) allows, from `registry` or the one wasm-pkg's config names, fetched into
/// `blobs` (once: a later fetch finds it there).
pub async fn fetch_package(
    package: &str,
    requirement: &str,
    registry: Option<&str>,
    blobs: &BlobStore,
) -> anyhow::Result<FetchedPackage> {
    let wanted = VersionReq::parse(requirement).with_context(|| {
        format!("\"{requirement}\" is not a version requirement (write 1.2.0, ^1.2, =1.2.3, ...)")
    })?;
    let location = locate(package, registry).await?;
    let client = location.options.client();
    let repository = parse_reference(&location.repository)?;
    let auth = auth_for(&repository);
    let mut tags: Vec<String> = Vec::new();
    loop {
        let last = tags.last().cloned();
        let page = client
            .list_tags(&repository, &auth, Some(TAGS_PER_PAGE), last.as_deref())
            .await
            .with_context(|| {
                format!(
                    "cannot list the versions of {package} at {}: is it published there (kiln registry publish), and the registry up?",
                    location.repository
                )
            })?
            .tags;
        // A short page is the last; a registry that ignores `last` sends the same one again.
        let more = page.len() == TAGS_PER_PAGE && page.last() != last.as_ref();
        tags.extend(page);
        if !more {
            break;
        }
    }
    let mut versions: Vec<Version> = tags.iter().filter_map(|tag| tag.parse().ok()).collect();
    versions.sort();
    versions.dedup();
    let version = versions
        .iter()
        .rfind(|version| wanted.matches(version))
        .cloned()
        .ok_or_else(|| {
            let have: Vec<String> = versions.iter().map(Version::to_string).collect();
            anyhow::anyhow!(
                "{package}: no version at {} matches {requirement} (it has {})",
                location.repository,
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            )
        })?;
    let reference = format!("{}:{version}", location.repository);
    let image = parse_reference(&reference)?;
    let (manifest, _) = client
        .pull_image_manifest(&image, &auth)
        .await
        .with_context(|| format!("fetching the manifest of {reference}"))?;
    let layer = manifest
        .layers
        .iter()
        .find(|layer| {
            matches!(
                layer.media_type.as_str(),
                PACKAGE_LAYER_MEDIA_TYPE | WASM_MEDIA_TYPE
            )
        })
        .ok_or_else(|| anyhow::anyhow!("{reference} holds no Wasm layer: is it a package?"))?;
    if !blobs.has(&layer.digest) {
        let bytes = download(&client, &image, layer, &()).await?;
        anyhow::ensure!(
            digest_of(&bytes) == layer.digest,
            "{reference}: its Wasm layer does not match its digest {}: fetch again",
            layer.digest
        );
        blobs.write(&layer.digest, &bytes)?;
    }
    Ok(FetchedPackage {
        path: blobs.path(&layer.digest)?,
        version,
        reference,
    })
}

/// Publishes `wasm` as `package` (`ns:name`) at `version`, where [`fetch_package`] finds it:
/// `registry`, or the one wasm-pkg's config names.
pub async fn publish_package(
    wasm: &[u8],
    package: &str,
    version: &str,
    registry: Option<&str>,
    options: &RegistryOptions,
) -> anyhow::Result<(String, Pushed)> {
    let version = Version::parse(version)
        .with_context(|| format!("\"{version}\" is not a version (write 1.2.0)"))?;
    let location = locate(package, registry).await?;
    let options = RegistryOptions {
        insecure: options.insecure || location.options.insecure,
        ..options.clone()
    };
    let reference = format!("{}:{version}", location.repository);
    let image = parse_reference(&reference)?;
    let layer = ImageLayer::new(wasm.to_vec(), PACKAGE_LAYER_MEDIA_TYPE.into(), None);
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let config = serde_json::json!({
        "created": created,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [digest_of(wasm)],
    });
    let config = Config::new(
        serde_json::to_vec(&config)?,
        PACKAGE_CONFIG_MEDIA_TYPE.into(),
        None,
    );
    let annotations = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_string(),
            package.to_string(),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            version.to_string(),
        ),
        ("org.opencontainers.image.created".to_string(), created),
    ]);
    let pushed = push_artifact(&image, &[layer], config, annotations, &options, &()).await?;
    Ok((reference, pushed))
}

/// Where a package's versions live.
struct Location {
    /// `REGISTRY/REPOSITORY`.
    repository: String,
    /// How to reach its registry.
    options: RegistryOptions,
}

/// The OCI part of a registry's wasm-pkg metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciMetadata {
    registry: Option<String>,
    namespace_prefix: Option<String>,
}

/// Where `package` lives: in `registry`, or the one wasm-pkg's config maps it to, at the OCI
/// registry and prefix that registry's metadata names.
async fn locate(package: &str, registry: Option<&str>) -> anyhow::Result<Location> {
    let package: PackageRef = package
        .parse()
        .map_err(|e| anyhow::anyhow!("\"{package}\" is not a package name (ns:name): {e}"))?;
    let config = PackageConfig::global_defaults()
        .await
        .context("reading wasm-pkg's config")?;
    let mapping = config
        .package_registry_override(&package)
        .or_else(|| config.namespace_registry(package.namespace()));
    let registry: Registry = match registry {
        Some(registry) => registry
            .parse()
            .map_err(|e| anyhow::anyhow!("\"{registry}\" is not a registry host: {e}"))?,
        None => config.resolve_registry(&package).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "no registry for {package}: add registry = \"HOST[:PORT]\" to the dependency, or map its namespace in {}",
                PackageConfig::global_config_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "wasm-pkg's config.toml".into())
            )
        })?,
    };
    let metadata = match mapping {
        Some(RegistryMapping::Custom(custom)) if custom.registry == registry => {
            custom.metadata.clone()
        }
        _ => fetch_metadata(&registry).await,
    };
    if let Some(protocol) = metadata.preferred_protocol() {
        anyhow::ensure!(
            protocol == OCI_PROTOCOL,
            "{registry} serves packages over {protocol}; kiln fetches them over OCI only"
        );
    }
    let oci: OciMetadata = metadata
        .protocol_config(OCI_PROTOCOL)
        .with_context(|| format!("reading {registry}'s registry metadata"))?
        .unwrap_or_default();
    let host = oci.registry.unwrap_or_else(|| registry.to_string());
    let prefix = oci.namespace_prefix.unwrap_or_default();
    Ok(Location {
        repository: format!("{host}/{prefix}{}/{}", package.namespace(), package.name()),
        options: RegistryOptions {
            insecure: is_loopback(&host),
            ..RegistryOptions::default()
        },
    })
}

/// `registry`'s wasm-pkg metadata; none (its packages are in its own OCI registry) when it
/// publishes none.
async fn fetch_metadata(registry: &Registry) -> RegistryMetadata {
    let scheme = if is_loopback(registry.as_ref()) {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{registry}{REGISTRY_METADATA_PATH}");
    let response = crate::client::http_client()
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status);
    match response {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(e) => {
            tracing::debug!("no registry metadata at {url} ({e}): using {registry} itself");
            RegistryMetadata::default()
        }
    }
}

/// Whether `host` (`HOST[:PORT]`) is this machine.
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_registries_are_this_machine() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["ghcr.io", "registry.example.com:5000", "10.0.0.1:5000"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
