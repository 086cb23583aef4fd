//! Developer workflow: `kiln build` runs each component's build command in its workdir, with
//! the command's output shown and a failure reported with the component id; `kiln inspect`
//! ([`inspect`]) tells what a component imports and how the manifest's grants cover it.

pub mod inspect;
mod toolchain;

use std::process::Command;

use anyhow::Context as _;
use kiln_manifest::AppSpec;

/// Runs the build commands of every component that has one, in manifest order, stopping at the
/// first failure. Returns how many components were built.
pub fn build_app(app: &AppSpec) -> anyhow::Result<usize> {
    let mut built = 0;
    for component in &app.components {
        let Some(build) = &component.build else {
            continue;
        };
        for command in &build.commands {
            toolchain::ensure_rust_targets(command)?;
            eprintln!("Building component {} with `{command}`", component.id);
            let status = shell(command)
                .current_dir(&build.workdir)
                .status()
                .with_context(|| {
                    format!(
                        "component \"{}\": cannot run `{command}` in {}",
                        component.id,
                        build.workdir.display()
                    )
                })?;
            if !status.success() {
                anyhow::bail!(
                    "component \"{}\": build command `{command}` failed ({status}) in {}",
                    component.id,
                    build.workdir.display()
                );
            }
        }
        built += 1;
    }
    if built == 0 {
        eprintln!("No component has a build command: nothing to build");
    } else {
        eprintln!("Finished building all components");
    }
    Ok(built)
}

fn shell(command: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command);
    shell
}
