//! The command trigger, compatible with Spin's trigger-command plugin: `[[trigger.command]]`
//! with `component`, a `wasi:cli/run` component run once, with the manifest's grants, when
//! the app starts. It gets its component id as its program name and the arguments given to
//! `kiln up` after `--`; its stdin, stdout and stderr are kiln's. Several entries run one after
//! another, in manifest order, until one exits with a code other than 0. kiln then exits with
//! the last code (134 when the component trapped or hit a limit), and stops the app's other
//! triggers.

use std::sync::Arc;

use kiln_manifest::{AppSpec, ManifestError, TriggerSpec};
use kiln_runtime::{
    AppComponents, Component, ComponentLimits, Export, InstanceRecipe, LoadError, LoadedApp,
    StoreState,
};
use serde::Deserialize;
use wasmtime::component::InstancePre;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::I32Exit;

use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// The trigger type, as in `[[trigger.command]]`.
pub const TYPE: &str = "command";

/// `[[trigger.command]]`: a command run once.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

/// kiln's exit code when a command traps, times out or runs out of memory (as `kiln run`
/// and wasmtime exit after an abort).
pub const FAILED_EXIT_CODE: i32 = 134;

/// `[[trigger.command]]` has no field of its own beyond `component`.
#[derive(Deserialize)]
struct RawCommandTrigger {}

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let (commands, warnings) = app.read_triggers(TYPE, |trigger| command(app, trigger))?;
    Ok(Configured {
        trigger: Box::new(CommandTrigger { commands }),
        warnings,
    })
}

fn command(app: &AppSpec, trigger: &TriggerSpec) -> Result<(String, Vec<String>), ManifestError> {
    let (RawCommandTrigger {}, warnings) = trigger.config(app)?;
    Ok((trigger.component.clone(), warnings))
}

struct CommandTrigger {
    /// The components to run, in manifest order.
    commands: Vec<String>,
}

#[async_trait::async_trait]
impl Trigger for CommandTrigger {
    fn components(&self) -> Vec<&str> {
        self.commands.iter().map(String::as_str).collect()
    }

    /// One: the commands run one after another.
    fn instances_needed(&self, _limits: &dyn Fn(&str) -> ComponentLimits) -> u32 {
        1
    }

    async fn start(
        self: Box<Self>,
        _app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let commands = components.get_each::<CommandExport>(self.components())?;
        let commands: Vec<_> = self
            .commands
            .iter()
            .map(|id| commands[id].clone())
            .collect();
        let summary = commands
            .iter()
            .map(|c| format!("Running command component {}", c.id()))
            .collect();
        let args = Arc::new(host.args.clone());
        let running = async move {
            let mut code = 0;
            for command in &commands {
                code = run(command, &args).await;
                if code != 0 {
                    break;
                }
            }
            Ok(Some(code))
        };
        Ok(Started {
            summary,
            running: Box::pin(running),
        })
    }
}

/// A component's `wasi:cli/run`, type-checked at load.
pub struct CommandExport(CommandPre<StoreState>);

impl Export for CommandExport {
    const TRIGGER: &'static str = TYPE;

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        CommandPre::new(pre).map(Self).map_err(|_| {
            recipe.missing_export(
                "wasi:cli/run@0.2.x",
                "a command (a Rust binary built for wasm32-wasip2, say)",
            )
        })
    }
}

/// Runs `command` once with `args` after its program name; its exit code.
async fn run(command: &Component<CommandExport>, args: &[String]) -> i32 {
    let label: Arc<str> = Arc::from(command.id());
    let program = std::iter::once(command.id().to_string()).chain(args.iter().cloned());
    let outcome = command
        .call_with(
            "command",
            &label,
            |wasi| {
                wasi.args(&program.collect::<Vec<_>>())
                    .inherit_stdin()
                    .inherit_stdout()
                    .inherit_stderr();
            },
            async |export, store| {
                let instance = export.0.instantiate_async(&mut *store).await?;
                store.data_mut().instantiated();
                match instance.wasi_cli_run().call_run(&mut *store).await {
                    Ok(Ok(())) => Ok(0),
                    Ok(Err(())) => Ok(1),
                    Err(e) => match e.downcast_ref::<I32Exit>() {
                        Some(exit) => Ok(exit.0),
                        None => Err(e),
                    },
                }
            },
        )
        .await;
    // A failure is logged and counted by the component.
    outcome.unwrap_or(FAILED_EXIT_CODE)
}
