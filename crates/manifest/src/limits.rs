//! Resource limits: kiln's own extension to the manifest, in the `tool` tables Spin leaves to
//! other tools (`[application.tool.kiln.limits]` for the whole app,
//! `[component.ID.tool.kiln.limits]` for one component), so a Spin manifest that carries them
//! still runs under Spin.

use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::locate::Doc;
use crate::locate::Key;
use crate::ManifestError;

/// Limits on one component's instances; `None` leaves a limit to whoever runs the app (flags,
/// then kiln's defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Most linear memory one instance may grow to, in bytes.
    pub max_memory: Option<u64>,
    /// Longest one request may take, response body included.
    pub timeout: Option<Duration>,
    /// Most requests one component runs at once.
    pub max_concurrent: Option<u32>,
    /// Largest request body accepted, in bytes.
    pub max_request_body: Option<u64>,
    /// Largest response body sent, in bytes.
    pub max_response_body: Option<u64>,
}

impl Limits {
    /// Each limit of `self`, or `fallback`'s where `self` sets none.
    pub fn or(self, fallback: Limits) -> Limits {
        Limits {
            max_memory: self.max_memory.or(fallback.max_memory),
            timeout: self.timeout.or(fallback.timeout),
            max_concurrent: self.max_concurrent.or(fallback.max_concurrent),
            max_request_body: self.max_request_body.or(fallback.max_request_body),
            max_response_body: self.max_response_body.or(fallback.max_response_body),
        }
    }
}

/// Parses a size: bytes (`1048576`) or a number with a unit (`64 MiB`, `10MB`, `1 GiB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| {
            format!(
                "\"{text}\" is not a size: write bytes, or a number and a unit such as \"64 MiB\""
            )
        })
}

/// Parses a duration with a unit: `30s`, `500ms`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|_| {
        format!(
            "\"{text}\" is not a duration: write a number and a unit such as \"30s\" or \"500ms\""
        )
    })?;
    if duration.is_zero() {
        return Err(format!("\"{text}\": a duration must be longer than zero"));
    }
    Ok(duration)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKilnTool {
    #[serde(default)]
    limits: IndexMap<String, toml::Value>,
}

/// The limits in `tools.kiln.limits`, where `keys` is the path of the `tool` table.
pub(crate) fn from_tools(
    doc: &Doc<'_>,
    tools: &IndexMap<String, toml::Table>,
    keys: &[Key],
) -> Result<Limits, ManifestError> {
    let Some(kiln) = tools.get("kiln") else {
        return Ok(Limits::default());
    };
    let mut at = keys.to_vec();
    at.push(Key::from("kiln"));
    let tool: RawKilnTool =
        toml::Value::Table(kiln.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                doc.error(
                    at.clone(),
                    format!("tool.kiln: {}: only `limits` is known", e.message()),
                )
            })?;
    at.push(Key::from("limits"));
    let mut limits = Limits::default();
    for (name, value) in &tool.limits {
        let mut field = at.clone();
        field.push(Key::from(name));
        limits
            .set(name, value)
            .map_err(|message| doc.error(field, message))?;
    }
    Ok(limits)
}

impl Limits {
    /// Sets the limit `name` from its TOML `value` (`max_memory = "64 MiB"`,
    /// `timeout = "5s"`, ...); the error says what the value should look like.
    pub fn set(&mut self, name: &str, value: &toml::Value) -> Result<(), String> {
        let size = || match value {
            toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
            toml::Value::String(text) => parse_size(text),
            _ => Err(format!(
                "{name} must be a size such as \"64 MiB\" or a number of bytes"
            )),
        };
        match name {
            "max_memory" => self.max_memory = Some(size()?),
            "max_request_body" => self.max_request_body = Some(size()?),
            "max_response_body" => self.max_response_body = Some(size()?),
            "timeout" => match value {
                toml::Value::String(text) => self.timeout = Some(parse_duration(text)?),
                _ => return Err("timeout must be a duration such as \"30s\"".into()),
            },
            "max_concurrent" => match value {
                toml::Value::Integer(n) if (1..=i64::from(u32::MAX)).contains(n) => {
                    self.max_concurrent = Some(*n as u32)
                }
                _ => return Err("max_concurrent must be a whole number of requests, at least 1".into()),
            },
            other => {
                return Err(format!(
                    "unknown limit `{other}`: kiln knows max_memory, timeout, max_concurrent, max_request_body and max_response_body"
                ))
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("30").is_err());
    }

    #[test]
    fn component_limits_win_over_the_fallback() {
        let component = Limits {
            timeout: Some(Duration::from_secs(1)),
            ..Limits::default()
        };
        let app = Limits {
            timeout: Some(Duration::from_secs(9)),
            max_memory: Some(10),
            ..Limits::default()
        };
        let both = component.or(app);
        assert_eq!(both.timeout, Some(Duration::from_secs(1)));
        assert_eq!(both.max_memory, Some(10));
    }
}
