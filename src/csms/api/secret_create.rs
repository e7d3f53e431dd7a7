//! CreateSecret as one function: the request is validated into a
//! `NewSecret` (pure), then `create` seals the first value under the
//! secret's key and writes secret, version and notification in one
//! transaction that also checks the quota and the subscribed events.

use crate::auth::Caller;
use crate::csms::domain::{self, EventType, SecretState};
use crate::csms::error::CsmsError;
use crate::csms::jobs::notify;
use crate::csms::stages;
use crate::csms::store::{self, SecretRecord, VersionRecord};
use crate::csms::values;
use crate::csms::wire::CreateSecretRequest;
use crate::server::state::AppState;

/// A CreateSecret request whose every field has been checked.
pub struct NewSecret {
    name: String,
    description: String,
    value: domain::SecretValue,
    secret_type: String,
    subscriptions: Vec<String>,
    auto_rotation: bool,
    period: Option<String>,
    period_secs: Option<i64>,
    rotation_config: Option<String>,
    rotation_func_urn: Option<String>,
    enterprise_project_id: Option<String>,
    kms_key_id: Option<String>,
}

impl NewSecret {
    pub fn from_request(req: CreateSecretRequest) -> Result<Self, CsmsError> {
        let name = domain::parse_name(req.name.as_deref(), "name")?;
        let description = domain::parse_description(req.description.as_deref())?;
        let value =
            domain::parse_value(req.secret_string.as_deref(), req.secret_binary.as_deref())?;
        let secret_type = domain::parse_secret_type(req.secret_type.as_deref())?;
        let subscriptions = domain::parse_subscriptions(req.event_subscriptions.as_deref())?;
        let auto_rotation = req.auto_rotation.unwrap_or(false);
        let period = req.rotation_period.filter(|p| !p.is_empty());
        let period_secs = period
            .as_deref()
            .map(domain::parse_rotation_period)
            .transpose()?;
        if auto_rotation && period_secs.is_none() {
            return Err(CsmsError::MissingParameter("rotation_period"));
        }
        if req
            .rotation_config
            .as_deref()
            .is_some_and(|c| c.len() > 1024)
        {
            return Err(CsmsError::InvalidParameter("rotation_config"));
        }
        Ok(Self {
            name,
            description,
            value,
            secret_type,
            subscriptions,
            auto_rotation,
            period,
            period_secs,
            rotation_config: req.rotation_config.filter(|c| !c.is_empty()),
            rotation_func_urn: req.rotation_func_urn.filter(|u| !u.is_empty()),
            enterprise_project_id: req.enterprise_project_id.filter(|e| !e.is_empty()),
            kms_key_id: req.kms_key_id,
        })
    }
}

/// Creates the secret with its first version (`SYSCURRENT`).
pub async fn create(
    app: &AppState,
    caller: &Caller,
    new: NewSecret,
) -> Result<SecretRecord, CsmsError> {
    let project = caller.project().to_owned();
    super::strength::enforce_strength(app, &project, &new.value).await?;
    let key_id =
        values::key_for(app, &caller.domain_id, &project, new.kms_key_id.as_deref()).await?;
    let (value_id, sealed) = values::seal(app, &project, &key_id, &new.name, &new.value).await?;
    let now = app.clock.now().timestamp_millis();
    let secret = SecretRecord {
        id: app.rng.uuid().to_string(),
        name: new.name.clone(),
        project_id: project.clone(),
        domain_id: caller.domain_id.clone(),
        state: SecretState::Enabled,
        kms_key_id: key_id.clone(),
        description: new.description,
        secret_type: new.secret_type,
        auto_rotation: new.auto_rotation,
        rotation_period: new.period,
        rotation_config: new.rotation_config,
        rotation_func_urn: new.rotation_func_urn,
        rotation_ms: None,
        next_rotation_ms: new
            .period_secs
            .filter(|_| new.auto_rotation)
            .map(|s| now + s * 1000),
        event_subscriptions: new.subscriptions,
        enterprise_project_id: new.enterprise_project_id.unwrap_or_else(|| "0".into()),
        create_ms: now,
        update_ms: now,
        scheduled_delete_ms: None,
        tags: Default::default(),
        stages: Default::default(),
        last_version: 1,
    };
    let version = VersionRecord {
        number: 1,
        create_ms: now,
        expire_ms: None,
        kms_key_id: key_id,
        value_id,
        binary: new.value.binary,
        sealed,
        expiry_notified: false,
    };
    let rng = app.rng.clone();
    let quota = app.limits.secrets_per_project;
    app.db
        .tx(move |tx| {
            if store::secret_quota_reached(tx, &project, quota)? {
                return Err(CsmsError::SecretQuota);
            }
            store::check_subscriptions(tx, &project, &secret.event_subscriptions)?;
            let mut secret = secret.clone();
            stages::move_stage(&mut secret.stages, stages::CURRENT, "v1", now)?;
            store::insert_secret(tx, &secret)?;
            store::put_version(tx, &project, &secret.name, &version)?;
            notify::emit(tx, &rng, &secret, EventType::VersionCreated, now)?;
            Ok(secret)
        })
        .await
}
