//! The web console: static assets under `/console/`, embedded in the binary.
//!
//! The console is a plain page of ES modules that calls dewstack's public API
//! as an SDK would: with the `X-Auth-Token` of a password sign-in, or with
//! every request signed by the access key (AK/SK) it was given; this
//! module only serves files and the headers that lock the page down. It needs
//! no state and no authentication of its own: the assets hold no secrets, and
//! everything the page shows comes from API calls the token or signature must
//! authorize.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/console/web");

/// Only files from 'self', no inline script or style, no framing, no
/// plugins, forms post nowhere: the page's own modules are the only code.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { secured(Redirect::permanent("/console/").into_response()) }),
        )
        .route("/console/", get(|| async { asset("index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(p): Path<String>| async move { asset(&p) }),
        )
}

fn asset(path: &str) -> Response {
    // include_dir looks names up literally, so "../" cannot leave the tree;
    // refusing it anyway keeps the answer a plain 404.
    let file = (!path.split('/').any(|s| s == ".." || s.is_empty()))
        .then(|| ASSETS.get_file(path))
        .flatten();
    let Some(file) = file else {
        return locked(
            (StatusCode::NOT_FOUND, "not found").into_response(),
            "text/plain",
        );
    };
    locked(file.contents().into_response(), content_type(path))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn locked(mut resp: Response, content_type: &'static str) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secured(resp)
}

fn secured(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // dewstack's choice: no caching, so an upgraded binary never runs
    // against modules a browser kept from the previous one.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(uri: &str) -> Response {
        let app: Router = routes();
        let req = Request::get(uri).body(Body::empty()).unwrap();
        app.oneshot(req).await.unwrap()
    }

    fn header<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn index_is_served_with_a_strict_policy() {
        let r = get("/console/").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        let csp = header(&r, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    }

    #[tokio::test]
    async fn bare_path_redirects_to_the_index() {
        let r = get("/console").await;
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&r, "location"), "/console/");
    }

    #[tokio::test]
    async fn modules_get_a_script_type() {
        let r = get("/console/app.js").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    }

    #[tokio::test]
    async fn unknown_and_escaping_paths_are_404_with_the_same_headers() {
        for uri in [
            "/console/nope.js",
            "/console/../Cargo.toml",
            "/console/a//b",
            "/console/%2e%2e/x",
        ] {
            let r = get(uri).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{uri}");
        }
    }

    #[tokio::test]
    async fn the_full_router_serves_the_console_before_its_version_route() {
        // `GET /{version_id}` would otherwise take `/console`.
        let (state, _dir) = crate::testing::embedded_state().unwrap();
        for uri in ["/console", "/console/", "/console/api.js"] {
            let req = Request::get(uri).body(Body::empty()).unwrap();
            let r = crate::app(state.clone()).oneshot(req).await.unwrap();
            assert!(
                r.status() == StatusCode::OK || r.status() == StatusCode::PERMANENT_REDIRECT,
                "{uri}"
            );
            assert!(
                header(&r, "content-security-policy").contains("default-src 'none'"),
                "{uri}"
            );
        }
    }

    #[test]
    fn every_embedded_file_has_a_known_type() {
        for f in ASSETS.find("**/*").unwrap().filter_map(|e| e.as_file()) {
            let p = f.path().to_string_lossy();
            assert_ne!(content_type(&p), "application/octet-stream", "{p}");
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let html = ASSETS
            .get_file("index.html")
            .unwrap()
            .contents_utf8()
            .unwrap();
        assert!(!html.contains("<style"), "inline <style>");
        assert!(!html.contains(" style="), "inline style attribute");
        let handler = html.split(" on").skip(1).find(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(handler.is_none(), "inline event handler: on{handler:?}");
        for tag in html.split("<script").skip(1) {
            assert!(
                tag.trim_start().starts_with("type=\"module\" src="),
                "inline script: {tag}"
            );
        }
    }
}
