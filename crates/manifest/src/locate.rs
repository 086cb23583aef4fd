//! Finds the line and column of a key path (`component.hello.source`) in a TOML document, so
//! that errors found after deserializing can still point at the place in the file.

use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::{Location, ManifestError};

/// The manifest being validated: its path and text, to turn key paths into locations.
pub(crate) struct Doc<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) base_dir: &'a Path,
    pub(crate) warnings: Vec<String>,
}

impl Doc<'_> {
    pub(crate) fn location(&self, keys: &[Key]) -> Location {
        Location {
            path: self.path.to_path_buf(),
            line_col: locate(self.text, keys),
        }
    }

    pub(crate) fn error(&self, keys: Vec<Key>, message: impl Into<String>) -> ManifestError {
        ManifestError::Invalid {
            location: self.location(&keys),
            message: message.into(),
        }
    }

    pub(crate) fn warn(&mut self, keys: Vec<Key>, message: impl AsRef<str>) {
        let warning = format!("{}: {}", self.location(&keys), message.as_ref());
        self.warnings.push(warning);
    }
}

/// One step in a key path into the manifest: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A table key.
    Name(String),
    /// An array index.
    Index(usize),
}

impl From<&str> for Key {
    fn from(name: &str) -> Self {
        Key::Name(name.to_string())
    }
}

impl From<&String> for Key {
    fn from(name: &String) -> Self {
        Key::Name(name.clone())
    }
}

impl From<usize> for Key {
    fn from(index: usize) -> Self {
        Key::Index(index)
    }
}

/// Builds a key path (`Vec<Key>`) from table keys and array indices.
macro_rules! key_path {
    ($($key:expr),* $(,)?) => { vec![$($crate::locate::Key::from($key)),*] };
}
pub(crate) use key_path;

/// The 1-based line and column of the deepest part of `path` found in `source`.
pub(crate) fn locate(source: &str, path: &[Key]) -> Option<(usize, usize)> {
    let root = DeTable::parse(source).ok()?;
    let mut span = root.span();
    let mut value: Option<&DeValue<'_>> = None;
    let mut table = Some(root.get_ref());
    for key in path {
        let next = match (key, table, value) {
            (Key::Name(name), Some(t), _) => t.get(name.as_str()),
            (Key::Index(i), _, Some(DeValue::Array(items))) => items.get(*i),
            _ => None,
        };
        let Some(next) = next else { break };
        span = next.span();
        value = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    Some(line_col(source, span.start))
}

/// The 1-based line and column of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "a = 1\n[component.hello]\nsource = \"x.wasm\"\n[[trigger.http]]\nroute = \"/\"\n[[trigger.http]]\nroute = \"/b\"\n";

    #[test]
    fn finds_nested_keys_and_array_items() {
        assert_eq!(locate(DOC, &key_path!["a"][..]), Some((1, 5)));
        assert_eq!(
            locate(DOC, &key_path!["component", "hello", "source"][..]),
            Some((3, 10))
        );
        assert_eq!(
            locate(DOC, &key_path!["trigger", "http", 1usize, "route"][..]),
            Some((7, 9))
        );
    }

    #[test]
    fn stops_at_the_deepest_existing_key() {
        assert_eq!(
            locate(DOC, &key_path!["component", "hello", "missing"][..]).map(|p| p.0),
            Some(2)
        );
    }
}
