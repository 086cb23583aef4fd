//! Pushing an app to a registry and pulling it back, in Spin's artifact layout
//! (`docs/oci.md`): one layer per distinct component Wasm
//! (`application/vnd.wasm.content.layer.v1+wasm`), one per file larger than
//! [`INLINE_MAX`] (`application/vnd.wasm.content.layer.v1+data`; smaller ones are inlined in
//! the locked app), the locked app as a layer (`application/vnd.fermyon.spin.application.v1+config`),
//! and an OCI image config (`wasm`/`wasip1`) that names the locked app's digest. The registry
//! protocol is `oci-client`'s.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context as _;
use base64::Engine as _;
use kiln_manifest::{digest_of, AppSpec, ContentStore};
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::Reference;

use crate::blobs::BlobStore;
use crate::client::RegistryOptions;
use crate::credentials::auth_for;
use crate::locked::LockedApp;
use crate::signing;
use crate::transfer::{download, Transfer};

/// The locked app's layer (and, in older artifacts, the config's) media type.
pub const LOCKED_APP_MEDIA_TYPE: &str = "application/vnd.fermyon.spin.application.v1+config";
/// A component's Wasm.
pub const WASM_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// A component's Wasm as `wkg` pushes it.
const WKG_WASM_MEDIA_TYPE: &str = "application/wasm";
/// A static file.
pub const DATA_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+data";
/// Static files as one archive (Spin's alternative layout; not read by kiln yet).
const ARCHIVE_MEDIA_TYPE: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";
/// kiln's own layer: a component compiled for kiln's engine (Spin and others ignore it).
pub const PRECOMPILED_MEDIA_TYPE: &str = "application/vnd.kiln.component.precompiled.v1";
/// The annotation of a precompiled layer naming the Wasm it was compiled from.
const SOURCE_ANNOTATION: &str = "dev.kiln.source.digest";
/// The annotation of a precompiled layer naming the engine that compiled it.
const ENGINE_ANNOTATION: &str = "dev.kiln.engine";
/// Content up to this size travels inside the locked app, not as a layer (as Spin does).
pub const INLINE_MAX: usize = 128;

/// `error` from talking to `image`'s registry, said as what to do when the registry wants
/// credentials it did not get.
fn explain(error: oci_client::errors::OciDistributionError, image: &Reference) -> anyhow::Error {
    use oci_client::errors::OciDistributionError as E;
    let refused = match &error {
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => true,
        E::ServerError { code, .. } => *code == 401 || *code == 403,
        E::RegistryError { envelope, .. } => envelope.to_string().contains("UNAUTHORIZED"),
        _ => false,
    };
    if refused {
        let registry = image.resolve_registry();
        anyhow::Error::from(error).context(format!(
            "{registry} refused access to {image}: log in with kiln registry login {registry} (or docker login)"
        ))
    } else {
        error.into()
    }
}

/// A reference parsed, with an error that says what a reference looks like.
pub fn parse_reference(reference: &str) -> anyhow::Result<Reference> {
    reference.parse().map_err(|e| {
        anyhow::anyhow!("\"{reference}\" is not a registry reference ({e}): write REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
    })
}

/// `reference` pinned to the digest its registry gives it now (`REGISTRY/REPOSITORY@sha256:...`),
/// so that every host that pulls it later gets the same app; an error when it is not there.
pub async fn resolve(reference: &str, options: &RegistryOptions) -> anyhow::Result<String> {
    let image = parse_reference(reference)?;
    let auth = auth_for(&image);
    let digest = options
        .client()
        .fetch_manifest_digest(&image, &auth)
        .await
        .map_err(|e| explain(e, &image))
        .with_context(|| format!("cannot find {image}: is the reference right (push it with kiln registry push), and the registry up (--insecure for a plain-HTTP one)?"))?;
    Ok(format!(
        "{}/{}@{digest}",
        image.registry(),
        image.repository()
    ))
}

/// A component compiled for one engine, shipped beside its Wasm.
#[derive(Debug, Clone)]
pub struct Precompiled {
    /// The digest of the Wasm it was compiled from.
    pub source: String,
    /// The tag of the engine that compiled it.
    pub engine: String,
    /// The compiled code.
    pub bytes: Vec<u8>,
}

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    /// The manifest's digest.
    pub digest: String,
    /// Layers uploaded.
    pub uploaded: usize,
    /// Layers the registry already had.
    pub present: usize,
}

/// Pushes the locked `app`, its content read from `content`, to `reference`, telling
/// `transfer` how each layer moves.
pub async fn push(
    app: &AppSpec,
    content: &dyn ContentStore,
    reference: &str,
    options: &RegistryOptions,
    precompiled: &[Precompiled],
    transfer: &dyn Transfer,
) -> anyhow::Result<Pushed> {
    let image = parse_reference(reference)?;
    let mut locked = LockedApp::from_app(app)?;
    let read = |digest: &str| -> anyhow::Result<Vec<u8>> {
        let path = content.local_path(digest)?;
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let mut layers = Vec::new();
    let mut seen = HashSet::new();
    for component in &mut locked.components {
        if let Some(digest) = component.source.content.digest.clone() {
            if seen.insert(digest.clone()) {
                layers.push(ImageLayer::new(
                    read(&digest)?,
                    WASM_MEDIA_TYPE.into(),
                    None,
                ));
            }
        }
        for file in &mut component.files {
            let Some(digest) = file.content.digest.clone() else {
                continue;
            };
            let bytes = read(&digest)?;
            if bytes.len() <= INLINE_MAX {
                file.content.inline =
                    Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
            } else if seen.insert(digest) {
                layers.push(ImageLayer::new(bytes, DATA_MEDIA_TYPE.into(), None));
            }
        }
    }
    for compiled in precompiled {
        let annotations = BTreeMap::from([
            (SOURCE_ANNOTATION.to_string(), compiled.source.clone()),
            (ENGINE_ANNOTATION.to_string(), compiled.engine.clone()),
        ]);
        layers.push(ImageLayer::new(
            compiled.bytes.clone(),
            PRECOMPILED_MEDIA_TYPE.into(),
            Some(annotations),
        ));
    }
    let locked_json = serde_json::to_vec(&locked)?;
    let locked_digest = digest_of(&locked_json);
    layers.push(ImageLayer::new(
        locked_json,
        LOCKED_APP_MEDIA_TYPE.into(),
        None,
    ));
    let config = image_config(&locked_digest)?;
    push_artifact(&image, &layers, config, annotations(app), options, transfer).await
}

/// Pushes the artifact made of `layers` and `config` to `image`, uploading only the layers
/// the registry lacks, and signs it when `options` say.
pub(crate) async fn push_artifact(
    image: &Reference,
    layers: &[ImageLayer],
    config: Config,
    annotations: BTreeMap<String, String>,
    options: &RegistryOptions,
    transfer: &dyn Transfer,
) -> anyhow::Result<Pushed> {
    let manifest = OciImageManifest::build(layers, &config, Some(annotations));
    let client = options.client();
    let auth = auth_for(image);
    client
        .auth(image, &auth, oci_client::RegistryOperation::Push)
        .await
        .with_context(|| format!("cannot push to {image}: the registry could not be reached, or refused the credentials (docker login REGISTRY stores them; --insecure for a plain-HTTP registry)"))?;
    let (mut uploaded, mut present) = (0, 0);
    for (layer, descriptor) in layers.iter().zip(&manifest.layers) {
        let size = layer.data.len() as u64;
        transfer.start(&descriptor.digest, size);
        if client
            .blob_exists(image, &descriptor.digest)
            .await
            .unwrap_or(false)
        {
            present += 1;
            transfer.finish(&descriptor.digest);
            continue;
        }
        client
            .push_blob(image, layer.data.clone(), &descriptor.digest)
            .await
            .map_err(|e| explain(e, image))
            .with_context(|| {
                format!(
                    "cannot push to {image}: uploading layer {}",
                    descriptor.digest
                )
            })?;
        uploaded += 1;
        transfer.advance(&descriptor.digest, size);
        transfer.finish(&descriptor.digest);
    }
    client
        .push_blob(image, config.data.clone(), &manifest.config.digest)
        .await
        .with_context(|| format!("uploading the image config to {image}"))?;
    client
        .push_manifest(image, &manifest.into())
        .await
        .with_context(|| format!("pushing the manifest of {image}"))?;
    let digest = client
        .fetch_manifest_digest(image, &auth)
        .await
        .with_context(|| format!("reading back the digest of {image}"))?;
    if let Some(key) = &options.sign {
        signing::sign(&client, &auth, image, &digest, key).await?;
    }
    Ok(Pushed {
        digest,
        uploaded,
        present,
    })
}

/// The OCI image config Spin writes: `wasm` on `wasip1`, labelled with the locked app's digest
/// (so different apps never share an image id).
fn image_config(locked_digest: &str) -> anyhow::Result<Config> {
    let labels = [(
        "com.fermyon.spin.lockedAppDigest".to_string(),
        locked_digest.to_string(),
    )];
    let file = oci_client::config::ConfigFile {
        architecture: oci_client::config::Architecture::Wasm,
        os: oci_client::config::Os::Other("wasip1".into()),
        config: Some(oci_client::config::Config {
            labels: Some(labels.into_iter().collect()),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(Config::oci_v1_from_config_file(file, None)?)
}

/// The manifest's annotations: the app's name, version, description and the time of the push.
fn annotations(app: &AppSpec) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    annotations.insert("org.opencontainers.image.title".into(), app.name.clone());
    if !app.version.is_empty() {
        annotations.insert(
            "org.opencontainers.image.version".into(),
            app.version.clone(),
        );
    }
    if !app.description.is_empty() {
        annotations.insert(
            "org.opencontainers.image.description".into(),
            app.description.clone(),
        );
    }
    annotations.insert(
        "org.opencontainers.image.created".into(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    annotations
}

/// An app pulled from a registry, its content in a [`BlobStore`].
#[derive(Debug)]
pub struct Pulled {
    /// The app, every source and file named by digest.
    pub app: AppSpec,
    /// The manifest's digest: what the reference resolved to.
    pub digest: String,
    /// The precompiled layers it carries, each for one engine.
    pub precompiled: Vec<Precompiled>,
}

/// Pulls `reference` into `blobs` (layers already there are not fetched again, a dropped
/// download is tried again), telling `transfer` how each layer moves; the app keeps its state
/// under `base_dir`.
pub async fn pull(
    reference: &str,
    blobs: &BlobStore,
    base_dir: std::path::PathBuf,
    options: &RegistryOptions,
    transfer: &dyn Transfer,
) -> anyhow::Result<Pulled> {
    let image = parse_reference(reference)?;
    let client = options.client();
    let auth = auth_for(&image);
    let (manifest, digest) = client
        .pull_image_manifest(&image, &auth)
        .await
        .map_err(|e| explain(e, &image))
        .with_context(|| format!("cannot pull {image}: is the reference right, and the registry up (--insecure for a plain-HTTP one)?"))?;
    if let Some(key) = &options.verify {
        signing::verify(&client, &auth, &image, &digest, key).await?;
    }
    // Older Spin artifacts carry the locked app as the config; newer ones as a layer.
    let locked_descriptor = if manifest.config.media_type == LOCKED_APP_MEDIA_TYPE {
        manifest.config.clone()
    } else {
        manifest
            .layers
            .iter()
            .find(|l| l.media_type == LOCKED_APP_MEDIA_TYPE)
            .cloned()
            .with_context(|| format!("{image} is not a Spin or kiln app (a container image?): its manifest has no {LOCKED_APP_MEDIA_TYPE} layer"))?
    };
    let mut shipped = Vec::new();
    for layer in &manifest.layers {
        if layer.media_type == ARCHIVE_MEDIA_TYPE {
            anyhow::bail!("{image} carries its files as an archive layer ({ARCHIVE_MEDIA_TYPE}), which kiln does not read yet: push it without SPIN_OCI_ARCHIVE_LAYERS");
        }
        if let Some(compiled) = precompiled(layer) {
            if !blobs.has(&layer.digest) {
                let bytes = download(&client, &image, layer, transfer).await?;
                blobs.write(&layer.digest, &bytes)?;
            }
            let path = blobs.path(&layer.digest)?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            shipped.push(Precompiled { bytes, ..compiled });
            continue;
        }
        let wanted = matches!(
            layer.media_type.as_str(),
            WASM_MEDIA_TYPE | WKG_WASM_MEDIA_TYPE | DATA_MEDIA_TYPE
        );
        if !wanted || blobs.has(&layer.digest) {
            continue;
        }
        let bytes = download(&client, &image, layer, transfer).await?;
        blobs.write(&layer.digest, &bytes)?;
    }
    let locked_json = download(&client, &image, &locked_descriptor, &())
        .await
        .with_context(|| format!("fetching the locked app of {image}"))?;
    if digest_of(&locked_json) != locked_descriptor.digest {
        anyhow::bail!(
            "the locked app of {image} does not match its digest {}: pull again",
            locked_descriptor.digest
        );
    }
    let locked: LockedApp = serde_json::from_slice(&locked_json)
        .with_context(|| format!("{image}: the locked app is not Spin's locked app JSON"))?;
    let (app, inline) = locked
        .into_app(&format!("{image}"), base_dir)
        .with_context(|| format!("{image} cannot run under kiln"))?;
    for (digest, bytes) in inline {
        blobs.write(&digest, &bytes)?;
    }
    Ok(Pulled {
        app,
        digest,
        precompiled: shipped,
    })
}

/// The precompiled layer `layer` describes (without its bytes), if it is one.
fn precompiled(layer: &oci_client::manifest::OciDescriptor) -> Option<Precompiled> {
    if layer.media_type != PRECOMPILED_MEDIA_TYPE {
        return None;
    }
    let annotations = layer.annotations.as_ref()?;
    Some(Precompiled {
        source: annotations.get(SOURCE_ANNOTATION)?.clone(),
        engine: annotations.get(ENGINE_ANNOTATION)?.clone(),
        bytes: Vec::new(),
    })
}
