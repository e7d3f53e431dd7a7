//! CreateAlias, AssociateAlias, DeleteAlias and ListAliases.
//!
//! These aliases are resources of their own (`alias_store`): many per key,
//! unique per project, each with a URN. A key's `key_alias` is its name,
//! set at creation; the two never collide because they live apart. Each key
//! and each project holds a bounded number (`domain::limits`).

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::common::paging;
use crate::common::query::Query;
use crate::kms::domain;
use crate::kms::domain::limits::{self, ALIASES_PER_KEY, ALIASES_PER_PROJECT};
use crate::kms::error::KmsError;
use crate::kms::store;
use crate::kms::store::aliases::AliasRecord;
use crate::kms::wire::KmsQuery;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeSet;

pub const ALIAS_PREFIX: &str = "alias/";
const MAX_ALIAS_LEN: usize = 255;
/// Alias counts are read up to the bounds, never further.
const CAPS: (usize, usize) = (ALIASES_PER_KEY, ALIASES_PER_PROJECT);

/// An alias name: `alias/` and at least one more character, at most 255 in
/// all, of the characters key aliases allow.
pub fn parse_alias_name(raw: Option<&str>) -> Result<String, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("alias"))?;
    let ok = raw.len() > ALIAS_PREFIX.len()
        && raw.len() <= MAX_ALIAS_LEN
        && raw.starts_with(ALIAS_PREFIX)
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(KmsError::InvalidAliasName)
    }
}

/// The `aliases` of DeleteAlias: at least one, each a valid name; repeats count once.
pub fn parse_alias_list(raw: Option<&[String]>) -> Result<Vec<String>, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("aliases"))?;
    if raw.is_empty() {
        return Err(KmsError::MissingParameter("aliases"));
    }
    let mut names = BTreeSet::new();
    for name in raw {
        names.insert(parse_alias_name(Some(name))?);
    }
    Ok(names.into_iter().collect())
}

pub fn alias_urn(region: &str, domain_id: &str, alias: &str) -> String {
    format!("kms:{region}:{domain_id}:alias:{alias}")
}

fn entity(a: &AliasRecord, region: &str) -> AliasEntity {
    AliasEntity {
        domain_id: a.domain_id.clone(),
        key_id: a.key_id.clone(),
        alias: a.alias.clone(),
        alias_urn: alias_urn(region, &a.domain_id, &a.alias),
        create_time: a.create_ms.to_string(),
        update_time: a.update_ms.to_string(),
    }
}

/// Aliases name keys that callers may change: not default keys, not keys
/// pending deletion or frozen (as for update-key-alias).
fn check_aliasable(key: &store::KeyRecord) -> Result<(), KmsError> {
    if key.default_key {
        return Err(KmsError::DefaultKey);
    }
    key.key_state.check_editable()
}

fn required_key_id(raw: Option<&str>, field: &'static str) -> Result<String, KmsError> {
    domain::parse_key_id(Some(raw.ok_or(KmsError::MissingParameter(field))?))
}

pub async fn create_alias(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<CreateAliasRequest>,
) -> Result<Json<AliasEntity>, KmsError> {
    let key_id = required_key_id(req.key_id.as_deref(), "key_id")?;
    let alias = parse_alias_name(req.alias.as_deref())?;
    let project = caller.project().to_owned();
    let now_ms = app.clock.now().timestamp_millis();
    let record = app
        .db
        .tx(move |tx| {
            let key = store::load(tx, &project, &key_id)?;
            check_aliasable(&key)?;
            if store::aliases::find(tx, &project, &alias)?.is_some() {
                return Err(KmsError::AliasExists);
            }
            let (on_key, in_project) = store::aliases::counts(tx, &project, &key.key_id, CAPS)?;
            limits::check_alias_quota(on_key, in_project, true)?;
            let record = AliasRecord {
                alias: alias.clone(),
                key_id: key.key_id.clone(),
                domain_id: key.domain_id.clone(),
                create_ms: now_ms,
                update_ms: now_ms,
            };
            store::aliases::save(tx, &project, &record)?;
            Ok(record)
        })
        .await?;
    Ok(Json(entity(
        &record,
        super::provision::realm(&app, caller.project()),
    )))
}

pub async fn associate_alias(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<AssociateAliasRequest>,
) -> Result<Json<AliasEntity>, KmsError> {
    let alias = parse_alias_name(req.alias.as_deref())?;
    let target = required_key_id(req.target_key_id.as_deref(), "target_key_id")?;
    let project = caller.project().to_owned();
    let now_ms = app.clock.now().timestamp_millis();
    let record = app
        .db
        .tx(move |tx| {
            let mut record =
                store::aliases::find(tx, &project, &alias)?.ok_or(KmsError::AliasNotFound)?;
            let key = store::load(tx, &project, &target)?;
            check_aliasable(&key)?;
            if record.key_id != key.key_id {
                let (on_key, _) = store::aliases::counts(tx, &project, &key.key_id, CAPS)?;
                limits::check_alias_quota(on_key, 0, false)?;
            }
            record.key_id = key.key_id.clone();
            record.update_ms = now_ms;
            store::aliases::save(tx, &project, &record)?;
            Ok::<_, KmsError>(record)
        })
        .await?;
    Ok(Json(entity(
        &record,
        super::provision::realm(&app, caller.project()),
    )))
}

pub async fn delete_alias(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<DeleteAliasRequest>,
) -> Result<StatusCode, KmsError> {
    let key_id = required_key_id(req.key_id.as_deref(), "key_id")?;
    let names = parse_alias_list(req.aliases.as_deref())?;
    let project = caller.project().to_owned();
    app.db
        .tx(move |tx| {
            store::load(tx, &project, &key_id)?;
            // All or nothing: every alias is checked before any is removed.
            let mut found = Vec::with_capacity(names.len());
            for name in &names {
                match store::aliases::find(tx, &project, name)? {
                    Some(a) if a.key_id == key_id => found.push(a),
                    _ => return Err(KmsError::AliasNotFound),
                }
            }
            for a in &found {
                store::aliases::remove(tx, &project, a)?;
            }
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_aliases(
    State(app): State<AppState>,
    caller: Caller,
    Query(q, _): KmsQuery<ListAliasesQuery>,
) -> Result<Json<Vec<ListAliasResponseBody>>, KmsError> {
    let key_id = q
        .key_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|k| domain::parse_key_id(Some(k)))
        .transpose()?;
    let limit = paging::parse_limit(q.limit.as_deref(), 100, 1000)
        .map_err(|_| KmsError::LimitOutOfRange)?;
    let offset = paging::parse_offset(q.marker.as_deref()).map_err(|_| KmsError::InvalidMarker)?;
    let project = caller.project().to_owned();
    let all = app
        .db
        .tx(move |tx| {
            if let Some(key_id) = &key_id {
                store::load(tx, &project, key_id)?;
            }
            store::aliases::list(tx, &project, key_id.as_deref())
        })
        .await?;
    let page = paging::page(all, offset, limit);
    let aliases: Vec<AliasEntity> = page
        .items
        .iter()
        .map(|a| entity(a, super::provision::realm(&app, caller.project())))
        .collect();
    Ok(Json(vec![ListAliasResponseBody {
        page_info: PageInfo {
            next_marker: page.next.map(|n| n.to_string()).unwrap_or_default(),
            current_count: aliases.len() as i64,
        },
        aliases,
    }]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn code(e: KmsError) -> &'static str {
        e.status_and_code().1
    }

    #[test]
    fn alias_names() {
        assert_eq!(parse_alias_name(Some("alias/a")).unwrap(), "alias/a");
        assert_eq!(
            parse_alias_name(Some("alias/team:x/y_z-1")).unwrap(),
            "alias/team:x/y_z-1"
        );
        for bad in [
            "",
            "alias/",
            "alias",
            "a/x",
            "Alias/x",
            "alias/sp ace",
            "alias/é",
        ] {
            assert_eq!(
                code(parse_alias_name(Some(bad)).unwrap_err()),
                "KMS.0308",
                "{bad:?}"
            );
        }
        let longest = format!("alias/{}", "x".repeat(MAX_ALIAS_LEN - ALIAS_PREFIX.len()));
        assert!(parse_alias_name(Some(&longest)).is_ok());
        assert!(parse_alias_name(Some(&format!("{longest}x"))).is_err());
        assert_eq!(code(parse_alias_name(None).unwrap_err()), "KMS.0204");
    }

    #[test]
    fn alias_lists() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_alias_list(Some(&list(&["alias/b", "alias/a", "alias/b"]))).unwrap(),
            list(&["alias/a", "alias/b"])
        );
        assert_eq!(code(parse_alias_list(None).unwrap_err()), "KMS.0204");
        assert_eq!(code(parse_alias_list(Some(&[])).unwrap_err()), "KMS.0204");
        assert_eq!(
            code(parse_alias_list(Some(&list(&["alias/a", "bad"]))).unwrap_err()),
            "KMS.0308"
        );
    }

    #[test]
    fn urn() {
        assert_eq!(
            alias_urn("cn-north-4", "d1", "alias/x"),
            "kms:cn-north-4:d1:alias:alias/x"
        );
    }
}
