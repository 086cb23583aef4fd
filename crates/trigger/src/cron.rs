//! The cron trigger, compatible with the spin-trigger-cron plugin: `[[trigger.cron]]` with
//! `cron_expression` (six or seven fields: seconds, minutes, hours, day of month, month, day
//! of week and an optional year, in UTC) and `component`, whose `handle-cron-event` export
//! runs in a fresh instance at each time the schedule names. A run still going when the next
//! one is due makes that one skipped and logged, never stacked.

use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use kiln_manifest::{AppSpec, ManifestError, TriggerSpec};
use kiln_runtime::{
    AppComponents, Component, ComponentLimits, Export, FailureKind, InstanceRecipe, LoadError,
    LoadedApp, StoreState,
};
use kiln_world::cron_handler::fermyon::spin_cron::cron_types::Metadata;
use kiln_world::cron_handler::CronHandlerPre;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wasmtime::component::InstancePre;

use crate::trigger::guest_answered;
use crate::{Configured, Started, Trigger, TriggerHost, TriggerType};

/// The trigger type, as in `[[trigger.cron]]`.
pub const TYPE: &str = "cron";

/// `[[trigger.cron]]`: components run on a schedule.
pub const TRIGGER: TriggerType = TriggerType {
    name: TYPE,
    configure,
};

#[derive(Deserialize)]
struct RawCronTrigger {
    cron_expression: Option<String>,
}

/// One `[[trigger.cron]]` entry.
struct Job {
    component: String,
    /// The expression as written, for logs.
    expression: Arc<str>,
    schedule: cron::Schedule,
}

fn configure(app: &AppSpec) -> Result<Configured, ManifestError> {
    let (jobs, warnings) = app.read_triggers(TYPE, |trigger| job(app, trigger))?;
    Ok(Configured {
        trigger: Box::new(CronTrigger { jobs }),
        warnings,
    })
}

fn job(app: &AppSpec, trigger: &TriggerSpec) -> Result<(Job, Vec<String>), ManifestError> {
    let (config, warnings) = trigger.config::<RawCronTrigger>(app)?;
    let Some(expression) = config.cron_expression else {
        return Err(app.error_at(
            &trigger.keys(None),
            "cron trigger has no cron_expression: add cron_expression = \"0 */5 * * * *\" (seconds, minutes, hours, day of month, month, day of week)",
        ));
    };
    let schedule = cron::Schedule::from_str(&expression).map_err(|e| {
        // The parser's message repeats the expression and marks the place on lines of their own.
        let text = e.to_string();
        let reason = text.lines().last().unwrap_or_default().trim_end_matches('.');
        app.error_at(
            &trigger.keys(Some("cron_expression")),
            format!("cron_expression \"{expression}\" is not a schedule ({reason}): write six or seven fields, seconds minutes hours day-of-month month day-of-week [year], such as \"0 */5 * * * *\""),
        )
    })?;
    let job = Job {
        component: trigger.component.clone(),
        expression: expression.as_str().into(),
        schedule,
    };
    Ok((job, warnings))
}

struct CronTrigger {
    jobs: Vec<Job>,
}

#[async_trait::async_trait]
impl Trigger for CronTrigger {
    fn components(&self) -> Vec<&str> {
        self.jobs.iter().map(|j| j.component.as_str()).collect()
    }

    /// One per job: its runs never overlap.
    fn instances_needed(&self, _limits: &dyn Fn(&str) -> ComponentLimits) -> u32 {
        u32::try_from(self.jobs.len()).unwrap_or(u32::MAX)
    }

    async fn start(
        self: Box<Self>,
        _app: &LoadedApp,
        components: &AppComponents,
        host: &TriggerHost,
    ) -> anyhow::Result<Started> {
        let handlers = components.get_each::<CronExport>(self.components())?;
        let mut summary = Vec::new();
        let mut tasks = Vec::new();
        for job in self.jobs {
            let component = handlers[&job.component].clone();
            summary.push(format!(
                "Scheduled component {} at \"{}\"",
                job.component, job.expression
            ));
            tasks.push(tokio::spawn(run(job, component, host.shutdown.clone())));
        }
        let running = async move {
            for task in tasks {
                let _ = task.await;
            }
            Ok(None)
        };
        Ok(Started {
            summary,
            running: Box::pin(running),
        })
    }
}

/// Runs `job` at each time its schedule names until `shutdown`, then waits for a run in
/// progress.
async fn run(job: Job, component: Component<CronExport>, shutdown: CancellationToken) {
    let mut previous: Option<JoinHandle<()>> = None;
    for due in job.schedule.upcoming(Utc) {
        let wait = (due - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => break,
        }
        if previous.as_ref().is_some_and(|run| !run.is_finished()) {
            tracing::warn!(
                component_id = %component.id(),
                schedule = %job.expression,
                "cron run due at {due} skipped: the previous run is still going"
            );
            continue;
        }
        let (component, label) = (component.clone(), job.expression.clone());
        let timestamp = u64::try_from(due.timestamp()).unwrap_or_default();
        previous = Some(tokio::spawn(async move {
            // A failed run is logged and counted by the component; the next one runs.
            let _ = handle(&component, timestamp, &label).await;
        }));
    }
    if let Some(run) = previous {
        let _ = run.await;
    }
}

/// A component's `handle-cron-event`, type-checked at load.
pub struct CronExport(CronHandlerPre<StoreState>);

impl Export for CronExport {
    const TRIGGER: &'static str = TYPE;

    fn new(recipe: &InstanceRecipe, pre: InstancePre<StoreState>) -> Result<Self, LoadError> {
        CronHandlerPre::new(pre).map(Self).map_err(|_| {
            recipe.missing_export(
                "handle-cron-event (fermyon:spin-cron@2.0.0)",
                "a cron component (#[cron_component] in spin-cron-sdk)",
            )
        })
    }
}

/// Runs `component`'s handler for the run due at `timestamp` (seconds since the epoch) of the
/// schedule `label`, in a fresh instance under the component's limits.
async fn handle(
    component: &Component<CronExport>,
    timestamp: u64,
    label: &Arc<str>,
) -> Result<(), FailureKind> {
    component
        .call("cron run", label, async |export, store| {
            let handler = export.0.instantiate_async(&mut *store).await?;
            store.data_mut().instantiated();
            handler
                .call_handle_cron_event(&mut *store, Metadata { timestamp })
                .await?
                .map_err(guest_answered)
        })
        .await
}
