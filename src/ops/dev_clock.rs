//! Time travel for tests (`--dev-clock`): `GET /_dewstack/clock` shows
//! dewstack's time, `POST /_dewstack/clock {"advance": "8d"}` moves it ahead
//! and then runs the background work that became due (scheduled key and
//! secret deletions, rotations, material expiries, version expiries) before
//! answering. Only the root identity may call either; with the flag off both
//! are refused. Client signatures are still checked against the real time.

use super::error::OpsError;
use crate::auth::Caller;
use crate::clock::OffsetClock;
use crate::common::json::Json;
use crate::server::state::AppState;
use axum::extract::State;
use chrono::{Duration, SecondsFormat};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most dewstack's time may be moved ahead in all (dewstack's choice: ten
/// years covers every schedule KMS and CSMS allow, 1096-day deletions included).
const MAX_OFFSET_DAYS: i64 = 3660;

/// Rounds of due work run after a jump; each sweep handles at most 200
/// items a round, so this bounds one call to about 10 000 of each.
const MAX_ROUNDS: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {
    advance: String,
}

#[derive(Serialize, Default, Debug, PartialEq, Eq)]
pub struct Ran {
    kms_keys_deleted: usize,
    kms_keys_rotated: usize,
    kms_materials_expired: usize,
    csms_secrets_deleted: usize,
    csms_versions_expired: usize,
}

#[derive(Serialize)]
pub struct ClockResponse {
    now: String,
    offset_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ran: Option<Ran>,
}

/// `"8d"`, `"36h"`, `"1d12h30m"`, `"90s"`: whole numbers with units d, h, m, s.
pub fn parse_advance(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "advance {text:?} is not a duration such as \"8d\", \"12h\", \"1d12h30m\" or \"90s\""
        )
    };
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            if digits.len() > 9 {
                return Err(bad());
            }
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let part = match c {
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return Err(bad()),
        };
        total += part;
    }
    if !digits.is_empty() || total <= Duration::zero() {
        return Err(bad());
    }
    if total > Duration::days(MAX_OFFSET_DAYS) {
        return Err(format!(
            "advance {text:?} is more than {MAX_OFFSET_DAYS} days"
        ));
    }
    Ok(total)
}

/// The dev clock, if it is on and `caller` is the root identity.
fn root_clock(app: &AppState, caller: &Caller) -> Result<Arc<OffsetClock>, OpsError> {
    let clock = app.ops.dev_clock.clone().ok_or(OpsError::DevClockOff)?;
    if !app.directory.is_root(&caller.domain_id, &caller.user_id) {
        return Err(OpsError::NotRoot);
    }
    Ok(clock)
}

fn answer(app: &AppState, clock: &OffsetClock, ran: Option<Ran>) -> Json<ClockResponse> {
    Json(ClockResponse {
        now: app.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
        offset_seconds: clock.offset().num_seconds(),
        ran,
    })
}

pub async fn show_clock(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ClockResponse>, OpsError> {
    let clock = root_clock(&app, &caller)?;
    Ok(answer(&app, &clock, None))
}

pub async fn advance_clock(
    State(app): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<ClockResponse>, OpsError> {
    let clock = root_clock(&app, &caller)?;
    let req: AdvanceRequest = serde_json::from_slice(&body).map_err(|e| {
        OpsError::BadRequest(format!("the body must be {{\"advance\": \"8d\"}}: {e}"))
    })?;
    let by = parse_advance(&req.advance).map_err(OpsError::BadRequest)?;
    if clock.offset() + by > Duration::days(MAX_OFFSET_DAYS) {
        return Err(OpsError::BadRequest(format!(
            "the dev clock may run at most {MAX_OFFSET_DAYS} days ahead"
        )));
    }
    clock.advance(by);
    tracing::info!(
        offset_seconds = clock.offset().num_seconds(),
        "dev clock moved ahead"
    );
    let ran = run_due_work(&app).await;
    Ok(answer(&app, &clock, Some(ran)))
}

/// Runs the sweeps until a round finds nothing due (at most `MAX_ROUNDS`).
async fn run_due_work(app: &AppState) -> Ran {
    let mut ran = Ran::default();
    for _ in 0..MAX_ROUNDS {
        let kms = crate::kms::run_round(app).await;
        let csms = crate::csms::run_round(app).await;
        ran.kms_keys_deleted += kms.deleted;
        ran.kms_keys_rotated += kms.rotated;
        ran.kms_materials_expired += kms.expired;
        ran.csms_secrets_deleted += csms.deleted;
        ran.csms_versions_expired += csms.expired;
        if kms.is_idle() && csms == crate::csms::Swept::default() {
            break;
        }
    }
    ran
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_are_whole_units_forward_and_bounded() {
        assert_eq!(parse_advance("8d"), Ok(Duration::days(8)));
        assert_eq!(
            parse_advance("1d12h30m15s"),
            Ok(Duration::days(1)
                + Duration::hours(12)
                + Duration::minutes(30)
                + Duration::seconds(15))
        );
        assert_eq!(parse_advance(" 90s "), Ok(Duration::seconds(90)));
        for bad in [
            "",
            "8",
            "d",
            "0d",
            "-1d",
            "8w",
            "1.5d",
            "8 d",
            "9999999999d",
            "3661d",
        ] {
            assert!(parse_advance(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_advance("3660d"), Ok(Duration::days(3660)));
    }
}
