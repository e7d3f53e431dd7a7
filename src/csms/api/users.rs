//! Users: ListUsers, ShowUserDetail and UpdateUserPassword under
//! `/v1/csms/users`. In the cloud these are the tenant users of a user
//! directory (OneAccess-shaped: organizations, trust grade, lock state);
//! dewstack serves its own directory: the users of the caller's domain. A
//! domain is its one organization (`org_id` = the domain id; dewstack's
//! choice). Password changes are kept by `iam` (hashed, in the store).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::csms::error::CsmsError;
use crate::csms::wire::{
    ChangePasswordRequest, ChangePasswordResponse, CsmsBody, CsmsQuery, ListUsersQuery,
    ListUsersResponse, OrgRelation, UserDetail,
};
use crate::iam::{Domain, PasswordChangeError, User};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use chrono::{SecondsFormat, TimeZone, Utc};

/// `offset` is a page number (0 up), `limit` 10–100, both required, as the
/// published page has them.
fn page_of(q: &ListUsersQuery) -> Result<(usize, usize), CsmsError> {
    let offset = q
        .offset
        .as_deref()
        .ok_or(CsmsError::MissingParameter("offset"))?;
    let limit = q
        .limit
        .as_deref()
        .ok_or(CsmsError::MissingParameter("limit"))?;
    let offset: usize = offset
        .parse()
        .map_err(|_| CsmsError::InvalidParameter("offset"))?;
    let limit: usize = limit
        .parse()
        .ok()
        .filter(|l| (10..=100).contains(l))
        .ok_or(CsmsError::InvalidParameter("limit"))?;
    Ok((offset, limit))
}

fn domain_of<'a>(app: &'a AppState, caller: &Caller) -> Result<&'a Domain, CsmsError> {
    app.directory
        .domain(&caller.domain_id)
        .ok_or(CsmsError::Internal("the caller's domain is gone".into()))
}

async fn detail<D: serde::Serialize, G: serde::Serialize>(
    app: &AppState,
    domain: &Domain,
    user: &User,
    shape: (fn(bool) -> D, G),
) -> Result<UserDetail<D, G>, CsmsError> {
    let changed = crate::iam::password_changed_ms(app, &domain.id, &user.id).await?;
    let locked = crate::iam::is_locked(app, &domain.id, &user.name).await?;
    Ok(UserDetail {
        user_id: user.id.clone(),
        org_id: domain.id.clone(),
        user_name: user.name.clone(),
        name: user.name.clone(),
        mobile: String::new(),
        email: String::new(),
        pwd_must_modify: false,
        pwd_change_at: changed
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        disabled: (shape.0)(false),
        grade: shape.1,
        locked: locked.to_string(),
        extension: Default::default(),
        user_org_relation_list: vec![OrgRelation {
            org_id: domain.id.clone(),
            relation_type: "MAIN",
        }],
        domain_id: Some(domain.id.clone()),
    })
}

pub async fn list_users(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): CsmsQuery<ListUsersQuery>,
) -> Result<Json<ListUsersResponse>, CsmsError> {
    let (offset, limit) = page_of(&q)?;
    let needle = q.user_info.as_deref().unwrap_or_default().to_lowercase();
    if needle.chars().count() > 64 {
        return Err(CsmsError::InvalidParameter("user_info"));
    }
    let domain = domain_of(&app, &caller)?;
    let org = q.org_id.as_deref().filter(|o| !o.is_empty());
    let matching: Vec<&User> = domain
        .users
        .iter()
        .filter(|_| org.is_none_or(|o| o == domain.id))
        .filter(|u| u.name.to_lowercase().contains(&needle))
        .collect();
    let mut users = Vec::new();
    for u in matching
        .iter()
        .skip(offset.saturating_mul(limit))
        .take(limit)
    {
        let mut d = detail(&app, domain, u, (|b: bool| b.to_string(), "0".to_owned())).await?;
        d.domain_id = None;
        users.push(d);
    }
    Ok(Json(ListUsersResponse {
        total: matching.len() as i64,
        users,
    }))
}

pub async fn show_user_detail(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<UserDetail<bool, i32>>, CsmsError> {
    let domain = domain_of(&app, &caller)?;
    // Users of other domains do not exist for the caller.
    let user = domain
        .users
        .iter()
        .find(|u| u.id == user_id)
        .ok_or(CsmsError::UserNotFound)?;
    Ok(Json(detail(&app, domain, user, (|b| b, 0)).await?))
}

/// Changes the caller's own password.
pub async fn update_user_password(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): CsmsBody<ChangePasswordRequest>,
) -> Result<Json<ChangePasswordResponse>, CsmsError> {
    let new = req
        .password
        .filter(|p| !p.is_empty())
        .ok_or(CsmsError::MissingParameter("password"))?;
    let old = req
        .old_password
        .filter(|p| !p.is_empty())
        .ok_or(CsmsError::MissingParameter("old_password"))?;
    let (new, old) = (zeroize::Zeroizing::new(new), zeroize::Zeroizing::new(old));
    crate::iam::change_password(&app, &caller.domain_id, &caller.user_id, &old, &new)
        .await
        .map_err(|e| match e {
            PasswordChangeError::UnknownUser => CsmsError::UserNotFound,
            PasswordChangeError::WrongOldPassword => CsmsError::InvalidParameter("old_password"),
            PasswordChangeError::Policy(_) | PasswordChangeError::Unchanged => {
                CsmsError::InvalidParameter("password")
            }
            PasswordChangeError::Store(s) => s.into(),
        })?;
    Ok(Json(ChangePasswordResponse {
        user_id: caller.user_id,
    }))
}
