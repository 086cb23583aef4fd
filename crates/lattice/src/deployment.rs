//! A deployment: which app a lattice runs, how many replicas, and on which hosts. Written by
//! hand as a TOML file (`kiln deploy deployment.toml`) or from flags, stored as JSON in the
//! lattice's desired state.
//!
//! ```toml
//! name = "hello"
//! app = "registry.example.com/apps/hello:v1"
//! replicas = 3
//! requires = { tier = "edge" }          # labels every replica's host must have
//! hosts = ["hello.example.com"]         # HTTP Host names it answers besides NAME
//!
//! [[spread]]                            # replicas shared out by weight over host labels
//! labels = { region = "eu" }
//! weight = 60
//! [[spread]]
//! labels = { region = "us" }
//! weight = 40
//!
//! [variables]                           # application variables
//! greeting = "hello"
//!
//! [limits]                              # for components whose manifest sets none
//! timeout = "5s"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use kiln_manifest::{digest_of, Limits};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Labels: names to values, such as `region = "eu"`.
pub type Labels = BTreeMap<String, String>;

/// What a lattice runs for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Its name: a DNS label, unique in the lattice; also the HTTP Host name it answers.
    pub name: String,
    /// How many hosts run it (at most one replica per host).
    pub replicas: u32,
    /// Labels every host running it must have.
    #[serde(default)]
    pub requires: Labels,
    /// How its replicas are shared out over host labels (none: over every host).
    #[serde(default)]
    pub spread: Vec<Spread>,
    /// What each replica runs.
    pub release: Release,
}

/// One spread rule: a share of the replicas, by weight, on hosts with `labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// The labels its hosts have.
    pub labels: Labels,
    /// Its share: its weight over the sum of the weights.
    pub weight: u32,
}

/// What one replica runs: the app and what the deployment adds to it. A deployment whose
/// release changes is rolled out host by host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// The app's registry reference, pinned by digest (`REGISTRY/REPO@sha256:...`).
    pub app: String,
    /// HTTP Host names it answers besides the deployment's name.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Limits for components whose manifest sets none.
    #[serde(default)]
    pub limits: Limits,
}

impl Release {
    /// A short name for this release: the start of the digest of its JSON form.
    pub fn id(&self) -> String {
        let json = serde_json::to_vec(self).expect("a release is plain data");
        digest_of(&json).trim_start_matches("sha256:")[..12].to_string()
    }
}

impl Deployment {
    /// Reads a deployment file; errors name the file, line and column.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the deployment {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))
    }

    /// Parses a deployment file's text; errors start with `LINE:COL: `.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawDeployment = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |span| line_col(text, span.start));
            format!("{line}:{col}: {}", e.message())
        })?;
        raw.check(text)
    }

    /// Checks a deployment made from flags (or read back): its name, replicas and weights.
    pub fn check(&self) -> Result<(), String> {
        check_name(&self.name)?;
        if let Some(spread) = self.spread.iter().find(|s| s.weight == 0) {
            return Err(format!(
                "the spread over {} has weight 0: give it a weight of at least 1, or leave it out",
                show_labels(&spread.labels)
            ));
        }
        Ok(())
    }

    /// Whether a host with `labels` may run it at all.
    pub fn admits(&self, labels: &Labels) -> bool {
        has_all(labels, &self.requires)
    }
}

/// Whether `labels` include every one of `wanted`.
pub fn has_all(labels: &Labels, wanted: &Labels) -> bool {
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `region=eu,tier=edge`, or `any host` for no labels.
pub fn show_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return "any host".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A deployment name is a DNS label: it is also a bucket key and an HTTP Host name.
fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(format!("\"{name}\" is not a deployment name: use lower-case letters, digits and inner dashes, at most 63 (a DNS label)"))
    }
}

/// The file's form, with the places of the values checked after parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeployment {
    name: Spanned<String>,
    app: Spanned<String>,
    #[serde(default = "one")]
    replicas: Spanned<u32>,
    #[serde(default)]
    requires: Labels,
    #[serde(default)]
    spread: Vec<RawSpread>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    limits: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpread {
    labels: Labels,
    weight: Spanned<u32>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

impl RawDeployment {
    fn check(self, text: &str) -> Result<Deployment, String> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, col) = line_col(text, span.start);
            format!("{line}:{col}: {message}")
        };
        check_name(self.name.get_ref()).map_err(|m| at(self.name.span(), m))?;
        if self.app.get_ref().trim().is_empty() {
            return Err(at(
                self.app.span(),
                "app is empty: name a registry reference such as REGISTRY/REPOSITORY:TAG".into(),
            ));
        }
        let mut limits = Limits::default();
        for (name, value) in &self.limits {
            limits
                .set(name, value.get_ref())
                .map_err(|m| at(value.span(), format!("limits.{name}: {m}")))?;
        }
        let mut spread = Vec::new();
        for rule in self.spread {
            if *rule.weight.get_ref() == 0 {
                return Err(at(
                    rule.weight.span(),
                    "weight must be at least 1 (a spread with no share is left out)".into(),
                ));
            }
            spread.push(Spread {
                labels: rule.labels,
                weight: rule.weight.into_inner(),
            });
        }
        Ok(Deployment {
            name: self.name.into_inner(),
            replicas: self.replicas.into_inner(),
            requires: self.requires,
            spread,
            release: Release {
                app: self.app.into_inner(),
                hosts: self.hosts,
                variables: self.variables,
                limits,
            },
        })
    }
}

/// The 1-based line and column of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Parses `KEY=VALUE` (a label).
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("\"{text}\" is not a label: write KEY=VALUE")),
    }
}

/// Parses `KEY=VALUE[,KEY=VALUE...]:WEIGHT` (a spread rule, as `--spread region=eu:60`).
pub fn parse_spread(text: &str) -> Result<Spread, String> {
    let bad =
        || format!("\"{text}\" is not a spread: write KEY=VALUE:WEIGHT, such as region=eu:60");
    let (labels, weight) = text.rsplit_once(':').ok_or_else(bad)?;
    let weight: u32 = weight.parse().map_err(|_| bad())?;
    let labels = labels
        .split(',')
        .map(parse_label)
        .collect::<Result<Labels, _>>()?;
    Ok(Spread { labels, weight })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"name = "hello"
app = "127.0.0.1:5000/apps/hello:v1"
replicas = 3
requires = { tier = "edge" }
hosts = ["hello.example.com"]

[[spread]]
labels = { region = "eu" }
weight = 60
[[spread]]
labels = { region = "us" }
weight = 40

[variables]
greeting = "hi"

[limits]
timeout = "5s"
"#;

    #[test]
    fn a_deployment_file_reads() {
        let d = Deployment::parse(FILE).unwrap();
        assert_eq!(d.name, "hello");
        assert_eq!(d.replicas, 3);
        assert_eq!(d.requires["tier"], "edge");
        assert_eq!(d.spread.len(), 2);
        assert_eq!(d.spread[1].weight, 40);
        assert_eq!(d.release.variables["greeting"], "hi");
        assert_eq!(
            d.release.limits.timeout,
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!(d.release.id().len(), 12);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad_weight = FILE.replace("weight = 40", "weight = 0");
        assert_eq!(
            Deployment::parse(&bad_weight).unwrap_err(),
            "12:10: weight must be at least 1 (a spread with no share is left out)"
        );
        let bad_name = FILE.replace("\"hello\"", "\"Hello World\"");
        assert!(Deployment::parse(&bad_name)
            .unwrap_err()
            .starts_with("1:8: \"Hello World\" is not a deployment name"));
        let unknown = FILE.replace("replicas = 3", "replica = 3");
        let error = Deployment::parse(&unknown).unwrap_err();
        assert!(error.starts_with("3:1: unknown field `replica`"), "{error}");
        let bad_limit = FILE.replace("\"5s\"", "5");
        let error = Deployment::parse(&bad_limit).unwrap_err();
        assert!(
            error.starts_with("18:11: limits.timeout: timeout must be a duration"),
            "{error}"
        );
    }

    #[test]
    fn spreads_and_labels_from_flags() {
        let s = parse_spread("region=eu,tier=edge:60").unwrap();
        assert_eq!(s.weight, 60);
        assert_eq!(show_labels(&s.labels), "region=eu,tier=edge");
        assert!(parse_spread("region=eu").is_err());
        assert!(parse_label("novalue").is_err());
    }
}
