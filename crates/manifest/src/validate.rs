//! Turns the manifest as written ([`RawManifest`]) into an [`AppSpec`], checking every rule a
//! user can break and pointing each error at its line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::locate::{key_path, Doc, Key};
use crate::schema::{RawBuild, RawCommands, RawComponent, RawManifest, RawSource, RawTrigger};
use crate::template::{is_kebab_id, is_variable_name, Template};
use crate::{
    AppSpec, BuildSpec, ComponentSpec, Content, ManifestError, RemoteSource, TriggerSpec,
    VariableSpec,
};

type Result<T> = std::result::Result<T, ManifestError>;

/// Validates `raw` into an [`AppSpec`].
pub(crate) fn app(doc: &mut Doc<'_>, raw: RawManifest) -> Result<AppSpec> {
    check_version(doc, raw.spin_manifest_version.as_ref())?;
    if raw.application.name.trim().is_empty() {
        return Err(doc.error(
            key_path!["application", "name"],
            "application.name must not be empty",
        ));
    }
    let variables = variables(doc, &raw)?;
    let tool_keys = [Key::from("application"), Key::from("tool")];
    let limits = crate::limits::from_tools(doc, &raw.application.tool, &tool_keys)?;
    let mut components = Vec::new();
    for (id, component) in &raw.components {
        components.push(component_spec(
            doc,
            id,
            component,
            &variables,
            key_path!["component", id],
        )?);
    }
    for component in &components {
        for dependency in &component.dependencies {
            let crate::DependencySource::Component(other) = &dependency.source else {
                continue;
            };
            if *other == component.id || !raw.components.contains_key(other) {
                return Err(doc.error(
                    key_path!["component", &component.id, "dependencies", &dependency.import],
                    format!(
                        "component \"{}\": dependency \"{}\" names component \"{other}\", which is not another component of this app",
                        component.id, dependency.import
                    ),
                ));
            }
        }
    }
    let triggers = triggers(doc, &raw, &variables, &mut components)?;
    let mut trigger_settings = BTreeMap::new();
    for (kind, table) in &raw.application.trigger_configs {
        let keys = key_path!["application", "trigger", kind];
        trigger_settings.insert(kind.clone(), json_table(doc, table, &keys)?);
    }
    Ok(AppSpec {
        name: raw.application.name,
        version: raw.application.version,
        description: raw.application.description,
        manifest_path: doc.path.to_path_buf(),
        base_dir: doc.base_dir.to_path_buf(),
        variables,
        components,
        triggers,
        trigger_settings,
        limits,
        manifest_text: Some(doc.text.into()),
    })
}

fn check_version(doc: &Doc<'_>, version: Option<&toml::Value>) -> Result<()> {
    match version {
        Some(toml::Value::Integer(2)) => Ok(()),
        Some(toml::Value::String(v)) if v == "1" => Err(doc.error(
            key_path!["spin_manifest_version"],
            "manifest version 1 is not supported: rewrite it as version 2 (`spin doctor` can convert it)",
        )),
        Some(other) => Err(doc.error(
            key_path!["spin_manifest_version"],
            format!("unsupported spin_manifest_version {other}: expected spin_manifest_version = 2"),
        )),
        None => Err(doc.error(
            key_path![],
            "missing spin_manifest_version: add `spin_manifest_version = 2` at the top",
        )),
    }
}

fn variables(doc: &Doc<'_>, raw: &RawManifest) -> Result<BTreeMap<String, VariableSpec>> {
    let mut out = BTreeMap::new();
    for (name, var) in &raw.variables {
        let keys = key_path!["variables", name];
        if !is_variable_name(name) {
            return Err(doc.error(
                keys,
                format!("variable name \"{name}\" must be lower_snake_case"),
            ));
        }
        if var.required && var.default.is_some() {
            return Err(doc.error(
                keys,
                format!("variable \"{name}\" is required and has a default: keep one of the two"),
            ));
        }
        out.insert(
            name.clone(),
            VariableSpec {
                default: var.default.clone(),
                required: var.required,
                secret: var.secret,
            },
        );
    }
    Ok(out)
}

fn component_spec(
    doc: &mut Doc<'_>,
    id: &str,
    raw: &RawComponent,
    app_variables: &BTreeMap<String, VariableSpec>,
    keys: Vec<Key>,
) -> Result<ComponentSpec> {
    let at = |more: &[&str]| child(&keys, more);
    if !is_kebab_id(id) {
        return Err(doc.error(
            keys.clone(),
            format!("component id \"{id}\" must be kebab-case (lower-case letters, digits and single hyphens)"),
        ));
    }
    let source = source_path(doc, id, &raw.source, at(&["source"]))?;
    let dependencies = dependencies(
        doc,
        id,
        &raw.dependencies,
        raw.dependencies_inherit_configuration,
        &at(&["dependencies"]),
    )?;
    let variables = component_variables(doc, raw, app_variables, &keys)?;
    let allowed_outbound_hosts = outbound_hosts(doc, raw, app_variables, &keys)?;
    for (field, labels) in [
        ("key_value_stores", &raw.key_value_stores),
        ("sqlite_databases", &raw.sqlite_databases),
    ] {
        if let Some(bad) = labels
            .iter()
            .find(|l| !is_kebab_id(l) && !is_variable_name(l))
        {
            return Err(doc.error(
                at(&[field]),
                format!("{field} label \"{bad}\" must be kebab-case or snake_case"),
            ));
        }
    }
    let files = crate::files::resolve(doc.base_dir, &raw.files, &raw.exclude_files)
        .map_err(|e| doc.error(at(&["files"]), format!("component \"{id}\": {e}")))?;
    let limits = crate::limits::from_tools(doc, &raw.tool, &at(&["tool"]))?;
    Ok(ComponentSpec {
        id: id.to_string(),
        source,
        description: raw.description.clone(),
        environment: raw
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        files,
        allowed_outbound_hosts,
        key_value_stores: raw.key_value_stores.clone(),
        sqlite_databases: raw.sqlite_databases.clone(),
        ai_models: raw.ai_models.clone(),
        variables,
        build: raw.build.as_ref().map(|b| build_spec(doc.base_dir, b)),
        dependencies,
        limits,
    })
}

/// `keys` extended with the table keys `more`.
fn child(keys: &[Key], more: &[&str]) -> Vec<Key> {
    let mut path = keys.to_vec();
    path.extend(more.iter().map(|s| Key::from(*s)));
    path
}

/// A component's source: a local file by its absolute path, or a URL with its digest, or a
/// package version from a registry (fetched before the app loads).
fn source_path(doc: &Doc<'_>, id: &str, source: &RawSource, keys: Vec<Key>) -> Result<Content> {
    match source {
        RawSource::Local(path) => Ok(Content::File(doc.base_dir.join(path))),
        RawSource::Remote { url, digest } if is_sha256(digest) => {
            Ok(Content::Remote(RemoteSource::Url {
                url: url.clone(),
                digest: digest.clone(),
            }))
        }
        RawSource::Remote { .. } => Err(doc.error(
            keys,
            format!(
                "component \"{id}\": a URL source needs digest = \"sha256:HEX\" (64 hex digits)"
            ),
        )),
        RawSource::Registry {
            registry,
            package,
            version,
        } => match semver::Version::parse(version) {
            Ok(_) => Ok(Content::Remote(RemoteSource::Package {
                registry: registry.clone(),
                package: package.clone(),
                version: version.clone(),
            })),
            Err(_) => Err(doc.error(
                keys,
                format!("component \"{id}\": \"{version}\" is not a version (write 1.2.0)"),
            )),
        },
    }
}

/// `[component.ID.dependencies]`: each import name to `{ path }`, `{ component }`,
/// `{ url, digest }` or a registry version (`"1.2.0"`, `{ version, registry, package }`), with
/// an optional `export`.
fn dependencies(
    doc: &Doc<'_>,
    id: &str,
    table: &toml::Table,
    inherit_configuration: bool,
    keys: &[Key],
) -> Result<Vec<crate::DependencySpec>> {
    let mut out = Vec::new();
    for (import, value) in table {
        let at = child(keys, &[import]);
        let refuse = |what: &str| {
            doc.error(
                at.clone(),
                format!("component \"{id}\": dependency \"{import}\": {what}"),
            )
        };
        let registry_source = |version: &str, registry, package: Option<String>| {
            if semver::VersionReq::parse(version).is_err() {
                return Err(refuse(&format!(
                    "\"{version}\" is not a version requirement (write 1.2.0, ^1.2, =1.2.3, ...)"
                )));
            }
            let package = package.or_else(|| import_package(import)).ok_or_else(|| {
                refuse("a registry dependency named by a plain name needs package = \"ns:name\"")
            })?;
            Ok(crate::DependencySource::Registry {
                package,
                version: version.to_string(),
                registry,
            })
        };
        if let Some(version) = value.as_str() {
            out.push(crate::DependencySpec {
                import: import.clone(),
                source: registry_source(version, None, None)?,
                export: None,
                inherit_configuration,
            });
            continue;
        }
        let Some(fields) = value.as_table() else {
            return Err(refuse(
                "expected a version (\"1.2.0\") or a table ({ path = \"dep.wasm\" }, ...)",
            ));
        };
        let text = |key: &str| fields.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let source = match (text("path"), text("component"), text("url")) {
            (Some(path), None, None) => crate::DependencySource::File(doc.base_dir.join(path)),
            (None, Some(component), None) => crate::DependencySource::Component(component),
            (None, None, Some(url)) => match text("digest") {
                Some(digest) if is_sha256(&digest) => crate::DependencySource::Url { url, digest },
                _ => return Err(refuse("a url dependency needs digest = \"sha256:HEX\" (64 hex digits)")),
            },
            (None, None, None) if fields.contains_key("version") => match text("version") {
                Some(version) => registry_source(&version, text("registry"), text("package"))?,
                None => return Err(refuse("version must be a string (\"1.2.0\")")),
            },
            _ => return Err(refuse("expected { path = \"dep.wasm\" }, { component = \"id\" }, { url = \"...\", digest = \"sha256:...\" } or { version = \"1.2.0\" }")),
        };
        out.push(crate::DependencySpec {
            import: import.clone(),
            source,
            export: text("export"),
            inherit_configuration,
        });
    }
    Ok(out)
}

/// The package (`ns:pkg`) of a dependency name such as `ns:pkg/iface@1.0.0`; none for a plain
/// name.
fn import_package(import: &str) -> Option<String> {
    if !import.contains(':') {
        return None;
    }
    let path = import.split('@').next().unwrap_or(import);
    Some(path.split('/').next().unwrap_or(path).to_string())
}

/// Whether `digest` is `sha256:` and 64 lower-case hex digits.
fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// The component's `variables`, names and templates checked.
fn component_variables(
    doc: &Doc<'_>,
    raw: &RawComponent,
    app_variables: &BTreeMap<String, VariableSpec>,
    keys: &[Key],
) -> Result<BTreeMap<String, String>> {
    let mut variables = BTreeMap::new();
    for (name, value) in &raw.variables {
        let keys = child(keys, &["variables", name]);
        if !is_variable_name(name) {
            return Err(doc.error(
                keys,
                format!("component variable \"{name}\" must be lower_snake_case"),
            ));
        }
        check_template(doc, value, app_variables, keys)?;
        variables.insert(name.clone(), value.clone());
    }
    Ok(variables)
}

/// `allowed_outbound_hosts`, checked, plus the deprecated `allowed_http_hosts` converted.
fn outbound_hosts(
    doc: &mut Doc<'_>,
    raw: &RawComponent,
    app_variables: &BTreeMap<String, VariableSpec>,
    keys: &[Key],
) -> Result<Vec<String>> {
    for (i, host) in raw.allowed_outbound_hosts.iter().enumerate() {
        let mut keys = child(keys, &["allowed_outbound_hosts"]);
        keys.push(Key::Index(i));
        check_template(doc, host, app_variables, keys.clone())?;
        if host != "self" && !host.contains("://") {
            return Err(doc.error(
                keys,
                format!("allowed_outbound_hosts entry \"{host}\" has no scheme: write it as \"https://{host}\""),
            ));
        }
    }
    let mut hosts = raw.allowed_outbound_hosts.clone();
    if !raw.allowed_http_hosts.is_empty() {
        let converted = convert_allowed_http_hosts(&raw.allowed_http_hosts);
        doc.warn(
            child(keys, &["allowed_http_hosts"]),
            format!("allowed_http_hosts is deprecated: replace it with allowed_outbound_hosts = {converted:?}"),
        );
        hosts.extend(converted);
    }
    Ok(hosts)
}

fn check_template(
    doc: &Doc<'_>,
    text: &str,
    app_variables: &BTreeMap<String, VariableSpec>,
    keys: Vec<Key>,
) -> Result<()> {
    let template = Template::parse(text).map_err(|e| doc.error(keys.clone(), e))?;
    if let Some(missing) = template
        .variables()
        .find(|v| !app_variables.contains_key(*v))
    {
        return Err(doc.error(
            keys,
            format!("\"{text}\" refers to variable \"{missing}\", which is not declared: add it to [variables]"),
        ));
    }
    Ok(())
}

/// Spin's conversion of the deprecated `allowed_http_hosts` into `allowed_outbound_hosts`.
fn convert_allowed_http_hosts(hosts: &[String]) -> Vec<String> {
    if hosts.iter().any(|h| h == "insecure:allow-all") {
        return vec!["*://*:*".to_string()];
    }
    hosts
        .iter()
        .flat_map(|host| {
            if host.contains("://") {
                vec![host.clone()]
            } else {
                vec![format!("http://{host}"), format!("https://{host}")]
            }
        })
        .collect()
}

fn build_spec(base_dir: &Path, raw: &RawBuild) -> BuildSpec {
    let commands = match &raw.command {
        RawCommands::One(c) => vec![c.clone()],
        RawCommands::Many(cs) => cs.clone(),
    };
    BuildSpec {
        commands,
        workdir: raw
            .workdir
            .as_ref()
            .map_or_else(|| base_dir.to_path_buf(), |w| base_dir.join(w)),
        watch: raw.watch.clone(),
    }
}

/// Every trigger, in manifest order, with its component resolved; its own fields are left
/// for its trigger type to read.
fn triggers(
    doc: &mut Doc<'_>,
    raw: &RawManifest,
    app_variables: &BTreeMap<String, VariableSpec>,
    components: &mut Vec<ComponentSpec>,
) -> Result<Vec<TriggerSpec>> {
    let mut triggers = Vec::new();
    for (kind, list) in &raw.triggers {
        for (index, trigger) in list.iter().enumerate() {
            let keys = key_path!["trigger", kind, index];
            if trigger.components.is_some() {
                return Err(doc.error(
                    child(&keys, &["components"]),
                    "`components` on a trigger is not supported: use `component`",
                ));
            }
            let component = trigger_component(
                doc,
                raw,
                trigger,
                triggers.len(),
                &keys,
                app_variables,
                components,
            )?;
            let config = json_table(doc, &trigger.config, &keys)?;
            triggers.push(TriggerSpec {
                trigger_type: kind.clone(),
                index,
                id: trigger
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("trigger-{component}")),
                component,
                config,
            });
        }
    }
    Ok(triggers)
}

/// A TOML table as the JSON object a trigger reads its fields from.
fn json_table(
    doc: &Doc<'_>,
    table: &toml::Table,
    keys: &[Key],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::to_value(table) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(doc.error(keys.to_vec(), "expected a table")),
        Err(e) => Err(doc.error(keys.to_vec(), e.to_string())),
    }
}

/// The id of the component a trigger calls; an inline component is added to `components`.
fn trigger_component(
    doc: &mut Doc<'_>,
    raw: &RawManifest,
    trigger: &RawTrigger,
    index: usize,
    keys: &[Key],
    app_variables: &BTreeMap<String, VariableSpec>,
    components: &mut Vec<ComponentSpec>,
) -> Result<String> {
    let at = child(keys, &["component"]);
    match &trigger.component {
        Some(toml::Value::String(id)) => {
            // Ids defined in [component.*] first: a lookup, not a scan, for apps of thousands.
            let defined =
                raw.components.contains_key(id.as_str()) || components.iter().any(|c| &c.id == id);
            if !defined {
                return Err(doc.error(
                    at,
                    format!("trigger refers to component \"{id}\", which is not defined: add [component.{id}]"),
                ));
            }
            Ok(id.clone())
        }
        Some(inline @ toml::Value::Table(_)) => {
            let raw = RawComponent::deserialize(inline.clone())
                .map_err(|e| doc.error(at.clone(), format!("inline component: {}", e.message())))?;
            let id = format!("inline-component{index}");
            let spec = component_spec(doc, &id, &raw, app_variables, at)?;
            components.push(spec);
            Ok(id)
        }
        Some(_) => Err(doc.error(at, "component must be a component id or an inline table")),
        None => Err(doc.error(
            keys.to_vec(),
            "trigger has no component: add component = \"ID\"",
        )),
    }
}
