//! Installs the Rust Wasm targets a build command needs, so a newcomer's first build works.

use std::process::Command;

use anyhow::Context as _;

const WASM_TARGETS: [&str; 3] = ["wasm32-wasip2", "wasm32-wasip1", "wasm32-unknown-unknown"];

/// If `command` builds Rust for a Wasm target that rustup has not installed, installs it.
/// Without rustup nothing is done: the build itself will say what is missing.
pub(crate) fn ensure_rust_targets(command: &str) -> anyhow::Result<()> {
    if !command.contains("cargo") {
        return Ok(());
    }
    let wanted: Vec<&str> = WASM_TARGETS
        .iter()
        .copied()
        .filter(|t| mentions(command, t))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let Some(installed) = installed_targets() else {
        return Ok(());
    };
    for target in wanted {
        if installed.iter().any(|t| t == target) {
            continue;
        }
        eprintln!("Installing the Rust target {target} (rustup target add {target})");
        let status = Command::new("rustup")
            .args(["target", "add", target])
            .status()
            .context("running rustup")?;
        if !status.success() {
            anyhow::bail!("`rustup target add {target}` failed ({status}): install the target and build again");
        }
    }
    Ok(())
}

/// The Rust targets rustup has installed; `None` without rustup.
pub(crate) fn installed_targets() -> Option<Vec<String>> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()?;
    let listed = String::from_utf8_lossy(&output.stdout);
    Some(listed.lines().map(|line| line.trim().to_string()).collect())
}

/// Whether `command` names `target` as a whole word (so `wasm32-wasip1` is not found in `wasm32-wasip10`).
fn mentions(command: &str, target: &str) -> bool {
    command.match_indices(target).any(|(i, _)| {
        let after = command[i + target.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn targets_are_matched_as_words() {
        assert!(mentions(
            "cargo build --target wasm32-wasip2 --release",
            "wasm32-wasip2"
        ));
        assert!(mentions(
            "cargo build --target=wasm32-wasip1",
            "wasm32-wasip1"
        ));
        assert!(!mentions(
            "cargo build --target wasm32-wasip10",
            "wasm32-wasip1"
        ));
    }
}
