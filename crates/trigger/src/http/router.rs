//! Routes compiled once at load: exact routes first, then the longest `/...` prefix, with
//! `:name` segments captured. Private routes are not routable. Matching follows Spin's router
//! (routefinder's precedence); routes without `:name` segments are found by hash lookups, so an
//! app with thousands of routes routes a request in a few lookups, not a scan of every route.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::config::{HttpRoute, HttpRoutes};

/// Maps request paths to component ids.
#[derive(Debug)]
pub struct Router {
    /// Routes with neither a wildcard nor a `:name` segment, by their path without outer
    /// slashes. A literal match is the most specific there is, so it is looked up first.
    exact: HashMap<String, Arc<Entry>>,
    /// Wildcard routes with a literal prefix, by that prefix without outer slashes; used when
    /// no route has a `:name` segment (otherwise `patterns` holds them, to keep precedence).
    prefixes: HashMap<String, Arc<Entry>>,
    /// Every route not in the maps above, matched by routefinder in precedence order.
    patterns: routefinder::Router<Arc<Entry>>,
    /// Every entry in manifest order, for listing.
    listed: Vec<Arc<Entry>>,
}

#[derive(Debug)]
struct Entry {
    component_id: String,
    /// The route joined with the app's base, as written (`/base/foo/...`).
    based_route: String,
    /// The route as written in the trigger (`/foo/...`).
    raw_route: Arc<str>,
    wildcard: bool,
}

/// The result of routing one path: borrowed from the router and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    /// The component that handles the request.
    pub component_id: &'a str,
    /// The route with the base (`spin-matched-route`).
    pub based_route: &'a str,
    /// The route as written (`spin-raw-component-route`).
    pub raw_route: &'a Arc<str>,
    /// The path after a trailing wildcard (`spin-path-info`); empty for exact routes.
    pub path_info: Cow<'a, str>,
    /// `:name` captures, in route order.
    pub captures: Vec<(String, String)>,
}

impl RouteMatch<'_> {
    /// The raw route without a trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(self.raw_route)
    }
}

/// A route or path without its leading and trailing slashes, as routefinder compares them.
fn trimmed(path: &str) -> &str {
    path.trim_start_matches('/').trim_end_matches('/')
}

impl Router {
    /// Builds the router for an app's HTTP triggers; fails on a route that does not parse.
    pub fn for_routes(routes: &HttpRoutes) -> anyhow::Result<Self> {
        let mut entries = Vec::new();
        for trigger in &routes.routes {
            let HttpRoute::Path(raw_route) = &trigger.route else {
                continue;
            };
            let based_route = join_base(&routes.base, raw_route);
            let wildcard = based_route.ends_with("/...") || based_route.ends_with("/*");
            entries.push(Arc::new(Entry {
                component_id: trigger.component.clone(),
                based_route,
                raw_route: raw_route.as_str().into(),
                wildcard,
            }));
        }
        Self::new(entries)
    }

    /// Every component on a single catch-all route (`kiln serve`).
    pub fn catch_all(component_id: &str) -> Self {
        let entry = Entry {
            component_id: component_id.to_string(),
            based_route: "/...".into(),
            raw_route: "/...".into(),
            wildcard: true,
        };
        Self::new(vec![Arc::new(entry)]).expect("the catch-all route parses")
    }

    fn new(listed: Vec<Arc<Entry>>) -> anyhow::Result<Self> {
        let is_literal = |route: &str| !route.contains(':') && !route.contains('*');
        let any_named = listed.iter().any(|e| e.based_route.contains(':'));
        let mut router = Self {
            exact: HashMap::new(),
            prefixes: HashMap::new(),
            patterns: routefinder::Router::new(),
            listed: Vec::new(),
        };
        for entry in &listed {
            let route = &entry.based_route;
            let prefix = route
                .strip_suffix("/...")
                .or_else(|| route.strip_suffix("/*"));
            let maps = match prefix {
                None if is_literal(route) => Some((&mut router.exact, trimmed(route))),
                Some(prefix) if !any_named && is_literal(prefix) => {
                    Some((&mut router.prefixes, trimmed(prefix)))
                }
                _ => None,
            };
            match maps {
                // The first of two equal routes wins, as in routefinder.
                Some((map, key)) => {
                    map.entry(key.to_string()).or_insert_with(|| entry.clone());
                }
                None => {
                    let spec = match prefix {
                        Some(prefix) => format!("{prefix}/*"),
                        None => route.clone(),
                    };
                    router
                        .patterns
                        .add(spec.as_str(), entry.clone())
                        .map_err(|e| {
                            anyhow::anyhow!(
                                "route \"{}\" of component \"{}\": {e}",
                                entry.raw_route,
                                entry.component_id
                            )
                        })?;
                }
            }
        }
        router.listed = listed;
        Ok(router)
    }

    /// The best route for `path`, or `None` (a 404).
    pub fn route<'a>(&'a self, path: &'a str) -> Option<RouteMatch<'a>> {
        let key = trimmed(path);
        if let Some(entry) = self.exact.get(key) {
            return Some(entry.matched(Cow::Borrowed(""), Vec::new()));
        }
        self.longest_prefix(path, key)
            .or_else(|| self.pattern_match(path))
    }

    /// The wildcard route with the longest literal prefix of `path` ending at a segment
    /// boundary; `key` is `path` without outer slashes.
    fn longest_prefix<'a>(&'a self, path: &'a str, key: &str) -> Option<RouteMatch<'a>> {
        if self.prefixes.is_empty() {
            return None;
        }
        // Where `key` starts in `path`: after the request's leading slashes.
        let leading = path.len() - path.trim_start_matches('/').len();
        let boundaries = key.rmatch_indices('/').map(|(at, _)| at);
        let candidates = std::iter::once(key.len())
            .chain(boundaries)
            .chain(std::iter::once(0));
        candidates
            .filter_map(|end| {
                let prefix = &key[..end];
                let entry = self.prefixes.get(prefix)?;
                // What follows the prefix in the request path, leading slash and all.
                let start = if prefix.is_empty() { 0 } else { leading + end };
                let rest = &path[start..];
                let info = if rest.trim_matches('/').is_empty() && !rest.ends_with('/') {
                    ""
                } else {
                    rest
                };
                Some(entry.matched(Cow::Borrowed(info), Vec::new()))
            })
            .next()
    }

    /// The best of the routes routefinder matches (`:name` segments, and every wildcard when
    /// some route has one).
    fn pattern_match<'a>(&'a self, path: &'a str) -> Option<RouteMatch<'a>> {
        // routefinder lets `/api/*` match `/apix`; a wildcard must start at a segment boundary.
        let (entry, captures) = self.patterns.match_iter(path).find_map(|matched| {
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
        let captures = captures
            .params()
            .iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect();
        Some(entry.matched(Cow::Owned(path_info), captures))
    }

    /// Routes for display, in the order given: component id and route.
    pub fn routes(&self) -> impl Iterator<Item = (&str, DisplayRoute<'_>)> {
        self.listed
            .iter()
            .map(|entry| (entry.component_id.as_str(), DisplayRoute(entry)))
    }
}

impl Entry {
    fn matched<'a>(
        &'a self,
        path_info: Cow<'a, str>,
        captures: Vec<(String, String)>,
    ) -> RouteMatch<'a> {
        RouteMatch {
            component_id: &self.component_id,
            based_route: &self.based_route,
            raw_route: &self.raw_route,
            path_info,
            captures,
        }
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
        Router::for_routes(&HttpRoutes::read(&app).unwrap().0).unwrap()
    }

    fn component(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component_id.to_string())
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
    fn thousands_of_routes_are_looked_up_not_scanned() {
        let routes: Vec<(String, String)> = (0..5000)
            .flat_map(|i| {
                [
                    (format!("e{i}"), format!("/exact/{i}")),
                    (format!("w{i}"), format!("/wild/{i}/...")),
                ]
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = routes
            .iter()
            .map(|(c, r)| (c.as_str(), r.as_str()))
            .collect();
        let r = router("/", &borrowed);
        assert!(
            r.patterns.match_iter("/").next().is_none(),
            "all in the maps"
        );
        assert_eq!(component(&r, "/exact/4321").as_deref(), Some("e4321"));
        assert_eq!(component(&r, "/exact/4321/").as_deref(), Some("e4321"));
        assert_eq!(component(&r, "/wild/17/a/b").as_deref(), Some("w17"));
        assert_eq!(r.route("/wild/17/a/b").unwrap().path_info, "/a/b");
        assert_eq!(component(&r, "/wild/17x"), None);
        assert_eq!(component(&r, "/exact/5000"), None);
    }

    #[test]
    fn named_segments_keep_routefinder_precedence_over_literal_wildcards() {
        let r = router("/", &[("any", "/users/..."), ("one", "/users/:id/...")]);
        assert_eq!(component(&r, "/users/42/posts").as_deref(), Some("one"));
        assert_eq!(component(&r, "/users").as_deref(), Some("any"));
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
                m.based_route,
                &**m.raw_route,
                m.component_route(),
                &*m.path_info
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
        assert_eq!(m.captures, [("id".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/posts");
        assert_eq!(m.component_route(), "/users/:id");
    }

    #[test]
    fn the_base_prefixes_every_route() {
        let r = router("/base", &[("foo", "/foo")]);
        assert_eq!(component(&r, "/base/foo").as_deref(), Some("foo"));
        assert_eq!(component(&r, "/foo"), None);
        assert_eq!(r.route("/base/foo").unwrap().based_route, "/base/foo");
        assert_eq!(&**r.route("/base/foo").unwrap().raw_route, "/foo");
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
