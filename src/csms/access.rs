//! The one way a secret is read: `readable_secret`. A caller reads the
//! secrets of the project in its path by name; any other secret only through
//! a grant in effect naming the caller, and then addressed by the secret's id
//! (names are per project, ids unique everywhere). Without such a grant the
//! secret does not exist for the caller (404, as for any other project's
//! resource). Writes never go through grants: they load the caller's own
//! secrets only (`store::load_secret`), so a grantee reads and does nothing else.

use super::error::CsmsError;
use super::grants;
use super::store::{self, SecretRecord};
use crate::auth::Caller;
use crate::store::Tx;

/// Who reads: the path's project and the caller's user.
#[derive(Clone, Debug)]
pub struct Reader {
    pub project: String,
    pub user_id: String,
}

impl Reader {
    pub fn of(caller: &Caller) -> Self {
        Self {
            project: caller.project().to_owned(),
            user_id: caller.user_id.clone(),
        }
    }
}

/// The secret `name_or_id` as `who` may read it at `now_ms`.
pub fn readable_secret(
    tx: &mut dyn Tx,
    who: &Reader,
    name_or_id: &str,
    now_ms: i64,
) -> Result<SecretRecord, CsmsError> {
    if let Some(own) = store::find_secret(tx, &who.project, name_or_id)? {
        return Ok(own);
    }
    let grant = grants::for_grantee(tx, &who.user_id, name_or_id)?
        .filter(|g| g.in_effect(now_ms))
        .ok_or(CsmsError::SecretNotFound)?;
    let secret = store::load_secret(tx, &grant.project_id, &grant.secret_name)?;
    // A name reused by a later secret is not the one granted.
    if secret.id != grant.secret_id {
        return Err(CsmsError::SecretNotFound);
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::csms::grants::GrantRecord;
    use crate::store::Db;

    const NOW: i64 = 1_800_000_000_000;

    fn secret(project: &str, id: &str, name: &str) -> SecretRecord {
        SecretRecord {
            id: id.into(),
            ..SecretRecord::for_test(project, name, NOW)
        }
    }

    fn grant(grantee: &str, validity_ms: Option<i64>) -> GrantRecord {
        GrantRecord {
            id: "g".into(),
            project_id: "owner".into(),
            secret_id: "sid".into(),
            secret_name: "db".into(),
            grantee: grantee.into(),
            grantee_domain: "other".into(),
            create_ms: NOW,
            update_ms: NOW,
            validity_ms,
        }
    }

    fn reader(project: &str, user: &str) -> Reader {
        Reader {
            project: project.into(),
            user_id: user.into(),
        }
    }

    #[tokio::test]
    async fn own_secrets_by_name_granted_ones_by_id_while_in_effect() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        db.tx(|tx| {
            store::insert_secret(tx, &secret("owner", "sid", "db"))?;
            store::insert_secret(tx, &secret("owner", "sid2", "other"))?;
            grants::save(tx, &grant("bob", Some(NOW + 10)))
        })
        .await
        .unwrap();
        let read = |who: Reader, name: &'static str, at: i64| {
            db.read(move |tx| readable_secret(tx, &who, name, at))
        };
        let own = read(reader("owner", "anyone"), "db", NOW).await.unwrap();
        assert_eq!(own.id, "sid");
        let granted = read(reader("mine", "bob"), "sid", NOW).await.unwrap();
        assert_eq!(
            (granted.project_id.as_str(), granted.name.as_str()),
            ("owner", "db")
        );
        for (who, name, at) in [
            // Not by name: names are per project.
            (reader("mine", "bob"), "db", NOW),
            // Expired.
            (reader("mine", "bob"), "sid", NOW + 10),
            // Another user, another secret of the owner.
            (reader("mine", "carol"), "sid", NOW),
            (reader("mine", "bob"), "sid2", NOW),
        ] {
            assert!(matches!(
                read(who, name, at).await,
                Err(CsmsError::SecretNotFound)
            ));
        }
        // Purging the secret takes its grants with it.
        db.tx(|tx| {
            let s = store::load_secret(tx, "owner", "db")?;
            store::purge_secret(tx, &s)?;
            store::insert_secret(tx, &secret("owner", "sid-new", "db"))
        })
        .await
        .unwrap();
        assert!(read(reader("mine", "bob"), "sid", NOW).await.is_err());
        let left = db
            .read(|tx| grants::for_grantee(tx, "bob", "sid"))
            .await
            .unwrap();
        assert!(left.is_none());
    }

    #[tokio::test]
    async fn grants_per_secret_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let err = db
            .tx(|tx| {
                for i in 0..=grants::GRANTS_PER_SECRET {
                    grants::save(tx, &grant(&format!("u{i}"), None))?;
                }
                Ok::<_, CsmsError>(())
            })
            .await
            .unwrap_err();
        assert!(matches!(err, CsmsError::GrantQuota));
        // Replacing an existing grant at the bound is still allowed.
        db.tx(|tx| {
            for i in 0..grants::GRANTS_PER_SECRET {
                grants::save(tx, &grant(&format!("u{i}"), None))?;
            }
            grants::save(tx, &grant("u0", Some(NOW)))
        })
        .await
        .unwrap();
    }
}
