//! The one route layer every service's routes get: the operation label
//! (what `ops::operations::label` gives the other routes), authentication
//! (`auth::admit`), then the audit trail (`audit::around`), then the rest
//! (KMS's access point proof, the handler). One layer rather than three
//! because each `from_fn` layer costs every request a boxed future (moved
//! into the heap whole), a clone of the state and of the inner service, and
//! its own extraction of the path parameters.

use crate::audit::Refusal;
use crate::auth::{self, PathParams};
use crate::ops::operations::{self, Operation};
use crate::server::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn gate<const SERVICE: u8, E: Refusal>(
    State(app): State<AppState>,
    params: PathParams,
    req: Request,
    next: Next,
) -> Response {
    let routed = match req.extensions().get::<MatchedPath>() {
        Some(path) => operations::lookup(req.method().as_str(), path.as_str()),
        None => operations::UNKNOWN,
    };
    let mut response = match auth::admit::<SERVICE>(&app, &params, req).await {
        Ok((req, caller)) => auth::with_caller(
            crate::audit::around::<E>(&app, caller.as_ref(), &params, routed, req, next).await,
            caller,
        ),
        Err(refused) => refused,
    };
    // A handler serving several operations on one route names its own.
    if response.extensions().get::<Operation>().is_none() {
        response.extensions_mut().insert(routed);
    }
    response
}
