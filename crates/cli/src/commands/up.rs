//! `kiln up`: load an app from its manifest and serve its HTTP triggers.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use kiln_manifest::{LoadedManifest, RuntimeConfig};
use kiln_runtime::{
    AppOptions, LoadedApp, LocalHttp, Runtime, RuntimeOptions, DEFAULT_MAX_LOADED_COMPONENTS,
};
use kiln_trigger::http::RequestHandler;

use super::limits::LimitArgs;
use super::listen::ListenArgs;

#[derive(Args)]
pub(crate) struct UpCommand {
    /// The manifest, or a directory holding kiln.toml or spin.toml.
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
    /// Most components kept loaded at once; past it the least recently used are unloaded and
    /// load again from the compile cache on their next request.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LOADED_COMPONENTS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_loaded_components: u32,
}

impl UpCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        let app = loaded.app;
        if self.build {
            kiln_build::build_app(&app)?;
        }
        if app.http_triggers.is_empty() && app.redis_triggers.is_empty() {
            anyhow::bail!(
                "{}: the app has no [[trigger.http]] or [[trigger.redis]]: nothing to run",
                app.manifest_path.display()
            );
        }
        let runtime_config = match &self.runtime_config_file {
            Some(path) => {
                let config = RuntimeConfig::load(path)?;
                print_warnings(&config.warnings);
                config
            }
            None => RuntimeConfig::default(),
        };
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
            ..RuntimeOptions::sized_for(LoadedApp::instances_needed(&app, &options))
        })?;
        let app = LoadedApp::load(&runtime, app, &options).await?;
        let _subscriptions = kiln_trigger::redis::subscribe_all(app.redis_triggers()).await?;
        for trigger in app.redis_triggers() {
            println!(
                "Subscribed to Redis channel \"{}\" for component {}",
                trigger.channel,
                trigger.handler.id()
            );
        }
        if app.spec().http_triggers.is_empty() {
            crate::signals::shutdown().await;
            return Ok(0);
        }
        let handler = Arc::new(RequestHandler::for_app(&app)?);
        app.serve_local_requests_with(&(handler.clone() as Arc<dyn LocalHttp>));
        let listener = self.listen.bind().await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        println!("Serving {base_url}");
        println!("Available Routes:");
        for (component, route) in handler.router().routes() {
            println!("  {component}: {base_url}{route}");
        }
        self.listen
            .serve_until_stopped(listener, handler, &runtime)
            .await
    }
}

/// Prints manifest warnings on stderr.
pub(crate) fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
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
