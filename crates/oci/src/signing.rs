//! Signatures in cosign's format, so that cosign (`cosign verify --key`) and kiln check each
//! other's: the simple-signing payload naming the manifest digest, signed with an ECDSA P-256
//! key (SHA-256, DER, base64 in the `dev.cosignproject.cosign/signature` annotation), stored as
//! the layer (`application/vnd.dev.cosign.simplesigning.v1+json`) of an artifact tagged
//! `sha256-HEX.sig` in the app's repository. Keys are PEM: a PKCS#8 or SEC1 private key to
//! sign, a public key (`cosign.pub`'s form) to verify.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use kiln_manifest::digest_of;
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};

/// The media type of a signature layer.
const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding a layer's signature.
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// A key to sign with.
#[derive(Clone)]
pub struct SignKey(SigningKey);

impl std::fmt::Debug for SignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignKey(..)")
    }
}

/// A key to check signatures with.
#[derive(Clone, Debug)]
pub struct VerifyKey(VerifyingKey);

impl SignKey {
    /// Reads an ECDSA P-256 private key from a PEM file (PKCS#8 or SEC1).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("reading the signing key {}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .ok()
            .or_else(|| p256::SecretKey::from_sec1_pem(&pem).ok().map(SigningKey::from))
            .with_context(|| {
                format!(
                    "{} is not an ECDSA P-256 private key in PEM: make one with openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                    path.display()
                )
            })?;
        Ok(Self(key))
    }
}

impl VerifyKey {
    /// Reads an ECDSA P-256 public key from a PEM file (as `cosign.pub`, or
    /// `openssl pkey -pubout` writes it).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("reading the verification key {}", path.display()))?;
        let key = VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an ECDSA P-256 public key in PEM ({e})",
                path.display()
            )
        })?;
        Ok(Self(key))
    }
}

/// The tag the signatures of the manifest `digest` live under.
fn signature_tag(image: &Reference, digest: &str) -> anyhow::Result<Reference> {
    let tag = digest.replacen(':', "-", 1) + ".sig";
    let reference = format!("{}/{}:{tag}", image.resolve_registry(), image.repository());
    reference
        .parse()
        .map_err(|e| anyhow::anyhow!("the signature reference {reference}: {e}"))
}

/// cosign's simple-signing payload for the manifest `digest` of `image`.
fn payload(image: &Reference, digest: &str) -> serde_json::Value {
    let identity = format!("{}/{}", image.resolve_registry(), image.repository());
    serde_json::json!({
        "critical": {
            "identity": { "docker-reference": identity },
            "image": { "docker-manifest-digest": digest },
            "type": "cosign container image signature",
        },
        "optional": null,
    })
}

/// Signs the manifest `digest` of `image` with `key` and pushes the signature.
pub(crate) async fn sign(
    client: &Client,
    auth: &RegistryAuth,
    image: &Reference,
    digest: &str,
    key: &SignKey,
) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(&payload(image, digest))?;
    let signature: Signature = key.0.sign(&payload);
    let encoded = base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
    let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), encoded)]);
    let layer = ImageLayer::new(
        payload.clone(),
        SIMPLE_SIGNING_MEDIA_TYPE.into(),
        Some(annotations),
    );
    // The image config cosign writes: its rootfs names the payload.
    let config = serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{ "created": "0001-01-01T00:00:00Z" }],
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": [digest_of(&payload)] },
    });
    let config = Config::new(
        serde_json::to_vec(&config)?,
        "application/vnd.oci.image.config.v1+json".into(),
        None,
    );
    let tag = signature_tag(image, digest)?;
    let manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
    client
        .push(&tag, &[layer], config, auth, Some(manifest))
        .await
        .with_context(|| format!("pushing the signature {tag}"))?;
    Ok(())
}

/// Checks that the manifest `digest` of `image` carries a signature by `key`; an error that
/// says why not (unsigned, or signed by others only).
pub(crate) async fn verify(
    client: &Client,
    auth: &RegistryAuth,
    image: &Reference,
    digest: &str,
    key: &VerifyKey,
) -> anyhow::Result<()> {
    let tag = signature_tag(image, digest)?;
    // The artifact as the user named it, pinned to `digest` (a reference may be pinned already).
    let shown = match image.digest() {
        Some(_) => image.whole(),
        None => format!("{image}@{digest}"),
    };
    let Ok((manifest, _)) = client.pull_image_manifest(&tag, auth).await else {
        anyhow::bail!("{shown} is not signed (no {tag}): refusing to run it; sign it with kiln registry push --sign KEY");
    };
    let expected = payload(image, digest);
    for layer in manifest
        .layers
        .iter()
        .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
    {
        let Some(encoded) = layer
            .annotations
            .as_ref()
            .and_then(|a| a.get(SIGNATURE_ANNOTATION))
        else {
            continue;
        };
        let mut payload = Vec::new();
        if client.pull_blob(&tag, layer, &mut payload).await.is_err() {
            continue;
        }
        let signed: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
        if signed["critical"]["image"] != expected["critical"]["image"] {
            continue;
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|der| Signature::from_der(&der).ok());
        if signature.is_some_and(|s| key.0.verify(&payload, &s).is_ok()) {
            return Ok(());
        }
    }
    anyhow::bail!("{shown} is not signed by the given key: refusing to run it")
}
