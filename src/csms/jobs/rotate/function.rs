//! Invoking a rotation function: each step is one `POST` of the step event
//! (JSON) to the URL `[rotation_functions]` maps the secret's
//! `rotation_func_urn` to. Any 2xx answer completes the step; anything else
//! (another status, no answer within `STEP_TIMEOUT`, no such function) fails
//! it. The answer body is not read: it may hold credentials.

use super::plan::{Failure, StepEvent};
use std::time::Duration;

/// Time a step may take (dewstack's choice; FunctionGraph's own default
/// function timeout is shorter, its maximum longer).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Invoker {
    client: reqwest::Client,
    url: String,
}

impl Invoker {
    /// The function `urn` names, or the failure a task reports when none is
    /// configured.
    pub fn for_urn(
        functions: &crate::config::RotationFunctions,
        urn: &str,
    ) -> Result<Self, Failure> {
        let url = functions.url_for(urn).ok_or_else(|| {
            Failure::new(
                "CSMS.9101",
                "The rotation function is not configured (rotation_functions).",
            )
        })?;
        let client = reqwest::Client::builder()
            .timeout(STEP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| Failure::new("CSMS.9102", "The rotation function cannot be called."))?;
        Ok(Self {
            client,
            url: url.to_owned(),
        })
    }

    pub async fn invoke(&self, event: &StepEvent) -> Result<(), Failure> {
        let step = event.step;
        let sent = self.client.post(&self.url).json(event).send().await;
        match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(Failure::new(
                "CSMS.9102",
                format!(
                    "The rotation function failed at step {step} (HTTP {}).",
                    r.status().as_u16()
                ),
            )),
            Err(e) if e.is_timeout() => Err(Failure::new(
                "CSMS.9102",
                format!("The rotation function timed out at step {step}."),
            )),
            Err(_) => Err(Failure::new(
                "CSMS.9102",
                format!("The rotation function could not be reached at step {step}."),
            )),
        }
    }
}
