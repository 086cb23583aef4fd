//! The request headers Spin gives every component, with Spin's exact names and values.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::RouteMatch;

/// Sets the `spin-*` headers on a request routed by `route`. `full_url` is the URL the client
/// asked for (`http://host/path?query`).
pub(crate) fn set_spin_headers(
    headers: &mut HeaderMap,
    full_url: &str,
    route: &RouteMatch,
    client: SocketAddr,
) {
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    // Static names: nothing is parsed or copied for them on each request.
    set(HeaderName::from_static("spin-path-info"), &route.path_info);
    set(HeaderName::from_static("spin-full-url"), full_url);
    set(
        HeaderName::from_static("spin-matched-route"),
        route.based_route,
    );
    set(HeaderName::from_static("spin-base-path"), "/");
    set(
        HeaderName::from_static("spin-raw-component-route"),
        route.raw_route,
    );
    set(
        HeaderName::from_static("spin-component-route"),
        route.component_route(),
    );
    set(
        HeaderName::from_static("spin-client-addr"),
        &client.to_string(),
    );
    for (name, value) in &route.captures {
        // As Spin names them: `:path_segment` is `spin-path-match-path-segment`.
        let name = format!(
            "spin-path-match-{}",
            name.to_ascii_lowercase().replace('_', "-")
        );
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            set(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_headers_for_a_wildcard_route() {
        let raw_route = "/foo/...".into();
        let route = RouteMatch {
            component_id: "c",
            based_route: "/foo/...",
            raw_route: &raw_route,
            path_info: "/bar".into(),
            captures: vec![
                ("userid".to_string(), "42".to_string()),
                ("path_segment".to_string(), "x".to_string()),
            ],
        };
        let mut headers = HeaderMap::new();
        let client: SocketAddr = "127.0.0.1:8777".parse().unwrap();
        set_spin_headers(&mut headers, "http://h/foo/bar?x=1", &route, client);
        let get = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(get("spin-full-url"), "http://h/foo/bar?x=1");
        assert_eq!(get("spin-path-info"), "/bar");
        assert_eq!(get("spin-matched-route"), "/foo/...");
        assert_eq!(get("spin-base-path"), "/");
        assert_eq!(get("spin-raw-component-route"), "/foo/...");
        assert_eq!(get("spin-component-route"), "/foo");
        assert_eq!(get("spin-client-addr"), "127.0.0.1:8777");
        assert_eq!(get("spin-path-match-userid"), "42");
        assert_eq!(get("spin-path-match-path-segment"), "x");
    }
}
