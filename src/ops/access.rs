//! Who may read `/metrics`. The figures name projects and show traffic, so
//! by default only a client on the same host (a loopback peer) may scrape;
//! `[metrics] bearer_token` (or `DEWSTACK_METRICS_TOKEN`) opens it to any
//! client that sends the token, and then every client must send it;
//! `[metrics] listen` moves it to a listener of its own, where the network
//! the operator chose is the boundary (and the token, if set, still holds).

use super::error::OpsError;
use super::metrics::metrics;
use crate::server::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// Whether a scrape from `peer` carrying `authorization` may be answered.
pub fn check(
    peer: Option<IpAddr>,
    authorization: Option<&[u8]>,
    token: Option<&str>,
    dedicated: bool,
) -> Result<(), OpsError> {
    if let Some(token) = token {
        let sent = authorization
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, value)| value.trim());
        return match sent {
            Some(sent) if crate::common::crypto::ct_eq(sent.as_bytes(), token.as_bytes()) => Ok(()),
            _ => Err(OpsError::MetricsToken),
        };
    }
    // An IPv4 client on a dual-stack socket shows as ::ffff:127.0.0.1.
    let loopback = peer.is_some_and(|ip| ip.to_canonical().is_loopback());
    if dedicated || loopback {
        Ok(())
    } else {
        Err(OpsError::MetricsNotLoopback)
    }
}

fn scrape(app: &AppState, req: &Request, dedicated: bool) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let token = app.ops.metrics_token.as_ref().map(|t| t.as_str());
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if let Err(e) = check(peer, authorization, token, dedicated) {
        return e.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics().render(),
    )
        .into_response()
}

/// `GET /metrics` on the API listener.
pub async fn scrape_api(State(app): State<AppState>, req: Request) -> Response {
    if !app.ops.metrics_on_api {
        return OpsError::MetricsElsewhere.into_response();
    }
    scrape(&app, &req, false)
}

/// `GET /metrics` on the metrics listener.
pub async fn scrape_dedicated(State(app): State<AppState>, req: Request) -> Response {
    scrape(&app, &req, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn without_a_token_only_loopback_or_the_metrics_listener_may_scrape() {
        assert!(check(ip("127.0.0.1"), None, None, false).is_ok());
        assert!(check(ip("::1"), None, None, false).is_ok());
        assert!(check(ip("::ffff:127.0.0.1"), None, None, false).is_ok());
        assert!(matches!(
            check(ip("10.1.2.3"), None, None, false),
            Err(OpsError::MetricsNotLoopback)
        ));
        assert!(check(None, None, None, false).is_err(), "unknown peer");
        assert!(check(ip("10.1.2.3"), None, None, true).is_ok());
    }

    #[test]
    fn with_a_token_everyone_must_send_it() {
        let t = Some("s3cret-token");
        let ok = check(ip("10.1.2.3"), Some(b"Bearer s3cret-token"), t, false);
        assert!(ok.is_ok());
        assert!(check(ip("10.1.2.3"), Some(b"bearer  s3cret-token "), t, false).is_ok());
        for bad in [
            None,
            Some(&b"Bearer wrong"[..]),
            Some(b"Basic s3cret-token"),
            Some(b"s3cret-token"),
        ] {
            assert!(matches!(
                check(ip("127.0.0.1"), bad, t, false),
                Err(OpsError::MetricsToken)
            ));
            assert!(check(ip("10.0.0.1"), bad, t, true).is_err());
        }
    }
}
