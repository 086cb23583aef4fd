//! Developer workflow: `kiln build` runs each component's build command in its workdir, with
//! the command's output shown and a failure reported with the component id; `kiln inspect`
//! ([`inspect`]) tells what a component imports and how the manifest's grants cover it;
//! `kiln new` and `kiln add` write apps and components from [`templates`].

pub mod inspect;
pub mod templates;
mod toolchain;
pub mod watch;

use std::process::Command;

use anyhow::Context as _;
use kiln_manifest::{AppSpec, ComponentSpec};

/// Runs the build commands of every component that has one, in manifest order, stopping at the
/// first failure. Returns how many components were built.
pub fn build_app(app: &AppSpec) -> anyhow::Result<usize> {
    let mut built = 0;
    for component in &app.components {
        if build_component(component)? {
            built += 1;
        }
    }
    if built == 0 {
        eprintln!("No component has a build command: nothing to build");
    } else {
        eprintln!("Finished building all components");
    }
    Ok(built)
}

/// Runs `component`'s build commands, if it has any (false when it has none); the first that
/// fails is the error.
pub fn build_component(component: &ComponentSpec) -> anyhow::Result<bool> {
    let Some(build) = &component.build else {
        return Ok(false);
    };
    for command in &build.commands {
        toolchain::ensure_rust_targets(command)?;
        eprintln!("Building component {} with `{command}`", component.id);
        let status = shell(command, &build.workdir).status().with_context(|| {
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
    Ok(true)
}

/// `command` run by `sh` in `workdir`, with the directory's Python venv (`.venv/bin`, as
/// `kiln new` makes for a Python component) first on `PATH` when there is one.
fn shell(command: &str, workdir: &std::path::Path) -> Command {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command).current_dir(workdir);
    let venv = std::path::absolute(workdir.join(".venv").join("bin")).unwrap_or_default();
    if venv.is_dir() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(venv).chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(paths) {
            shell.env("PATH", joined);
        }
    }
    shell
}
