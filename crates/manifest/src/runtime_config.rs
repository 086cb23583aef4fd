//! The runtime config file (`kiln up --runtime-config-file`), in Spin's `runtime-config.toml`
//! schema: where an app's key-value stores and SQLite databases live, and where its variables
//! come from. The app itself does not change when its backends do.
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//!
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/app.db"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::load::{absolute_and_dir, parse_with_warnings, read_file};
use crate::locate::Doc;
use crate::locate::{key_path, Key};
use crate::ManifestError;

/// A validated runtime config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
    /// SQLite databases by label.
    pub sqlite_databases: BTreeMap<String, SqliteDatabaseConfig>,
    /// Where variables come from, in order of precedence (after `--variable`).
    pub variable_providers: Vec<VariableProvider>,
    /// `[verify] key`: apps pulled from a registry must be signed by this public key.
    pub verify_key: Option<PathBuf>,
    /// Unknown fields, one line each with its `file:line:col`.
    pub warnings: Vec<String>,
}

/// Where one key-value store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueStoreConfig {
    /// `type = "spin"`: a SQLite file (`path`, relative to the runtime config file; by default
    /// `<label>.db` in the app's state directory).
    Spin {
        /// The file, if given.
        path: Option<PathBuf>,
    },
    /// `type = "redis"`: a Redis server's keys.
    Redis {
        /// `redis://[user:password@]host[:port][/db]`.
        url: String,
    },
    /// `type = "nats"`: a NATS JetStream key-value bucket (kiln's own type).
    Nats {
        /// `nats://host[:port]`.
        url: String,
        /// The bucket, created when missing.
        bucket: String,
    },
}

/// Where one SQLite database lives: `type = "spin"` with a `path` (relative to the runtime
/// config file; by default `<label>.db` in the app's state directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteDatabaseConfig {
    /// The file, if given.
    pub path: Option<PathBuf>,
}

/// A source of variable values (`[[variables_provider]]`, or `[[config_provider]]` as older
/// Spin versions call it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableProvider {
    /// `type = "env"`: `PREFIX_NAME` environment variables (prefix `SPIN_VARIABLE` by default).
    Env {
        /// The prefix, without the trailing `_`.
        prefix: String,
    },
    /// `type = "vault"`: secrets in a HashiCorp Vault KV v2 engine.
    Vault {
        /// The server, `http://127.0.0.1:8200`.
        url: String,
        /// The token sent as `X-Vault-Token`.
        token: String,
        /// The KV v2 engine's mount point (`secret`).
        mount: String,
        /// A path prefix inside the mount, if any.
        prefix: Option<String>,
    },
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
    #[serde(default)]
    variables_provider: Vec<RawProvider>,
    #[serde(default)]
    config_provider: Vec<RawProvider>,
    verify: Option<RawVerify>,
}

#[derive(Deserialize)]
struct RawVerify {
    key: PathBuf,
}

#[derive(Deserialize)]
#[serde(expecting = "a table with `type` and that type's settings")]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    path: Option<PathBuf>,
    url: Option<String>,
    bucket: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a table with `type` and that type's settings")]
struct RawProvider {
    #[serde(rename = "type")]
    kind: String,
    prefix: Option<String>,
    url: Option<String>,
    token: Option<String>,
    mount: Option<String>,
}

type Result<T> = std::result::Result<T, ManifestError>;

impl RuntimeConfig {
    /// Reads and validates the runtime config at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_text(path, &read_file(path)?)
    }

    /// Validates `text` as if read from `path` (relative paths resolve against its directory).
    pub fn from_text(path: &Path, text: &str) -> Result<Self> {
        let (path, base_dir) = absolute_and_dir(path);
        let mut doc = Doc {
            path: &path,
            text,
            base_dir: &base_dir,
            warnings: Vec::new(),
        };
        let raw: Raw = parse_with_warnings(&mut doc)?;
        let mut config = RuntimeConfig::default();
        for (label, store) in raw.key_value_store {
            let at = |field: &str| key_path!["key_value_store", &label, field];
            let store = match store.kind.as_str() {
                "spin" => KeyValueStoreConfig::Spin {
                    path: store.path.map(|p| base_dir.join(p)),
                },
                "redis" => KeyValueStoreConfig::Redis {
                    url: required(&doc, store.url, at("url"), "redis://127.0.0.1:6379")?,
                },
                "nats" => {
                    let bucket = required(&doc, store.bucket, at("bucket"), "app-data")?;
                    if !bucket
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        return Err(doc.error(
                            at("bucket"),
                            format!("invalid NATS bucket name \"{bucket}\": use letters, digits, `_` and `-`"),
                        ));
                    }
                    KeyValueStoreConfig::Nats {
                        url: required(&doc, store.url, at("url"), "nats://127.0.0.1:4222")?,
                        bucket,
                    }
                }
                other => {
                    return Err(doc.error(
                        at("type"),
                        format!("unknown key-value store type \"{other}\": use \"spin\" (a SQLite file), \"redis\" or \"nats\""),
                    ))
                }
            };
            config.key_value_stores.insert(label, store);
        }
        for (label, database) in raw.sqlite_database {
            if database.kind != "spin" {
                return Err(doc.error(
                    key_path!["sqlite_database", &label, "type"],
                    format!(
                        "unknown SQLite database type \"{}\": use \"spin\" (a SQLite file at `path`)",
                        database.kind
                    ),
                ));
            }
            let path = database.path.map(|p| base_dir.join(p));
            config
                .sqlite_databases
                .insert(label, SqliteDatabaseConfig { path });
        }
        config.verify_key = raw.verify.map(|verify| base_dir.join(verify.key));
        let providers = [
            ("variables_provider", raw.variables_provider),
            ("config_provider", raw.config_provider),
        ];
        for (table, list) in providers {
            for (index, provider) in list.into_iter().enumerate() {
                let provider = variable_provider(&doc, table, index, provider)?;
                config.variable_providers.push(provider);
            }
        }
        config.warnings = doc.warnings;
        Ok(config)
    }
}

fn variable_provider(
    doc: &Doc<'_>,
    table: &str,
    index: usize,
    raw: RawProvider,
) -> Result<VariableProvider> {
    let at = |field: &str| key_path![table, index, field];
    match raw.kind.as_str() {
        "env" => Ok(VariableProvider::Env {
            prefix: raw.prefix.unwrap_or_else(|| "SPIN_VARIABLE".into()),
        }),
        "vault" => Ok(VariableProvider::Vault {
            url: required(doc, raw.url, at("url"), "http://127.0.0.1:8200")?,
            token: required(doc, raw.token, at("token"), "...")?,
            mount: required(doc, raw.mount, at("mount"), "secret")?,
            prefix: raw.prefix,
        }),
        other => Err(doc.error(
            at("type"),
            format!("unknown variables provider type \"{other}\": use \"env\" or \"vault\""),
        )),
    }
}

/// `value`, or an error at the table that lacks it, with an example.
fn required(doc: &Doc<'_>, value: Option<String>, at: Vec<Key>, example: &str) -> Result<String> {
    value.ok_or_else(|| {
        let field = match at.last() {
            Some(Key::Name(name)) => name.clone(),
            _ => String::new(),
        };
        let table = at[..at.len() - 1].to_vec();
        doc.error(
            table,
            format!("missing `{field}`: add {field} = \"{example}\""),
        )
    })
}
