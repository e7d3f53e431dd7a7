//! The one route layer every service's routes get: authentication
//! (`auth::admit`), then the audit trail (`audit::around`), then the rest
//! (KMS's access point proof, the handler). One layer rather than two
//! because each `from_fn` layer costs every request a boxed future, a clone
//! of the state and of the inner service, and its own extraction of the path
//! parameters.

use crate::audit::Refusal;
use crate::auth::{self, PathParams};
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn gate<const SERVICE: u8, E: Refusal>(
    State(app): State<AppState>,
    params: PathParams,
    req: Request,
    next: Next,
) -> Response {
    match auth::admit::<SERVICE>(&app, &params, req).await {
        Ok((req, caller)) => auth::with_caller(
            crate::audit::around::<E>(&app, &params, req, next).await,
            caller,
        ),
        Err(refused) => refused,
    }
}
