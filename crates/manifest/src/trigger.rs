//! [`TriggerSpec`]: one `[[trigger.TYPE]]` entry with what every trigger has resolved (its
//! component), and its own fields kept for its trigger type to read ([`TriggerSpec::config`]),
//! with errors and warnings that point at the manifest line.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::locate::{locate, Key};
use crate::{AppSpec, Location, ManifestError};

/// A `[[trigger.TYPE]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TriggerSpec {
    /// `TYPE`: `http`, `redis`, ...
    pub trigger_type: String,
    /// Its place among the app's triggers of its type (0 for the first `[[trigger.TYPE]]`).
    pub index: usize,
    /// The trigger id (given, or generated from the component id).
    pub id: String,
    /// The component it calls (an inline component gets a generated id).
    pub component: String,
    /// Its own fields (`route`, `channel`, ...), everything but `id` and `component`.
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl TriggerSpec {
    /// The key path of this entry, with `field` appended when given (for [`AppSpec::error_at`]).
    pub fn keys(&self, field: Option<&str>) -> Vec<Key> {
        let mut keys = vec![
            Key::from("trigger"),
            Key::from(self.trigger_type.as_str()),
            Key::Index(self.index),
        ];
        keys.extend(field.map(Key::from));
        keys
    }

    /// Its own fields as `T`, which says what the trigger type reads; each field `T` does not
    /// know is a warning (with its place), as everywhere in the manifest.
    pub fn config<T: DeserializeOwned>(
        &self,
        app: &AppSpec,
    ) -> Result<(T, Vec<String>), ManifestError> {
        let mut unknown = Vec::new();
        let value = serde_json::Value::Object(self.config.clone());
        let mut ignored = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let fields = serde_ignored::Deserializer::new(value, &mut ignored);
        let config = app.read_at(self.keys(None), fields)?;
        let warnings = unknown
            .into_iter()
            .map(|field| {
                let mut keys = self.keys(None);
                keys.push(Key::Name(field.clone()));
                format!("{}: unknown field `{field}` ignored", app.location(&keys))
            })
            .collect();
        Ok((config, warnings))
    }
}

impl AppSpec {
    /// Where `keys` (`trigger.http[0].route`) are in the manifest: its line and column when
    /// the manifest's text is at hand.
    pub fn location(&self, keys: &[Key]) -> Location {
        Location {
            path: self.manifest_path.clone(),
            line_col: self.manifest_text.as_deref().and_then(|t| locate(t, keys)),
        }
    }

    /// An error in the manifest at `keys`: what is wrong and how to fix it.
    pub fn error_at(&self, keys: &[Key], message: impl Into<String>) -> ManifestError {
        ManifestError::Invalid {
            location: self.location(keys),
            message: message.into(),
        }
    }

    /// The entries of `[[trigger.TYPE]]`, in manifest order.
    pub fn triggers_of<'a>(
        &'a self,
        trigger_type: &'a str,
    ) -> impl Iterator<Item = &'a TriggerSpec> + 'a {
        self.triggers
            .iter()
            .filter(move |t| t.trigger_type == trigger_type)
    }

    /// Each `[[trigger.TYPE]]` entry read with `read`, in manifest order, with the warnings
    /// of them all; the first entry in error is the error.
    pub fn read_triggers<T>(
        &self,
        trigger_type: &str,
        read: impl Fn(&TriggerSpec) -> Result<(T, Vec<String>), ManifestError>,
    ) -> Result<(Vec<T>, Vec<String>), ManifestError> {
        let (mut entries, mut warnings) = (Vec::new(), Vec::new());
        for trigger in self.triggers_of(trigger_type) {
            let (entry, more) = read(trigger)?;
            entries.push(entry);
            warnings.extend(more);
        }
        Ok((entries, warnings))
    }

    /// `[application.trigger.TYPE]` read as `T` (its default when the table is absent).
    pub fn trigger_settings<T: DeserializeOwned + Default>(
        &self,
        trigger_type: &str,
    ) -> Result<T, ManifestError> {
        let Some(settings) = self.trigger_settings.get(trigger_type) else {
            return Ok(T::default());
        };
        let keys = vec![
            Key::from("application"),
            Key::from("trigger"),
            Key::from(trigger_type),
        ];
        self.read_at(keys, serde_json::Value::Object(settings.clone()))
    }

    /// `fields`, the table at `keys`, read as `T`; an error is placed at the field it is
    /// about (`route = 42` at the 42), else at the table.
    fn read_at<'de, T: Deserialize<'de>>(
        &self,
        mut keys: Vec<Key>,
        fields: impl serde::Deserializer<'de, Error = serde_json::Error>,
    ) -> Result<T, ManifestError> {
        serde_path_to_error::deserialize(fields).map_err(|e| {
            keys.extend(e.path().iter().filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(Key::from(key.as_str())),
                serde_path_to_error::Segment::Seq { index } => Some(Key::Index(*index)),
                _ => None,
            }));
            self.error_at(&keys, e.into_inner().to_string())
        })
    }
}
