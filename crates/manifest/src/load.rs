//! Finding and reading a manifest file.

use std::path::{Path, PathBuf};

use crate::locate::{line_col, Doc, Key};
use crate::schema::RawManifest;
use crate::validate;
use crate::{AppSpec, Location, ManifestError};

/// Manifest file names looked for in a directory, in order: kiln's own first.
pub const MANIFEST_NAMES: [&str; 2] = ["kiln.toml", "spin.toml"];

/// The manifest file `path` designates: the file itself, or the first of [`MANIFEST_NAMES`] in a directory.
pub fn find_manifest(path: &Path) -> Result<PathBuf, ManifestError> {
    if path.is_dir() {
        MANIFEST_NAMES
            .iter()
            .map(|name| path.join(name))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| ManifestError::NotFound {
                dir: path.to_path_buf(),
            })
    } else if path.exists() {
        Ok(path.to_path_buf())
    } else {
        Err(ManifestError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        })
    }
}

/// A loaded app and the warnings its manifest produced (unknown fields, deprecated syntax).
#[derive(Debug)]
pub struct LoadedManifest {
    /// The validated app.
    pub app: AppSpec,
    /// One line per warning, each with its `file:line:col`.
    pub warnings: Vec<String>,
}

impl LoadedManifest {
    /// Loads the manifest at `path` (a file, or a directory holding `kiln.toml` or `spin.toml`).
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let path = find_manifest(path)?;
        Self::from_text(&path, &read_file(&path)?)
    }

    /// Validates manifest `text` as if read from `path` (relative paths resolve against its directory).
    pub fn from_text(path: &Path, text: &str) -> Result<Self, ManifestError> {
        let (path, base_dir) = absolute_and_dir(path);
        let mut doc = Doc {
            path: &path,
            text,
            base_dir: &base_dir,
            warnings: Vec::new(),
        };
        let raw: RawManifest = parse_with_warnings(&mut doc)?;
        let app = validate::app(&mut doc, raw)?;
        Ok(Self {
            app,
            warnings: doc.warnings,
        })
    }
}

/// The text of the file at `path`.
pub(crate) fn read_file(path: &Path) -> Result<String, ManifestError> {
    std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `path` made absolute, and the directory its relative paths resolve against.
pub(crate) fn absolute_and_dir(path: &Path) -> (PathBuf, PathBuf) {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    (path, dir)
}

/// Deserializes `doc`'s TOML, warning (with the place) about each field `T` does not know.
pub(crate) fn parse_with_warnings<T: serde::de::DeserializeOwned>(
    doc: &mut Doc<'_>,
) -> Result<T, ManifestError> {
    let (path, text) = (doc.path, doc.text);
    let mut unknown = Vec::new();
    let deserializer = toml::Deserializer::parse(text).map_err(|e| invalid(path, text, &e))?;
    let raw = serde_ignored::deserialize(deserializer, |p| unknown.push(p.to_string()))
        .map_err(|e| invalid(path, text, &e))?;
    for field in unknown {
        let keys = field
            .split('.')
            .map(|part| {
                part.parse::<usize>()
                    .map_or_else(|_| Key::from(part), Key::Index)
            })
            .collect();
        doc.warn(keys, format!("unknown field `{field}` ignored"));
    }
    Ok(raw)
}

fn invalid(path: &Path, text: &str, error: &toml::de::Error) -> ManifestError {
    ManifestError::Invalid {
        location: Location {
            path: path.to_path_buf(),
            line_col: error.span().map(|span| line_col(text, span.start)),
        },
        message: error.message().trim_end().to_string(),
    }
}
