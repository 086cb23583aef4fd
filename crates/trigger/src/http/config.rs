//! The HTTP trigger's part of the manifest: `[[trigger.http]]` (`route`, `executor`) and
//! `[application.trigger.http]` (`base`), checked, with the place of each mistake.

use std::collections::HashMap;

use kiln_manifest::{AppSpec, Key, ManifestError, TriggerSpec};
use serde::Deserialize;

/// The trigger type, as in `[[trigger.http]]`.
pub const TYPE: &str = "http";

/// An app's HTTP triggers.
#[derive(Debug, Clone)]
pub struct HttpRoutes {
    /// `application.trigger.http.base` (default `/`).
    pub base: String,
    /// The routes, in manifest order.
    pub routes: Vec<RouteSpec>,
}

/// A `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// The component that handles the requests.
    pub component: String,
    /// The route, as written in the manifest.
    pub route: HttpRoute,
}

/// Where an HTTP trigger is reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A route pattern: `/exact`, `/prefix/...`, `/users/:id`.
    Path(String),
    /// `{ private = true }`: reachable only from other components of the app.
    Private,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: Option<RawRoute>,
    #[serde(default)]
    executor: Option<RawExecutor>,
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "route must be a path such as \"/hello/...\", or { private = true }"
)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Deserialize)]
struct RawExecutor {
    #[serde(rename = "type")]
    kind: String,
}

impl HttpRoutes {
    /// Reads `app`'s HTTP triggers, with a warning for each field kiln does not know.
    pub fn read(app: &AppSpec) -> Result<(Self, Vec<String>), ManifestError> {
        let (routes, warnings) = app.read_triggers(TYPE, |trigger| route(app, trigger))?;
        check_duplicate_routes(app, &routes)?;
        Ok((
            Self {
                base: base(app)?,
                routes,
            },
            warnings,
        ))
    }
}

fn route(app: &AppSpec, trigger: &TriggerSpec) -> Result<(RouteSpec, Vec<String>), ManifestError> {
    let (config, warnings) = trigger.config::<RawHttpTrigger>(app)?;
    let at = |field: &str| trigger.keys(Some(field));
    let route = match config.route {
        Some(RawRoute::Path(path)) => HttpRoute::Path(path),
        Some(RawRoute::Private { private: true }) => HttpRoute::Private,
        Some(RawRoute::Private { private: false }) => {
            return Err(app.error_at(&at("route"), "route must be a path or { private = true }"))
        }
        None => {
            return Err(app.error_at(
                &trigger.keys(None),
                "http trigger has no route: add route = \"/...\"",
            ))
        }
    };
    if let Some(executor) = config.executor.map(|e| e.kind) {
        if executor != "spin" && executor != "http" {
            return Err(app.error_at(
                &at("executor"),
                format!("executor \"{executor}\" is not supported: remove it (components run as wasi:http)"),
            ));
        }
    }
    let component = trigger.component.clone();
    Ok((RouteSpec { component, route }, warnings))
}

/// `application.trigger.http.base`.
fn base(app: &AppSpec) -> Result<String, ManifestError> {
    match app.trigger_settings.get(TYPE).and_then(|t| t.get("base")) {
        None => Ok("/".to_string()),
        Some(serde_json::Value::String(base)) => Ok(base.clone()),
        Some(_) => Err(app.error_at(
            &[
                Key::from("application"),
                Key::from("trigger"),
                Key::from(TYPE),
                Key::from("base"),
            ],
            "application.trigger.http.base must be a string such as \"/\"",
        )),
    }
}

fn check_duplicate_routes(app: &AppSpec, routes: &[RouteSpec]) -> Result<(), ManifestError> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (index, spec) in routes.iter().enumerate() {
        let HttpRoute::Path(route) = &spec.route else {
            continue;
        };
        let normalized = route.trim_end_matches('/');
        if let Some(first) = seen.insert(normalized, &spec.component) {
            let keys = [
                Key::from("trigger"),
                Key::from(TYPE),
                Key::Index(index),
                Key::from("route"),
            ];
            return Err(app.error_at(
                &keys,
                format!(
                    "route \"{route}\" is already served by component \"{first}\": give component \"{}\" another route",
                    spec.component
                ),
            ));
        }
    }
    Ok(())
}
