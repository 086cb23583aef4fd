//! The `--compiler` flag of the commands that load components to serve them.

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::Args;
use kiln_runtime::Compiler;

#[derive(Args)]
pub(crate) struct CompilerArgs {
    /// What compiles components not yet in the compile cache: `tiered` serves Winch's quickly
    /// compiled code first and swaps in Cranelift's optimized code once it is compiled in the
    /// background; `cranelift` compiles optimized code before serving; `winch` never optimizes.
    #[arg(
        long,
        value_name = "COMPILER",
        default_value = "tiered",
        value_parser = PossibleValuesParser::new(["tiered", "cranelift", "winch"])
            .map(|name| name.parse::<Compiler>().expect("a listed compiler"))
    )]
    pub(crate) compiler: Compiler,
}
