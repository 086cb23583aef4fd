//! `kiln build`: each component's build command.

use std::path::PathBuf;

use clap::Args;
use kiln_manifest::LoadedManifest;

use super::print_warnings;

#[derive(Args)]
pub(crate) struct BuildCommand {
    /// The manifest, or a directory holding kiln.toml or spin.toml.
    #[arg(short = 'f', long = "from", default_value = ".")]
    manifest: PathBuf,
}

impl BuildCommand {
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let loaded = LoadedManifest::load(&self.manifest)?;
        print_warnings(&loaded.warnings);
        kiln_build::build_app(&loaded.app)?;
        Ok(0)
    }
}
