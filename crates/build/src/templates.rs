//! `kiln new` and `kiln add`: app and component templates built into the binary, laid out as
//! Spin's templates lay them out (a `spin.toml`, the component's sources, its build command
//! and `watch` globs), each ready for `kiln up --build`.
//!
//! A template is its files (`templates/NAME/`, rendered) and a manifest snippet
//! (`component.toml`: its trigger and component), which `new` puts under an `[application]`
//! header and `add` appends to an existing manifest, with paths into the component's directory.
//! Placeholders are Spin's: `{{project-name}}`, `{{project-name | kebab_case}}`,
//! `{{project-name | snake_case}}`, and each template's parameters; kiln adds two for the
//! snippet: `{{output-path}}` (empty for `new`, `NAME/` for `add`) before paths, and
//! `{{workdir}}`, a whole `workdir = "NAME"` line for `add` (nothing for `new`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// A question a template asks, with its default.
#[derive(Debug)]
pub struct Parameter {
    /// Its placeholder (`http-path`).
    pub key: &'static str,
    /// The question.
    pub prompt: &'static str,
    /// The answer taken when none is given.
    pub default: &'static str,
}

/// What a template's build needs installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Toolchain {
    /// cargo with the wasm32-wasip2 target.
    Rust,
    /// componentize-py and Spin's Python SDK.
    Python,
    /// Node.js and npm (the template's build installs the rest from npm).
    Node,
}

/// A template of an app with one component.
#[derive(Debug)]
pub struct Template {
    /// Its name (`http-rust`).
    pub name: &'static str,
    /// One line on what it makes.
    pub description: &'static str,
    /// What it asks.
    pub parameters: &'static [Parameter],
    toolchain: Toolchain,
    files: &'static [(&'static str, &'static str)],
    component: &'static str,
}

macro_rules! template_files {
    ($dir:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $dir, "/", $path)))),*]
    };
}

const DESCRIPTION: Parameter = Parameter {
    key: "project-description",
    prompt: "Description",
    default: "",
};

const HTTP_PATH: Parameter = Parameter {
    key: "http-path",
    prompt: "HTTP path",
    default: "/...",
};

const APPLICATION: &str = include_str!("../templates/application.toml");

/// Every template, in the order `kiln templates` lists them.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "http-rust",
        description: "HTTP request handler using Rust (Spin SDK)",
        parameters: &[DESCRIPTION, HTTP_PATH],
        toolchain: Toolchain::Rust,
        files: template_files!("http-rust": "Cargo.toml", "src/lib.rs", ".gitignore"),
        component: include_str!("../templates/http-rust/component.toml"),
    },
    Template {
        name: "http-py",
        description: "HTTP request handler using Python (Spin SDK, componentize-py)",
        parameters: &[DESCRIPTION, HTTP_PATH],
        toolchain: Toolchain::Python,
        files: template_files!("http-py": "app.py", "requirements.txt", ".gitignore"),
        component: include_str!("../templates/http-py/component.toml"),
    },
    Template {
        name: "http-js",
        description: "HTTP request handler using JavaScript (Spin JS SDK, ComponentizeJS)",
        parameters: &[DESCRIPTION, HTTP_PATH],
        toolchain: Toolchain::Node,
        files: template_files!("http-js": "package.json", "build.mjs", "src/index.js", ".gitignore"),
        component: include_str!("../templates/http-js/component.toml"),
    },
    Template {
        name: "http-ts",
        description: "HTTP request handler using TypeScript (Spin JS SDK, ComponentizeJS)",
        parameters: &[DESCRIPTION, HTTP_PATH],
        toolchain: Toolchain::Node,
        files: template_files!("http-ts": "package.json", "build.mjs", "tsconfig.json", "src/index.ts", ".gitignore"),
        component: include_str!("../templates/http-ts/component.toml"),
    },
    Template {
        name: "redis-rust",
        description: "Redis message handler using Rust (Spin SDK)",
        parameters: &[
            DESCRIPTION,
            Parameter {
                key: "redis-address",
                prompt: "Redis address",
                default: "redis://localhost:6379",
            },
            Parameter {
                key: "redis-channel",
                prompt: "Redis channel",
                default: "messages",
            },
        ],
        toolchain: Toolchain::Rust,
        files: template_files!("redis-rust": "Cargo.toml", "src/lib.rs", ".gitignore"),
        component: include_str!("../templates/redis-rust/component.toml"),
    },
    Template {
        name: "http-empty",
        description: "HTTP request handler on plain wasi:http, no SDK (Rust, WASI bindings)",
        parameters: &[DESCRIPTION, HTTP_PATH],
        toolchain: Toolchain::Rust,
        files: template_files!("http-empty": "Cargo.toml", "src/lib.rs", ".gitignore"),
        component: include_str!("../templates/http-empty/component.toml"),
    },
];

/// The template `name`; an error lists them all.
pub fn find(name: &str) -> anyhow::Result<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        anyhow::anyhow!(
            "no template \"{name}\": kiln has {} (kiln templates describes them)",
            names.join(", ")
        )
    })
}

/// A missing tool a template's build needs, and the command that installs it.
#[derive(Debug, PartialEq, Eq)]
pub struct MissingTool {
    /// What is missing.
    pub what: String,
    /// The command that installs it (run in the new component's directory).
    pub install: String,
}

impl Template {
    /// What its build needs that this machine lacks.
    pub fn missing_tools(&self) -> Vec<MissingTool> {
        match self.toolchain {
            Toolchain::Rust => match crate::toolchain::installed_targets() {
                Some(targets) if targets.iter().any(|t| t == "wasm32-wasip2") => vec![],
                Some(_) => vec![MissingTool {
                    what: "the Rust target wasm32-wasip2".into(),
                    install: "rustup target add wasm32-wasip2".into(),
                }],
                None => vec![MissingTool {
                    what: "Rust (rustup and cargo)".into(),
                    install: "curl https://sh.rustup.rs -sSf | sh -s -- -y --target wasm32-wasip2"
                        .into(),
                }],
            },
            Toolchain::Node => {
                if on_path("node") && on_path("npm") {
                    return vec![];
                }
                vec![MissingTool {
                    what: "Node.js 20 or newer with npm (https://nodejs.org)".into(),
                    install: "apt-get install -y nodejs npm".into(),
                }]
            }
            Toolchain::Python => {
                if on_path("componentize-py") {
                    return vec![];
                }
                vec![MissingTool {
                    what: "componentize-py and Spin's Python SDK".into(),
                    install: "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
                        .into(),
                }]
            }
        }
    }

    /// Writes a new app named `name` from this template into `dir` (which must not exist or
    /// be empty), with `values` for its parameters; returns its manifest's path.
    pub fn new_app(
        &self,
        name: &str,
        dir: &Path,
        values: &BTreeMap<String, String>,
    ) -> anyhow::Result<PathBuf> {
        check_name(name)?;
        if dir.exists() && dir.read_dir()?.next().is_some() {
            anyhow::bail!(
                "{} already exists and is not empty: pick another name or directory",
                dir.display()
            );
        }
        let vars = Vars::new(name, values, "", "");
        self.write_files(dir, &vars)?;
        let manifest = dir.join("spin.toml");
        let text = format!(
            "{}{}",
            vars.render(APPLICATION)?,
            vars.render(self.component)?
        );
        std::fs::write(&manifest, text)
            .with_context(|| format!("writing {}", manifest.display()))?;
        Ok(manifest)
    }

    /// Adds a component named `name` from this template to the app whose manifest is
    /// `manifest`: its files go to the directory `name` beside the manifest, its trigger and
    /// component to the end of the manifest. Returns the component's directory.
    pub fn add_component(
        &self,
        name: &str,
        manifest: &Path,
        values: &BTreeMap<String, String>,
    ) -> anyhow::Result<PathBuf> {
        check_name(name)?;
        let text = std::fs::read_to_string(manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        let vars = Vars::new(
            name,
            values,
            &format!("{name}/"),
            &format!("workdir = \"{name}\"\n"),
        );
        let id = vars.render("{{project-name | kebab_case}}")?;
        if text.contains(&format!("[component.{id}]")) {
            anyhow::bail!(
                "{} already has a component \"{id}\": pick another name",
                manifest.display()
            );
        }
        let dir = manifest.parent().unwrap_or(Path::new(".")).join(name);
        if dir.exists() {
            anyhow::bail!("{} already exists: pick another name", dir.display());
        }
        self.write_files(&dir, &vars)?;
        let snippet = vars.render(self.component)?;
        let separator = if text.ends_with('\n') { "\n" } else { "\n\n" };
        std::fs::write(manifest, format!("{text}{separator}{snippet}"))
            .with_context(|| format!("writing {}", manifest.display()))?;
        Ok(dir)
    }

    fn write_files(&self, dir: &Path, vars: &Vars) -> anyhow::Result<()> {
        for (path, text) in self.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&target, vars.render(text)?)
                .with_context(|| format!("writing {}", target.display()))?;
        }
        Ok(())
    }
}

/// Whether `program` is on `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A name a component id and a Rust crate can both be made from.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        anyhow::bail!("\"{name}\" cannot name an app or component: use letters, digits, '-' and '_', starting with a letter");
    }
    Ok(())
}

/// The values placeholders render to.
struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    fn new(
        name: &str,
        values: &BTreeMap<String, String>,
        output_path: &str,
        workdir: &str,
    ) -> Self {
        let mut all = values.clone();
        all.insert("project-name".into(), name.into());
        all.insert("output-path".into(), output_path.into());
        all.insert("workdir".into(), workdir.into());
        all.entry("authors".into()).or_insert_with(git_author);
        Self { values: all }
    }

    /// `text` with every `{{key}}` and `{{key | filter}}` replaced.
    fn render(&self, text: &str) -> anyhow::Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .context("template placeholder without }}")?;
            let inner = &rest[start + 2..start + end];
            let (key, filter) = match inner.split_once('|') {
                Some((key, filter)) => (key.trim(), Some(filter.trim())),
                None => (inner.trim(), None),
            };
            let value = self
                .values
                .get(key)
                .with_context(|| format!("template placeholder {{{{{key}}}}} has no value"))?;
            out.push_str(&match filter {
                None => value.clone(),
                Some("kebab_case") => value.to_ascii_lowercase().replace('_', "-"),
                Some("snake_case") => value.to_ascii_lowercase().replace('-', "_"),
                Some(other) => anyhow::bail!("template filter {other} is unknown"),
            });
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `"Name <email>"` from git's config, as Spin fills `authors`; empty when git has none.
fn git_author() -> String {
    let config = |key: &str| {
        Command::new("git")
            .args(["config", "--get", key])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (config("user.name"), config("user.email")) {
        (Some(name), Some(email)) => format!("\"{name} <{email}>\""),
        (Some(name), None) => format!("\"{name}\""),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let values = BTreeMap::from([("http-path".to_string(), "/api/...".to_string())]);
        Vars::new("My_App", &values, "", "")
    }

    #[test]
    fn placeholders_render_with_spins_filters() {
        let vars = vars();
        assert_eq!(
            vars.render("{{project-name}} {{ project-name | kebab_case }} {{project-name|snake_case}} {{http-path}}").unwrap(),
            "My_App my-app my_app /api/..."
        );
        assert!(vars.render("{{nope}}").is_err());
        assert!(vars.render("{{project-name | shout}}").is_err());
    }

    #[test]
    fn every_template_renders_into_a_manifest_kiln_reads() {
        for template in TEMPLATES {
            let dir = std::env::temp_dir().join(format!(
                "kiln-template-{}-{}",
                template.name,
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let values = template
                .parameters
                .iter()
                .map(|p| (p.key.to_string(), p.default.to_string()))
                .collect();
            let manifest = template.new_app("hello-app", &dir, &values).unwrap();
            let loaded = kiln_manifest::LoadedManifest::load(&manifest)
                .unwrap_or_else(|e| panic!("{}: {e}", template.name));
            assert_eq!(
                loaded.app.components[0].id, "hello-app",
                "{}",
                template.name
            );
            let other = template
                .add_component("second", &manifest, &values)
                .unwrap();
            assert!(other.join(template.files[0].0).is_file());
            let loaded = kiln_manifest::LoadedManifest::load(&manifest).unwrap();
            let ids: Vec<&str> = loaded
                .app
                .components
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            assert_eq!(ids, ["hello-app", "second"], "{}", template.name);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        assert!(check_name("9lives").is_err());
        assert!(find("http-cobol")
            .unwrap_err()
            .to_string()
            .contains("http-rust"));
    }
}
