//! `kiln inspect`: each component's world, and how the manifest's grants cover its imports.

use std::path::PathBuf;

use clap::Args;
use kiln_build::inspect::{inspect, lone_component, ImportStatus, Inspection};
use kiln_manifest::{LoadedManifest, LocalFiles};
use kiln_runtime::{Runtime, RuntimeOptions};

use super::print_warnings;

#[derive(Args)]
pub(crate) struct InspectCommand {
    /// A component id of the app (default: every component), or a .wasm file.
    component: Option<String>,
    /// The manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
    /// Print each component's world as WIT.
    #[arg(long)]
    wit: bool,
    /// Print JSON, for tools.
    #[arg(long, conflicts_with = "wit")]
    json: bool,
}

impl InspectCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let runtime = Runtime::new(&RuntimeOptions::sized_for(1))?;
        let wasm_file = self
            .component
            .as_deref()
            .map(PathBuf::from)
            .filter(|path| path.extension().is_some_and(|e| e == "wasm"));
        let inspections = match wasm_file {
            Some(path) => {
                anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
                vec![inspect(
                    &runtime,
                    &lone_component(&path),
                    &LocalFiles::default(),
                    None,
                )?]
            }
            None => self.inspect_app(&runtime).await?,
        };
        if self.json {
            println!("{}", serde_json::to_string_pretty(&inspections)?);
        } else if self.wit {
            for inspection in &inspections {
                println!("// component \"{}\"\n{}", inspection.id, inspection.wit);
            }
        } else {
            for inspection in &inspections {
                print_inspection(inspection);
            }
        }
        let missing = inspections
            .iter()
            .flat_map(|i| &i.imports)
            .any(|import| import.status == ImportStatus::Missing);
        Ok(if missing { 1 } else { 0 })
    }

    async fn inspect_app(&self, runtime: &Runtime) -> anyhow::Result<Vec<Inspection>> {
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        let mut app = loaded.app;
        super::fetch::remote(&mut app).await?;
        let app = &app;
        let components: Vec<_> = match &self.component {
            Some(id) => {
                let component = app.component(id).ok_or_else(|| {
                    let ids: Vec<&str> = app.components.iter().map(|c| c.id.as_str()).collect();
                    anyhow::anyhow!(
                        "the app has no component \"{id}\"; it has: {}",
                        ids.join(", ")
                    )
                })?;
                vec![component]
            }
            None => app.components.iter().collect(),
        };
        let files = LocalFiles::default();
        components
            .into_iter()
            .map(|component| {
                let composed = match component.dependencies.is_empty() {
                    true => None,
                    false => Some(kiln_runtime::compose_component(app, &component.id, &files)?),
                };
                inspect(runtime, component, &files, composed.as_deref())
            })
            .collect()
    }
}

fn print_inspection(inspection: &Inspection) {
    println!("component \"{}\"", inspection.id);
    println!("  source   {}", inspection.path.display());
    println!(
        "  size     {} bytes, {}",
        inspection.size, inspection.digest
    );
    println!("  world    {}", inspection.world);
    if !inspection.composed_with.is_empty() {
        println!(
            "  composed with the dependencies for {} (what follows is the composition's)",
            inspection.composed_with.join(", ")
        );
    }
    println!("  exports");
    for export in &inspection.exports {
        println!("    {export}");
    }
    println!("  imports");
    let width = inspection
        .imports
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or_default();
    for import in &inspection.imports {
        let line = format!(
            "    {:<9} {:<width$}  {}",
            import.status.as_str(),
            import.name,
            import.detail
        );
        println!("{}", line.trim_end());
    }
    println!();
}
