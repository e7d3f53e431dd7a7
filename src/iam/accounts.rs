//! Account operations other services call through `iam`'s facade: password
//! checks and changes (the rows are in `passwords.rs`), lock state, and the
//! access-key rotation CSMS IAM secrets drive (the rows are in `keys.rs`).

use super::{keys, passwords};
use crate::server::state::AppState;

/// Why a password change is refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("no such user")]
    UnknownUser,
    #[error("the old password is wrong")]
    WrongOldPassword,
    #[error("the new password does not meet the password policy")]
    Policy(passwords::PolicyError),
    #[error("the new password is the current one")]
    Unchanged,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The password `user_id` logs in with now: a changed one from the store, or
/// the configured one. Hashing runs off the async workers.
pub async fn password_matches(
    app: &AppState,
    domain_id: &str,
    user_id: &str,
    password: &str,
) -> Result<bool, crate::store::StoreError> {
    let Some(user) = app.directory.user(domain_id, user_id) else {
        return Ok(false);
    };
    let (d, u) = (domain_id.to_owned(), user_id.to_owned());
    let stored = app.db.read(move |tx| passwords::stored(tx, &d, &u)).await?;
    match stored {
        None => Ok(user.configured_password_is(password)),
        Some(row) => {
            let password = zeroize::Zeroizing::new(password.to_owned());
            tokio::task::spawn_blocking(move || passwords::verify(&row, &password))
                .await
                .map_err(|e| crate::store::StoreError::Backend(e.to_string()))
        }
    }
}

/// When `user_id` last changed its password, if ever.
pub async fn password_changed_ms(
    app: &AppState,
    domain_id: &str,
    user_id: &str,
) -> Result<Option<i64>, crate::store::StoreError> {
    let (d, u) = (domain_id.to_owned(), user_id.to_owned());
    let row = app.db.read(move |tx| passwords::stored(tx, &d, &u)).await?;
    Ok(row.map(|r| r.changed_ms))
}

/// Changes a user's password after checking the old one; the new one holds
/// for `POST /v3/auth/tokens` at once, on every node, and after restarts.
/// Returns the time of the change (ms).
pub async fn change_password(
    app: &AppState,
    domain_id: &str,
    user_id: &str,
    old: &str,
    new: &str,
) -> Result<i64, PasswordChangeError> {
    let user = app
        .directory
        .user(domain_id, user_id)
        .ok_or(PasswordChangeError::UnknownUser)?;
    passwords::check_policy(new, &user.name).map_err(PasswordChangeError::Policy)?;
    if old == new {
        return Err(PasswordChangeError::Unchanged);
    }
    let (d, u) = (domain_id.to_owned(), user_id.to_owned());
    let before = app.db.read(move |tx| passwords::stored(tx, &d, &u)).await?;
    if !password_matches(app, domain_id, user_id, old).await? {
        return Err(PasswordChangeError::WrongOldPassword);
    }
    let (new, rng) = (zeroize::Zeroizing::new(new.to_owned()), app.rng.clone());
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&new, &rng))
        .await
        .map_err(|e| crate::store::StoreError::Backend(e.to_string()))??;
    let now = app.clock.now().timestamp_millis();
    let row = passwords::Stored {
        hash,
        changed_ms: now,
    };
    let (d, u) = (domain_id.to_owned(), user_id.to_owned());
    let expected = before.map(|b| b.hash);
    app.db
        .tx(move |tx| {
            // The old password was checked against what was read before: a
            // change made meanwhile (another node) makes it stale.
            let current = passwords::stored(tx, &d, &u)?.map(|r| r.hash);
            if current != expected {
                return Err(PasswordChangeError::WrongOldPassword);
            }
            passwords::save(tx, &d, &u, &row)?;
            Ok(())
        })
        .await?;
    Ok(now)
}

/// Whether too many failed logins have locked `user_name` now.
pub async fn is_locked(
    app: &AppState,
    domain_id: &str,
    user_name: &str,
) -> Result<bool, crate::store::StoreError> {
    let (dir, d, u, now) = (
        app.directory.clone(),
        domain_id.to_owned(),
        user_name.to_owned(),
        app.clock.now(),
    );
    app.db
        .read(move |tx| dir.lockout.is_locked(tx, &d, &u, true, now))
        .await
}

/// The user `ak` belongs to, if it is an enabled key of `domain_id` whose
/// secret key is `sk` (compared in constant time): a CSMS IAM secret must
/// hold both before dewstack rotates them, so that knowing an AK alone (it
/// is not secret) never lets anyone retire another user's key.
pub async fn key_owner(
    app: &AppState,
    domain_id: &str,
    ak: &str,
    sk: &str,
) -> Result<Option<String>, crate::store::StoreError> {
    let now = app.clock.now().timestamp_millis();
    let key = keys::access_key(&app.db, &app.iam_keys, &app.directory, ak, now).await?;
    Ok(key
        .filter(|k| k.domain_id == domain_id)
        .filter(|k| crate::common::crypto::ct_eq(k.secret_key.as_bytes(), sk.as_bytes()))
        .map(|k| k.user_id.clone()))
}

/// A fresh AK/SK, sealed for the store; it works once `install_access_key` ran.
pub fn new_access_key(app: &AppState) -> keys::NewKey {
    keys::new_key(&app.iam_keys, &app.rng)
}

/// Inside the caller's transaction: makes `new` a key of the user and retires
/// `old` after the grace (`keys::install`). Returns the keys to `forget` once
/// the transaction committed, or why IAM refuses.
pub fn install_access_key(
    tx: &mut dyn crate::store::Tx,
    app: &AppState,
    domain_id: &str,
    user_id: &str,
    old: &str,
    new: &keys::NewKey,
    now_ms: i64,
) -> Result<Result<Vec<String>, keys::RotationRefused>, crate::store::StoreError> {
    keys::install(tx, &app.directory, domain_id, user_id, old, new, now_ms)
}

/// Drops this node's cached view of keys a committed rotation changed.
pub fn forget_access_keys(app: &AppState, aks: &[String]) {
    for ak in aks {
        app.iam_keys.forget(ak);
    }
}
