//! `kiln compose`: a component and its dependencies written as one component.

use std::path::PathBuf;

use clap::Args;
use kiln_manifest::{digest_of, AppSpec, Content, LoadedManifest, LocalFiles};

use super::print_warnings;

#[derive(Args)]
pub(crate) struct ComposeCommand {
    /// The component to compose (default: the app's only component with dependencies).
    component: Option<String>,
    /// The manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
    /// Where to write the composed component.
    #[arg(short = 'o', long = "output", value_name = "OUT.wasm")]
    output: PathBuf,
}

impl ComposeCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        let mut app = loaded.app;
        super::fetch::remote(&mut app).await?;
        let app = &app;
        let id = match &self.component {
            Some(id) => id.clone(),
            None => {
                let with: Vec<&str> = app
                    .components
                    .iter()
                    .filter(|c| !c.dependencies.is_empty())
                    .map(|c| c.id.as_str())
                    .collect();
                match with.as_slice() {
                    [only] => only.to_string(),
                    [] => anyhow::bail!(
                        "no component of the app has dependencies: nothing to compose"
                    ),
                    many => anyhow::bail!(
                        "several components have dependencies ({}): name the one to compose",
                        many.join(", ")
                    ),
                }
            }
        };
        let composed = kiln_runtime::compose_component(app, &id, &LocalFiles::default())?;
        std::fs::write(&self.output, &composed)?;
        println!(
            "Composed component {id} with its dependencies into {} ({} bytes)",
            self.output.display(),
            composed.len()
        );
        Ok(0)
    }
}

/// Composes each component of `app` that has dependencies into one component (in kiln's
/// cache) and makes that its source, without dependencies: an app any Spin runtime runs as
/// it is, for `kiln registry push`.
pub(crate) fn compose_each(app: &mut AppSpec) -> anyhow::Result<()> {
    let blobs = super::fetch::blob_store()?;
    let mut composed = Vec::new();
    for component in app.components.iter().filter(|c| !c.dependencies.is_empty()) {
        let wasm = kiln_runtime::compose_component(app, &component.id, &LocalFiles::default())?;
        let path = blobs.write(&digest_of(&wasm), &wasm)?;
        composed.push((component.id.clone(), path));
    }
    for (id, path) in composed {
        if let Some(component) = app.components.iter_mut().find(|c| c.id == id) {
            component.source = Content::File(path);
            component.dependencies.clear();
        }
    }
    Ok(())
}
