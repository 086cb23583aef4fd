//! `kiln new`, `kiln add` and `kiln templates`: apps and components from the templates built
//! into kiln.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::Args;
use kiln_build::templates::{find, Template, TEMPLATES};
use kiln_manifest::LoadedManifest;

/// What `new` and `add` share: the template, the name, the answers.
#[derive(Args)]
pub(crate) struct TemplateArgs {
    /// The template (kiln templates lists them).
    template: String,
    /// The app's or component's name.
    name: String,
    /// An answer to one of the template's questions, as KEY=VALUE (http-path=/api/...).
    #[arg(short = 'v', long = "value", value_name = "KEY=VALUE")]
    values: Vec<String>,
    /// Take every default instead of asking.
    #[arg(short = 'a', long)]
    accept_defaults: bool,
    /// Install what the template's build needs (a rustup target, a Python venv) without asking.
    #[arg(short = 'y', long)]
    yes: bool,
}

#[derive(Args)]
pub(crate) struct NewCommand {
    #[command(flatten)]
    template: TemplateArgs,
    /// Where to write the app (default: a directory named after it).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct AddCommand {
    #[command(flatten)]
    template: TemplateArgs,
    /// The app's manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
}

impl NewCommand {
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let args = &self.template;
        let template = find(&args.template)?;
        let values = args.answers(template)?;
        let dir = self
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(&args.name));
        let manifest = template.new_app(&args.name, &dir, &values)?;
        println!("Created {} from {}", manifest.display(), template.name);
        args.toolchain(template, &dir)?;
        println!("Run it: kiln up --build -f {}", dir.display());
        Ok(0)
    }
}

impl AddCommand {
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let args = &self.template;
        let template = find(&args.template)?;
        let manifest = LoadedManifest::load(&self.manifest)?.app.manifest_path;
        let values = args.answers(template)?;
        let dir = template.add_component(&args.name, &manifest, &values)?;
        println!(
            "Added component {} to {} (sources in {})",
            args.name,
            manifest.display(),
            dir.display()
        );
        args.toolchain(template, &dir)?;
        Ok(0)
    }
}

impl TemplateArgs {
    /// The answers to `template`'s questions: `--value`s, else asked on a terminal, else the
    /// defaults.
    fn answers(&self, template: &Template) -> anyhow::Result<BTreeMap<String, String>> {
        let mut given = BTreeMap::new();
        for pair in &self.values {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--value {pair}: expected KEY=VALUE"))?;
            if !template.parameters.iter().any(|p| p.key == key) {
                let keys: Vec<&str> = template.parameters.iter().map(|p| p.key).collect();
                anyhow::bail!(
                    "--value {key}: template {} asks only {}",
                    template.name,
                    keys.join(", ")
                );
            }
            given.insert(key.to_string(), value.to_string());
        }
        let ask = !self.accept_defaults && std::io::stdin().is_terminal();
        for parameter in template.parameters {
            if given.contains_key(parameter.key) {
                continue;
            }
            let mut answer = String::new();
            if ask {
                print!("{} [{}]: ", parameter.prompt, parameter.default);
                std::io::stdout().flush()?;
                std::io::stdin().lock().read_line(&mut answer)?;
            }
            let answer = answer.trim();
            let value = if answer.is_empty() {
                parameter.default
            } else {
                answer
            };
            given.insert(parameter.key.to_string(), value.to_string());
        }
        Ok(given)
    }

    /// Names what the template's build lacks on this machine, and installs it with `--yes`
    /// (in `dir`, the new component's directory).
    fn toolchain(&self, template: &Template, dir: &std::path::Path) -> anyhow::Result<()> {
        for missing in template.missing_tools() {
            if !self.yes {
                eprintln!(
                    "warning: building it needs {}: run `{}` in {} (or pass --yes to have kiln do it)",
                    missing.what,
                    missing.install,
                    dir.display()
                );
                continue;
            }
            eprintln!("Installing {}: {}", missing.what, missing.install);
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(&missing.install)
                .current_dir(dir)
                .status()?;
            anyhow::ensure!(
                status.success(),
                "`{}` failed ({status}): install {} yourself",
                missing.install,
                missing.what
            );
        }
        Ok(())
    }
}

/// `kiln templates`: the templates, one per line.
pub(crate) fn list_templates() -> i32 {
    let width = TEMPLATES
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or_default();
    for template in TEMPLATES {
        println!("{:<width$}  {}", template.name, template.description);
    }
    0
}
