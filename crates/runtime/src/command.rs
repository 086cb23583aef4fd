//! Running a command: a `wasi:cli/command` component, or a WASI preview 1 core module, as
//! `wasmtime run` does: stdio connected, arguments passed, the exit code returned.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::Component;
use wasmtime::{Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::p3::bindings::Command as P3Command;
use wasmtime_wasi::I32Exit;

use crate::grants::Grants;
use crate::limits::ComponentLimits;
use crate::loader::{compile, read_wasm, WasmKind};
use crate::store::{wasi_builder, ComponentCapabilities, StoreState};
use crate::Runtime;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// It exited with this code.
    Exit(i32),
    /// It trapped; the message says why.
    Trap(String),
}

impl Runtime {
    /// Runs the command at `path` with `grants`, its memory held to `limits`; `args[0]` is the
    /// program name the guest sees. Stdin, stdout and stderr are the host's.
    pub async fn run_command(
        &self,
        path: &Path,
        grants: Grants,
        limits: &ComponentLimits,
        args: &[String],
    ) -> anyhow::Result<CommandOutcome> {
        let id = path
            .file_name()
            .map_or_else(|| "command".into(), |n| n.to_string_lossy().into_owned());
        let (wasm, kind) = read_wasm(&id, path)?;
        let mut wasi = wasi_builder(&grants)?;
        wasi.args(args)
            .inherit_stdin()
            .inherit_stdout()
            .inherit_stderr();
        let result = match kind {
            WasmKind::Component => {
                let component: Component = compile(self, &id, path, &wasm)?;
                let id = Arc::from(id.as_str());
                let metrics = self.metrics().for_component(&id);
                let capabilities = ComponentCapabilities::standalone(&id, grants)?;
                let state = StoreState::new(&id, &capabilities, wasi.build(), limits, &metrics);
                let mut store = state.into_store(self.engine());
                if component.get_export_index(None, RUN_P3).is_some() {
                    run_p3(self, &mut store, &component, path).await?
                } else {
                    run_p2(self, &mut store, &component, path).await?
                }
            }
            WasmKind::CoreModule => {
                let module: Module = compile(self, &id, path, &wasm)?;
                run_p1_module(self, &module, wasi.build_p1()).await
            }
        };
        Ok(match result {
            Ok(code) => CommandOutcome::Exit(code),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => CommandOutcome::Exit(exit.0),
                None => CommandOutcome::Trap(format!("{e:?}")),
            },
        })
    }
}

/// The WASI 0.3 `run` export: a command exporting it runs through it (even when it also
/// exports the 0.2 one, as toolchains that target 0.3 emit).
const RUN_P3: &str = "wasi:cli/run@0.3.0";

/// Runs a `wasi:cli/command@0.2` component: an error if it cannot be instantiated, else how
/// its run ended (its exit code, or a trap).
async fn run_p2(
    runtime: &Runtime,
    store: &mut Store<StoreState>,
    component: &Component,
    path: &Path,
) -> anyhow::Result<wasmtime::Result<i32>> {
    let command = Command::instantiate_async(&mut *store, component, runtime.linker())
        .await
        .map_err(anyhow::Error::from)
        .with_context(|| not_runnable(path))?;
    let ran = command.wasi_cli_run().call_run(&mut *store).await;
    Ok(ran.map(|r| if r.is_ok() { 0 } else { 1 }))
}

/// Runs a `wasi:cli/command@0.3` component (its `run` is async, run in the store's event
/// loop), as [`run_p2`] does.
async fn run_p3(
    runtime: &Runtime,
    store: &mut Store<StoreState>,
    component: &Component,
    path: &Path,
) -> anyhow::Result<wasmtime::Result<i32>> {
    let command = P3Command::instantiate_async(&mut *store, component, runtime.linker())
        .await
        .map_err(anyhow::Error::from)
        .with_context(|| not_runnable(path))?;
    let ran = store
        .run_concurrent(async move |store| command.wasi_cli_run().call_run(store).await)
        .await
        .and_then(|ran| ran);
    Ok(ran.map(|r| if r.is_ok() { 0 } else { 1 }))
}

fn not_runnable(path: &Path) -> String {
    format!(
        "{} is not a runnable wasi:cli/command component",
        path.display()
    )
}

async fn run_p1_module(
    runtime: &Runtime,
    module: &Module,
    wasi: WasiP1Ctx,
) -> wasmtime::Result<i32> {
    let mut linker: Linker<WasiP1Ctx> = Linker::new(runtime.engine());
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |cx| cx)?;
    let mut store = Store::new(runtime.engine(), wasi);
    store.epoch_deadline_async_yield_and_update(1);
    linker.module_async(&mut store, "", module).await?;
    let start = linker
        .get_default(&mut store, "")?
        .typed::<(), ()>(&store)?;
    start.call_async(&mut store, ()).await?;
    Ok(0)
}
