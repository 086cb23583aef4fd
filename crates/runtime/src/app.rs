//! [`LoadedApp`]: every component an app's triggers call, compiled, linked against its grants
//! and checked before anything listens.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use kiln_manifest::{AppSpec, ComponentSpec};

use crate::grants::{DirGrant, Grants, Outbound};
use crate::http::HttpComponent;
use crate::{LoadError, Runtime};

/// An app ready to serve. Cheap to clone.
#[derive(Clone)]
pub struct LoadedApp {
    spec: Arc<AppSpec>,
    components: Arc<HashMap<String, LoadedComponent>>,
}

/// One loaded component.
#[derive(Clone)]
pub struct LoadedComponent {
    /// The component as an HTTP handler.
    pub http: HttpComponent,
}

impl LoadedApp {
    /// Loads every component an HTTP trigger of `spec` refers to. `state_dir` (usually `.kiln/`)
    /// receives the staged files.
    pub fn load(runtime: &Runtime, spec: AppSpec, state_dir: &Path) -> Result<Self, LoadError> {
        let mut components = HashMap::new();
        for trigger in &spec.http_triggers {
            if components.contains_key(&trigger.component) {
                continue;
            }
            let Some(component) = spec.component(&trigger.component) else {
                continue; // the manifest crate guarantees this exists
            };
            let loaded = load_component(runtime, component, state_dir)?;
            components.insert(component.id.clone(), loaded);
        }
        Ok(Self {
            spec: Arc::new(spec),
            components: Arc::new(components),
        })
    }

    /// The app as specified.
    pub fn spec(&self) -> &AppSpec {
        &self.spec
    }

    /// A loaded component by id.
    pub fn component(&self, id: &str) -> Option<&LoadedComponent> {
        self.components.get(id)
    }
}

fn load_component(
    runtime: &Runtime,
    spec: &ComponentSpec,
    state_dir: &Path,
) -> Result<LoadedComponent, LoadError> {
    let grants = grants_for(spec, state_dir)?;
    let http = HttpComponent::load(runtime, &spec.id, &spec.source, grants)?;
    Ok(LoadedComponent { http })
}

/// What the manifest grants a component: its environment, its files (read-only at `/`) and
/// its outbound hosts.
fn grants_for(spec: &ComponentSpec, state_dir: &Path) -> Result<Grants, LoadError> {
    let mut dirs = Vec::new();
    if !spec.files.is_empty() {
        let root = crate::files::stage(state_dir, &spec.id, &spec.files).map_err(|reason| {
            LoadError::Files {
                id: spec.id.clone(),
                reason,
            }
        })?;
        dirs.push(DirGrant {
            host: root,
            guest: "/".into(),
            read_only: true,
        });
    }
    let outbound = if spec.allowed_outbound_hosts.is_empty() {
        Outbound::Denied
    } else {
        Outbound::AllowList(spec.allowed_outbound_hosts.clone())
    };
    Ok(Grants {
        env: spec.environment.clone(),
        dirs,
        outbound,
        inherit_stdio: true,
    })
}
