//! Account operations other services call through `iam`'s facade: password
//! checks and changes (the rows are in `passwords.rs`), lock state.

use super::passwords;
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
