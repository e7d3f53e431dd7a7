//! CreateKeyPolicy, DeleteKeyPolicy, UpdateKeyPolicy, ListKeyPolicy,
//! ShowKeyPolicy. The documents are enforced by `kms::access` on every use
//! of a key of their key space (`domain::policy::evaluate`).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::query::Query;
use crate::kms::domain::keyspace::{self, ListParams, Member};
use crate::kms::domain::policy::{self, Effect, PolicyDocument};
use crate::kms::error::KmsError;
use crate::kms::store::keyspaces::{self as store, PolicyRecord};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;

impl PolicyBody {
    fn of(d: &PolicyDocument) -> Self {
        let validity = (d.start_ms.is_some() || d.end_ms.is_some()).then(|| ValidityPeriodBody {
            start_time: d.start_ms.map(|t| t.to_string()),
            end_time: d.end_ms.map(|t| t.to_string()),
        });
        Self {
            version: d.version.clone(),
            validity_period: validity,
            allowed_access_point: d.allowed_access_point.clone(),
            allowed_data_security_zone: d.allowed_data_security_zone.clone(),
            statement: d
                .statement
                .iter()
                .map(|s| StatementBody {
                    effect: match s.effect {
                        Effect::Allow => "Allow",
                        Effect::Deny => "Deny",
                    },
                    action: s.action.clone(),
                    resource: s.resource.clone(),
                })
                .collect(),
        }
    }
}

impl PolicyItem {
    fn of(p: &PolicyRecord) -> Self {
        Self {
            policy_id: p.policy_id.clone(),
            policy_name: p.name.clone(),
            keyspace_id: p.keyspace_id.clone(),
            policy: PolicyBody::of(&p.document),
            description: p.description.clone(),
            created_by: p.created_by.clone(),
            create_time: p.create_ms.to_string(),
            last_modify_time: p.modify_ms.to_string(),
            // dewstack's choice: a use of a key does not write (the key-use
            // path only reads), so this is the time the policy last changed.
            last_access_time: p.modify_ms.to_string(),
        }
    }
}

pub async fn create_key_policy(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateKeyPolicyRequest>,
) -> Result<Json<CreateKeyPolicyResponse>, KmsError> {
    let keyspace_id = keyspace::keyspace_id(req.keyspace_id.as_deref())?;
    let name = keyspace::name(req.policy_name.as_deref(), "policy_name")?;
    let raw = req.policy.ok_or(KmsError::MissingParameter("policy"))?;
    let document = policy::parse(&raw)?;
    let description = keyspace::description(req.description.as_deref())?;
    let now = app.clock.now().timestamp_millis();
    let record = PolicyRecord {
        policy_id: app.rng.uuid().to_string(),
        project_id: caller.project().to_owned(),
        keyspace_id,
        name,
        document,
        description,
        created_by: caller.user_id.clone(),
        create_ms: now,
        modify_ms: now,
    };
    let id = record.policy_id.clone();
    app.db
        .tx(move |tx| {
            let all = store::policies(tx, &record.project_id)?;
            let held = all
                .iter()
                .map(|p| (p.keyspace_id.as_str(), p.name.as_str()));
            keyspace::admit(Member::Policy, held, &record.keyspace_id, &record.name)?;
            store::save_policy(tx, &record)
        })
        .await?;
    Ok(Json(CreateKeyPolicyResponse { policy_id: id }))
}

pub async fn show_key_policy(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<PolicyPath>,
) -> Result<Json<PolicyItem>, KmsError> {
    let project = caller.project().to_owned();
    let p = app
        .db
        .read(move |tx| store::load_policy(tx, &project, &path.policy_id))
        .await?;
    Ok(Json(PolicyItem::of(&p)))
}

pub async fn list_key_policy(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): KmsQuery<KeyspaceListQuery>,
) -> Result<Json<ListKeyPolicyResponse>, KmsError> {
    let list = ListParams::parse(
        q.keyspace_id.as_deref(),
        q.limit.as_deref(),
        q.marker.as_deref(),
    )?;
    let project = caller.project().to_owned();
    let all = app.db.read(move |tx| store::policies(tx, &project)).await?;
    let (page, next_marker) = list.page_in_space(all, |p| &p.keyspace_id, |p| &p.policy_id)?;
    Ok(Json(ListKeyPolicyResponse {
        page_info: KeyspacePageInfo {
            next_marker,
            current_count: page.len() as i64,
        },
        keyspace_policies: page.iter().map(PolicyItem::of).collect(),
    }))
}

pub async fn update_key_policy(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<PolicyPath>,
    Body(req, _): KmsBody<UpdateKeyPolicyRequest>,
) -> Result<Json<UpdateKeyPolicyResponse>, KmsError> {
    if req.policy.is_none() && req.description.is_none() {
        return Err(KmsError::MissingParameter("policy"));
    }
    let document = req.policy.as_deref().map(policy::parse).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(|d| keyspace::description(Some(d)))
        .transpose()?;
    let project = caller.project().to_owned();
    let now = app.clock.now().timestamp_millis();
    let p = app
        .db
        .tx(move |tx| {
            let mut p = store::load_policy(tx, &project, &path.policy_id)?;
            if let Some(d) = document.clone() {
                p.document = d;
            }
            if let Some(d) = description.clone() {
                p.description = d;
            }
            p.modify_ms = now;
            store::save_policy(tx, &p)?;
            Ok::<_, KmsError>(p)
        })
        .await?;
    Ok(Json(UpdateKeyPolicyResponse {
        policy_id: p.policy_id.clone(),
        policy: PolicyBody::of(&p.document),
        description: p.description.clone(),
        last_modify_time: p.modify_ms.to_string(),
    }))
}

pub async fn delete_key_policy(
    State(app): State<AppState>,
    caller: Caller,
    Path(path): Path<PolicyPath>,
) -> Result<StatusCode, KmsError> {
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            let p = store::load_policy(tx, &project, &path.policy_id)?;
            store::remove_policy(tx, &p)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
