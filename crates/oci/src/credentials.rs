//! Registry credentials in the Docker config (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), the file `docker login`, oras and Spin read and write: an `auths`
//! entry per registry whose `auth` is base64 `user:password`. Other entries and keys of the file
//! are kept as they are.

use std::path::PathBuf;

use anyhow::Context as _;
use base64::Engine as _;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use serde_json::{Map, Value};

use crate::client::RegistryOptions;

fn config_path() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").context("no home directory: set HOME or DOCKER_CONFIG")?;
    Ok(PathBuf::from(home).join(".docker/config.json"))
}

fn read_config() -> anyhow::Result<(PathBuf, Map<String, Value>)> {
    let path = config_path()?;
    let config = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok((path, config))
}

fn write_config(path: &PathBuf, config: &Map<String, Value>) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .context("the Docker config has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut file, config)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The credentials stored for `reference`'s registry; anonymous when there are none.
pub(crate) fn auth_for(reference: &Reference) -> RegistryAuth {
    let Ok((_, config)) = read_config() else {
        return RegistryAuth::Anonymous;
    };
    let registry = reference.resolve_registry();
    let entry = config.get("auths").and_then(|auths| {
        auths
            .get(registry)
            .or_else(|| auths.get(format!("https://{registry}")))
    });
    let basic = entry
        .and_then(|e| e.get("auth"))
        .and_then(Value::as_str)
        .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    match basic {
        Some((user, password)) => RegistryAuth::Basic(user, password),
        None => RegistryAuth::Anonymous,
    }
}

/// Checks `user` and `password` against `registry`, then stores them.
pub async fn login(
    registry: &str,
    user: &str,
    password: &str,
    options: &RegistryOptions,
) -> anyhow::Result<()> {
    // Any repository will do: the registry answers 401 for wrong credentials before it looks.
    let probe: Reference = format!("{registry}/kiln/login-check")
        .parse()
        .map_err(|e| anyhow::anyhow!("\"{registry}\" is not a registry host ({e})"))?;
    let auth = RegistryAuth::Basic(user.to_string(), password.to_string());
    match options
        .client()
        .list_tags(&probe, &auth, Some(1), None)
        .await
    {
        Err(
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_),
        ) => anyhow::bail!("{registry} refused user \"{user}\" with that password"),
        Err(OciDistributionError::RegistryError { envelope, .. })
            if envelope.to_string().contains("UNAUTHORIZED") =>
        {
            anyhow::bail!("{registry} refused user \"{user}\" with that password")
        }
        Err(OciDistributionError::RequestError(e)) => Err(anyhow::Error::from(e).context(format!(
            "cannot reach {registry} (--insecure for a plain-HTTP registry)"
        ))),
        _ => {
            let (path, mut config) = read_config()?;
            let auths = config
                .entry("auths")
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(auths) = auths else {
                anyhow::bail!("{}: `auths` is not an object", path.display());
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            auths.insert(registry.to_string(), serde_json::json!({ "auth": encoded }));
            write_config(&path, &config)
        }
    }
}

/// Forgets the credentials stored for `registry`; whether there were any.
pub fn logout(registry: &str) -> anyhow::Result<bool> {
    let (path, mut config) = read_config()?;
    let removed = match config.get_mut("auths") {
        Some(Value::Object(auths)) => auths.remove(registry).is_some(),
        _ => false,
    };
    if removed {
        write_config(&path, &config)?;
    }
    Ok(removed)
}
