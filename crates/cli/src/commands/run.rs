//! `kiln run`: one command component, like `wasmtime run`.

use std::path::PathBuf;

use clap::Args;
use kiln_manifest::Limits;
use kiln_runtime::{CommandOutcome, ComponentLimits, Runtime, RuntimeOptions};

use super::capabilities::CapabilityArgs;

/// Traps exit like a process killed by SIGABRT, as `wasmtime run` does.
const TRAP_EXIT_CODE: i32 = kiln_trigger::command::FAILED_EXIT_CODE;

#[derive(Args)]
pub(crate) struct RunCommand {
    #[command(flatten)]
    capabilities: CapabilityArgs,
    /// The component or module to run, then the arguments it is given.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "WASM [ARGS]"
    )]
    wasm_and_args: Vec<String>,
}

impl RunCommand {
    pub(crate) async fn run(self) -> anyhow::Result<i32> {
        let grants = self.capabilities.grants()?;
        let runtime = Runtime::new(&RuntimeOptions::default())?;
        let wasm = PathBuf::from(&self.wasm_and_args[0]);
        match runtime
            .run_command(&wasm, grants, &unlimited_memory(), &self.wasm_and_args)
            .await?
        {
            CommandOutcome::Exit(code) => Ok(code),
            CommandOutcome::Trap(message) => {
                eprintln!("Error: {} trapped: {message}", wasm.display());
                Ok(TRAP_EXIT_CODE)
            }
        }
    }
}

/// A command may use as much memory as it asks for, as under `wasmtime run`.
fn unlimited_memory() -> ComponentLimits {
    ComponentLimits::resolve(Limits {
        max_memory: Some(u64::MAX),
        ..Limits::default()
    })
}
