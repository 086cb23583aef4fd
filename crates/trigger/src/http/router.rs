//! Routes compiled once at load: exact routes first, then the longest `/...` prefix, with
//! `:name` segments captured. Private routes are not routable. Matching follows Spin's router.

use std::collections::HashMap;
use std::fmt;

use kiln_manifest::{AppSpec, HttpRoute};

/// Maps request paths to component ids.
#[derive(Debug)]
pub struct Router {
    inner: routefinder::Router<Entry>,
    /// The same entries in manifest order, for listing.
    listed: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    component_id: String,
    /// The route joined with the app's base, as written (`/base/foo/...`).
    based_route: String,
    /// The route as written in the trigger (`/foo/...`).
    raw_route: String,
    wildcard: bool,
}

/// The result of routing one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component that handles the request.
    pub component_id: String,
    /// The route with the base (`spin-matched-route`).
    pub based_route: String,
    /// The route as written (`spin-raw-component-route`).
    pub raw_route: String,
    /// The path after a trailing wildcard (`spin-path-info`); empty for exact routes.
    pub path_info: String,
    /// `:name` captures, by name.
    pub captures: HashMap<String, String>,
}

impl RouteMatch {
    /// The raw route without a trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }
}

impl Router {
    /// Builds the router for an app's HTTP triggers; fails on a route that does not parse.
    pub fn for_app(app: &AppSpec) -> anyhow::Result<Self> {
        let mut inner = routefinder::Router::new();
        let mut listed = Vec::new();
        for trigger in &app.http_triggers {
            let HttpRoute::Path(raw_route) = &trigger.route else {
                continue;
            };
            let based_route = join_base(&app.http_base, raw_route);
            let (spec, wildcard) = match based_route.strip_suffix("/...") {
                Some(prefix) => (format!("{prefix}/*"), true),
                None => (based_route.clone(), based_route.ends_with("/*")),
            };
            let entry = Entry {
                component_id: trigger.component.clone(),
                based_route: based_route.clone(),
                raw_route: raw_route.clone(),
                wildcard,
            };
            inner.add(spec.as_str(), entry.clone()).map_err(|e| {
                anyhow::anyhow!(
                    "route \"{raw_route}\" of component \"{}\": {e}",
                    trigger.component
                )
            })?;
            listed.push(entry);
        }
        Ok(Self { inner, listed })
    }

    /// Every component on a single catch-all route (`kiln serve`).
    pub fn catch_all(component_id: &str) -> Self {
        let mut inner = routefinder::Router::new();
        let entry = Entry {
            component_id: component_id.to_string(),
            based_route: "/...".into(),
            raw_route: "/...".into(),
            wildcard: true,
        };
        inner
            .add("/*", entry.clone())
            .expect("the catch-all route parses");
        Self {
            inner,
            listed: vec![entry],
        }
    }

    /// The best route for `path`, or `None` (a 404).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        // routefinder lets `/api/*` match `/apix`; a wildcard must start at a segment boundary.
        let (entry, captures) = self.inner.match_iter(path).find_map(|matched| {
            let captures = matched.captures();
            let entry = matched.handler();
            if entry.wildcard {
                // The capture excludes trailing slashes.
                let rest = captures.wildcard().unwrap_or_default();
                let trimmed = path.trim_end_matches('/');
                let before = trimmed
                    .get(..trimmed.len().saturating_sub(rest.len()))
                    .unwrap_or_default();
                if !rest.is_empty() && !before.ends_with('/') {
                    return None;
                }
            }
            Some((entry, captures))
        })?;
        let path_info = if entry.wildcard {
            trailing_path(captures.wildcard(), path.ends_with('/'))
        } else {
            String::new()
        };
        Some(RouteMatch {
            component_id: entry.component_id.clone(),
            based_route: entry.based_route.clone(),
            raw_route: entry.raw_route.clone(),
            path_info,
            captures: captures
                .params()
                .iter()
                .map(|c| (c.name().to_string(), c.value().to_string()))
                .collect(),
        })
    }

    /// Routes for display, in the order given: component id and route.
    pub fn routes(&self) -> impl Iterator<Item = (&str, DisplayRoute<'_>)> {
        self.listed
            .iter()
            .map(|entry| (entry.component_id.as_str(), DisplayRoute(entry)))
    }
}

/// A route as `spin up` prints it: `/foo`, or `/foo (wildcard)`.
pub struct DisplayRoute<'a>(&'a Entry);

impl fmt::Display for DisplayRoute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let route = &self.0.based_route;
        match route
            .strip_suffix("/...")
            .or_else(|| route.strip_suffix("/*"))
        {
            Some(prefix) => write!(f, "{prefix} (wildcard)"),
            None => write!(f, "{route}"),
        }
    }
}

/// Spin's `spin-path-info` for a wildcard match: what the wildcard captured, with the
/// request's leading and trailing slashes kept.
fn trailing_path(wildcard: Option<&str>, trailing_slash: bool) -> String {
    let Some(rest) = wildcard else {
        return String::new();
    };
    match (rest.is_empty(), trailing_slash) {
        (true, false) => String::new(),
        (true, true) => "/".into(),
        (false, false) => format!("/{rest}"),
        (false, true) => format!("/{rest}/"),
    }
}

/// The base and route joined as Spin does: one slash between them, none trailing.
fn join_base(base: &str, route: &str) -> String {
    let route = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    format!("{}{}", strip_slash(base), strip_slash(&route))
}

fn strip_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(base: &str, routes: &[(&str, &str)]) -> Router {
        let mut text = format!("spin_manifest_version = 2\n[application]\nname = \"t\"\n[application.trigger.http]\nbase = \"{base}\"\n");
        for (component, route) in routes {
            text.push_str(&format!(
                "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n"
            ));
        }
        let mut ids: Vec<_> = routes.iter().map(|r| r.0).collect();
        ids.dedup();
        for id in ids {
            text.push_str(&format!("[component.{id}]\nsource = \"x.wasm\"\n"));
        }
        let app =
            kiln_manifest::LoadedManifest::from_text(std::path::Path::new("/app/spin.toml"), &text)
                .unwrap()
                .app;
        Router::for_app(&app).unwrap()
    }

    fn component(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component_id)
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let r = router(
            "/",
            &[
                ("all", "/..."),
                ("one", "/one"),
                ("deep", "/one/two/..."),
                ("mid", "/one/..."),
            ],
        );
        assert_eq!(component(&r, "/one").as_deref(), Some("one"));
        assert_eq!(component(&r, "/one/two/three").as_deref(), Some("deep"));
        assert_eq!(component(&r, "/one/x").as_deref(), Some("mid"));
        assert_eq!(component(&r, "/other").as_deref(), Some("all"));
        assert_eq!(component(&r, "/").as_deref(), Some("all"));
    }

    #[test]
    fn unmatched_paths_are_none() {
        let r = router("/", &[("w", "/api/...")]);
        assert_eq!(component(&r, "/apix"), None);
        let r = router("/", &[("a", "/a")]);
        assert_eq!(component(&r, "/b"), None);
        assert_eq!(component(&r, "/a/b"), None);
    }

    #[test]
    fn path_info_and_routes_match_spin() {
        let r = router("/", &[("foo", "/foo/...")]);
        let m = r.route("/foo/bar").unwrap();
        assert_eq!(
            (
                m.based_route.as_str(),
                m.raw_route.as_str(),
                m.component_route(),
                m.path_info.as_str()
            ),
            ("/foo/...", "/foo/...", "/foo", "/bar")
        );
        assert_eq!(r.route("/foo").unwrap().path_info, "");
        assert_eq!(r.route("/foo/").unwrap().path_info, "/");
        assert_eq!(r.route("/foo/a/b/").unwrap().path_info, "/a/b/");
    }

    #[test]
    fn named_segments_are_captured() {
        let r = router("/", &[("user", "/users/:id/...")]);
        let m = r.route("/users/42/posts").unwrap();
        assert_eq!(m.captures["id"], "42");
        assert_eq!(m.path_info, "/posts");
        assert_eq!(m.component_route(), "/users/:id");
    }

    #[test]
    fn the_base_prefixes_every_route() {
        let r = router("/base", &[("foo", "/foo")]);
        assert_eq!(component(&r, "/base/foo").as_deref(), Some("foo"));
        assert_eq!(component(&r, "/foo"), None);
        assert_eq!(r.route("/base/foo").unwrap().based_route, "/base/foo");
        assert_eq!(r.route("/base/foo").unwrap().raw_route, "/foo");
    }

    #[test]
    fn routes_display_as_spin_prints_them() {
        let r = router("/", &[("all", "/..."), ("one", "/one")]);
        let shown: Vec<_> = r
            .routes()
            .map(|(id, route)| format!("{id}: {route}"))
            .collect();
        assert_eq!(shown, ["all:  (wildcard)", "one: /one"]);
    }
}
