//! `kiln registry push` and `kiln registry pull`: apps as OCI artifacts in Spin's layout.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kiln_manifest::LoadedManifest;
use kiln_oci::{BlobStore, RegistryOptions};

use super::print_warnings;
use super::progress::Bars;

/// `kiln registry ...`.
#[derive(Subcommand)]
pub(crate) enum RegistryCommand {
    /// Push an application to a registry as an OCI artifact (Spin's layout).
    Push(PushCommand),
    /// Pull an application from a registry into the local cache.
    Pull(PullCommand),
    /// Publish a component as a package version (NS:NAME@VERSION) in wasm-pkg's layout: what
    /// registry dependencies (`"ns:name/iface" = "1.2.0"`) fetch.
    Publish(PublishCommand),
    /// Check and store credentials for a registry (in the Docker config, as docker login does).
    Login(LoginCommand),
    /// Forget the credentials stored for a registry.
    Logout(LogoutCommand),
}

impl RegistryCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        match self {
            RegistryCommand::Push(c) => c.run().await,
            RegistryCommand::Pull(c) => c.run().await,
            RegistryCommand::Publish(c) => c.run().await,
            RegistryCommand::Login(c) => c.run().await,
            RegistryCommand::Logout(c) => c.run(),
        }
    }
}

/// The registry flags every registry command has.
#[derive(Args)]
pub(crate) struct RegistryArgs {
    /// Talk plain HTTP to the registry (a local one, such as 127.0.0.1:5000).
    #[arg(long)]
    insecure: bool,
}

impl RegistryArgs {
    pub(crate) fn options(&self) -> RegistryOptions {
        RegistryOptions {
            insecure: self.insecure,
            ..RegistryOptions::default()
        }
    }

    /// The options for pulling, refusing artifacts not signed by the public key `verify`
    /// names, if any.
    pub(crate) fn pull_options(
        &self,
        verify: Option<&std::path::Path>,
    ) -> anyhow::Result<RegistryOptions> {
        let mut options = self.options();
        if let Some(key) = verify {
            options.verify = Some(kiln_oci::VerifyKey::read(key)?);
        }
        Ok(options)
    }
}

#[derive(Args)]
pub(crate) struct PushCommand {
    /// Where to push: REGISTRY/REPOSITORY:TAG.
    reference: String,
    /// The manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
    /// Run the components' build commands first.
    #[arg(long)]
    build: bool,
    /// Ship each component compiled for this host's engine too, so that a host with the same
    /// engine starts it without compiling (from a verified artifact only).
    #[arg(long)]
    precompile: bool,
    /// Sign the pushed manifest with this key (an ECDSA P-256 private key in PEM), in cosign's
    /// format.
    #[arg(long, value_name = "PRIVATE_KEY.pem")]
    sign: Option<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
}

impl PushCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        if self.build {
            kiln_build::build_app(&loaded.app)?;
        }
        let mut app = loaded.app;
        super::fetch::remote(&mut app).await?;
        super::compose::compose_each(&mut app)?;
        let mut options = self.registry.options();
        if let Some(key) = &self.sign {
            options.sign = Some(kiln_oci::SignKey::read(key)?);
        }
        let (app, content) = app.lock()?;
        let precompiled = if self.precompile {
            precompile(&app, &content)?
        } else {
            Vec::new()
        };
        let pushed = kiln_oci::push(
            &app,
            &content,
            &self.reference,
            &options,
            &precompiled,
            &Bars::new(),
        )
        .await?;
        let signed = if options.sign.is_some() {
            ", signed"
        } else {
            ""
        };
        println!(
            "Pushed {}@{} ({} layers uploaded, {} already there{signed})",
            self.reference, pushed.digest, pushed.uploaded, pushed.present
        );
        Ok(0)
    }
}

#[derive(Args)]
pub(crate) struct PullCommand {
    /// What to pull: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST.
    reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    verify: VerifyArgs,
}

impl PullCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let pulled = pull(&self.reference, &self.registry, self.verify.key()).await?;
        println!("Pulled {}@{}", self.reference, pulled.0.digest);
        Ok(0)
    }
}

#[derive(Args)]
pub(crate) struct PublishCommand {
    /// The component's Wasm file.
    wasm: PathBuf,
    /// The package and its version: NS:NAME@VERSION.
    package: String,
    /// The registry: HOST[:PORT] (default: the one wasm-pkg's config maps the namespace to).
    #[arg(long)]
    registry: Option<String>,
    #[command(flatten)]
    registry_args: RegistryArgs,
}

impl PublishCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let (package, version) = self.package.split_once('@').ok_or_else(|| {
            anyhow::anyhow!(
                "\"{}\" names no version: write NS:NAME@VERSION (kiln-test:greet@1.2.0)",
                self.package
            )
        })?;
        let wasm = std::fs::read(&self.wasm)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", self.wasm.display()))?;
        anyhow::ensure!(
            wasmparser::Parser::is_component(&wasm),
            "{} is not a Wasm component: packages are components (build for wasm32-wasip2)",
            self.wasm.display()
        );
        let (reference, pushed) = kiln_oci::publish_package(
            &wasm,
            package,
            version,
            self.registry.as_deref(),
            &self.registry_args.options(),
        )
        .await?;
        println!(
            "Published {package}@{version} as {reference}@{}",
            pushed.digest
        );
        Ok(0)
    }
}

#[derive(Args)]
pub(crate) struct LoginCommand {
    /// The registry: HOST[:PORT].
    registry: String,
    /// The user name.
    #[arg(short, long)]
    username: String,
    /// Read the password from stdin (else from KILN_REGISTRY_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    registry_args: RegistryArgs,
}

impl LoginCommand {
    async fn run(self) -> anyhow::Result<i32> {
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        } else {
            std::env::var("KILN_REGISTRY_PASSWORD").map_err(|_| {
                anyhow::anyhow!(
                    "no password: pipe it in with --password-stdin, or set KILN_REGISTRY_PASSWORD"
                )
            })?
        };
        kiln_oci::login(
            &self.registry,
            &self.username,
            &password,
            &self.registry_args.options(),
        )
        .await?;
        println!("Logged in to {} as {}", self.registry, self.username);
        Ok(0)
    }
}

#[derive(Args)]
pub(crate) struct LogoutCommand {
    /// The registry: HOST[:PORT].
    registry: String,
}

impl LogoutCommand {
    fn run(self) -> anyhow::Result<i32> {
        if kiln_oci::logout(&self.registry)? {
            println!("Logged out of {}", self.registry);
        } else {
            println!("No credentials were stored for {}", self.registry);
        }
        Ok(0)
    }
}

/// Each distinct component of the locked `app`, compiled by this host's engine.
fn precompile(
    app: &kiln_manifest::AppSpec,
    content: &dyn kiln_manifest::ContentStore,
) -> anyhow::Result<Vec<kiln_oci::Precompiled>> {
    let runtime = kiln_runtime::Runtime::new(&kiln_runtime::RuntimeOptions::default())?;
    let engine = runtime
        .engine_tag()
        .ok_or_else(|| {
            anyhow::anyhow!("--precompile needs kiln's cache directory: set KILN_CACHE_DIR")
        })?
        .to_string();
    let mut shipped: Vec<kiln_oci::Precompiled> = Vec::new();
    for component in &app.components {
        let kiln_manifest::Content::Digest(digest) = &component.source else {
            continue;
        };
        if shipped.iter().any(|p| &p.source == digest) {
            continue;
        }
        let bytes = runtime.precompile(&component.id, &content.local_path(digest)?)?;
        shipped.push(kiln_oci::Precompiled {
            source: digest.clone(),
            engine: engine.clone(),
            bytes,
        });
    }
    Ok(shipped)
}

/// The signature a pulled app must carry.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// Refuse an artifact not signed by this key (an ECDSA P-256 public key in PEM, as
    /// cosign.pub), before anything of it is fetched or compiled.
    #[arg(long, value_name = "PUBLIC_KEY.pem")]
    verify: Option<PathBuf>,
}

impl VerifyArgs {
    /// The key given, if any.
    pub(crate) fn key(&self) -> Option<&std::path::Path> {
        self.verify.as_deref()
    }
}

/// Pulls `reference` into the cache, checking its signature if `verify` names a public key;
/// the app keeps its state in the current directory.
pub(crate) async fn pull(
    reference: &str,
    registry: &RegistryArgs,
    verify: Option<&std::path::Path>,
) -> anyhow::Result<(kiln_oci::Pulled, BlobStore)> {
    let blobs = super::fetch::blob_store()?;
    let base_dir = std::env::current_dir()?;
    let options = registry.pull_options(verify)?;
    let pulled = kiln_oci::pull(reference, &blobs, base_dir, &options, &Bars::new()).await?;
    Ok((pulled, blobs))
}
