//! `kiln up`: load an app from its manifest and run its triggers until asked to stop.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use kiln_manifest::{AppSpec, ContentStore, LoadedManifest, RuntimeConfig};
use kiln_oci::Precompiled;
use kiln_runtime::{AppOptions, LoadedApp, Runtime, RuntimeOptions, DEFAULT_MAX_LOADED_COMPONENTS};
use kiln_trigger::{AppTriggers, TriggerHost};
use tokio_util::sync::CancellationToken;

use super::limits::LimitArgs;
use super::listen::ListenArgs;
use super::print_warnings;

#[derive(Args)]
pub(crate) struct UpCommand {
    /// The manifest, a directory holding kiln.toml or spin.toml, or a registry reference
    /// (REGISTRY/REPOSITORY:TAG or @sha256:DIGEST) to pull the app from.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
    #[command(flatten)]
    listen: ListenArgs,
    /// Run the components' build commands first.
    #[arg(long)]
    build: bool,
    /// Set an application variable: NAME=VALUE, or @FILE.json with an object of names to values.
    #[arg(long = "variable", value_name = "NAME=VALUE | @FILE.json")]
    variables: Vec<String>,
    /// Run SQL on the default SQLite database before serving: a statement, or @FILE.sql.
    #[arg(long = "sqlite", value_name = "STATEMENT | @FILE.sql")]
    sqlite: Vec<String>,
    /// Where key-value stores, SQLite databases and variables live (Spin's runtime-config.toml).
    #[arg(long = "runtime-config-file", value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    compiler: super::compiler::CompilerArgs,
    /// Most components kept loaded at once; past it the least recently used are unloaded and
    /// load again from the compile cache on their next request.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LOADED_COMPONENTS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_loaded_components: u32,
    #[command(flatten)]
    registry: super::registry::RegistryArgs,
    #[command(flatten)]
    verify: super::registry::VerifyArgs,
    /// Arguments for the app's command components (`[[trigger.command]]`), after `--`.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl UpCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let runtime_config = match &self.runtime_config_file {
            Some(path) => {
                let config = RuntimeConfig::load(path)?;
                print_warnings(&config.warnings);
                config
            }
            None => RuntimeConfig::default(),
        };
        // `--verify` wins over the runtime config's `[verify] key`.
        let verify = self.verify.key().or(runtime_config.verify_key.as_deref());
        let (app, content, triggers, precompiled) = self.app(verify).await?;
        let options = AppOptions {
            runtime_config,
            state_dir: app.base_dir.join(".kiln"),
            variables: parse_variables(&self.variables)?,
            sqlite_statements: self
                .sqlite
                .iter()
                .map(|s| read_at_file(s))
                .collect::<anyhow::Result<_>>()?,
            limits: self.limits.limits(),
        };
        let runtime = Runtime::new(&RuntimeOptions {
            max_loaded_components: self.max_loaded_components as usize,
            compiler: self.compiler.compiler,
            ..RuntimeOptions::sized_for(triggers.instances_needed(&app, &options))
        })?;
        for compiled in &precompiled {
            runtime.take_precompiled(&compiled.source, &compiled.engine, &compiled.bytes);
        }
        let app = LoadedApp::configure(&runtime, app, &options).await?;
        let components = app.load_components(&triggers.components(), &*content)?;
        let host = TriggerHost {
            http: kiln_trigger::http::HttpBinding::Listen(self.listen.address()),
            server: self.listen.server_options(),
            args: self.args,
            shutdown: CancellationToken::new(),
        };
        let (summary, running) = triggers.start(&app, &components, &host).await?;
        // The triggers hold what they call: the loaded forms are theirs to unload.
        drop(components);
        for line in summary {
            println!("{line}");
        }
        let _admin = self.listen.serve_admin(&runtime).await?;
        let shutdown = host.shutdown.clone();
        tokio::spawn(async move {
            crate::signals::shutdown().await;
            shutdown.cancel();
        });
        running.await
    }
}

impl UpCommand {
    /// The app, named by digest, with the store of its content, and its triggers: from a
    /// manifest (built first with `--build`, its checkout the content store), or, when `--from`
    /// names no file but a registry reference, pulled into the registry cache (signed by the
    /// public key `verify`, when given).
    async fn app(
        &self,
        verify: Option<&std::path::Path>,
    ) -> anyhow::Result<(
        AppSpec,
        Box<dyn ContentStore>,
        AppTriggers,
        Vec<Precompiled>,
    )> {
        let from = self.manifest.to_string_lossy();
        if !self.manifest.exists() && looks_like_reference(&from) {
            anyhow::ensure!(
                !self.build,
                "--build needs a manifest: {from} is a registry reference"
            );
            let (pulled, blobs) = super::registry::pull(&from, &self.registry, verify).await?;
            eprintln!("Pulled {from}@{}", pulled.digest);
            let triggers = AppTriggers::configure(&pulled.app)?;
            print_warnings(&triggers.warnings);
            // Compiled code runs as native code: it is taken only from a verified artifact.
            let precompiled = if verify.is_some() {
                pulled.precompiled
            } else {
                if !pulled.precompiled.is_empty() {
                    eprintln!("{from} carries precompiled code, which kiln runs only from a verified artifact (--verify KEY): compiling instead");
                }
                Vec::new()
            };
            return Ok((pulled.app, Box::new(blobs), triggers, precompiled));
        }
        anyhow::ensure!(
            self.verify.key().is_none(),
            "--verify checks apps pulled from a registry: {from} is a manifest"
        );
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        let mut app = loaded.app;
        super::fetch::remote(&mut app).await?;
        let triggers = AppTriggers::configure(&app)?;
        print_warnings(&triggers.warnings);
        if self.build {
            kiln_build::build_app(&app)?;
        }
        // From here on the app names its files by digest: the checkout is its content store.
        let (app, content) = app.lock()?;
        Ok((app, Box::new(content), triggers, Vec::new()))
    }
}

/// Whether `from` reads as a registry reference (`host[:port]/repository[:tag|@digest]`)
/// rather than a path: its first part names a host, and it names no manifest file.
fn looks_like_reference(from: &str) -> bool {
    let Some((host, _)) = from.split_once('/') else {
        return false;
    };
    (host.contains('.') || host.contains(':') || host == "localhost")
        && !from.starts_with('.')
        && !from.ends_with(".toml")
}

/// `NAME=VALUE` pairs and `@FILE.json` objects, in the order given.
fn parse_variables(specs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for spec in specs {
        if let Some(path) = spec.strip_prefix('@') {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--variable @{path}: cannot read the file"))?;
            let object: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
                .with_context(|| {
                    format!("--variable @{path}: expected a JSON object of names to string values")
                })?;
            pairs.extend(object);
        } else {
            let (name, value) = spec
                .split_once('=')
                .with_context(|| format!("--variable {spec}: expected NAME=VALUE or @FILE.json"))?;
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    Ok(pairs)
}

/// The text itself, or the contents of the file named after `@`.
fn read_at_file(spec: &str) -> anyhow::Result<String> {
    match spec.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("--sqlite @{path}: cannot read the file")),
        None => Ok(spec.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_reference;

    #[test]
    fn references_and_paths_are_told_apart() {
        for reference in [
            "ghcr.io/me/app:v1",
            "127.0.0.1:5000/kiln/app:v1",
            "localhost/app@sha256:0123",
        ] {
            assert!(looks_like_reference(reference), "{reference}");
        }
        for path in [
            "apps/hello",
            "./ghcr.io/app",
            "../x.y/app",
            "my.app/spin.toml",
            "spin.toml",
        ] {
            assert!(!looks_like_reference(path), "{path}");
        }
    }
}
