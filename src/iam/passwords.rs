//! Passwords users changed (CSMS UpdateUserPassword): kept in the store
//! (table `iam_passwords`, `domain_id/user_id` → Argon2id PHC hash and the
//! time of the change), so every node and every restart sees the change. A
//! stored password replaces the one the config file or environment gives
//! that user (dewstack's choice: the change must outlive a restart; to reset
//! a user, delete the row with `dewstack` stopped, or restore a backup).
//!
//! The rules are IAM's default password policy (IAM user guide, "password
//! policy"): 8–32 characters, at least two of upper case, lower case,
//! digits and special characters, not the user name or the user name
//! reversed; a change must also differ from the current password.

use crate::rng::Rng;
use crate::store::{StoreError, Tx, TxExt};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

const TABLE: &str = "iam_passwords";
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 32;

#[derive(Serialize, Deserialize, Clone)]
pub struct Stored {
    /// PHC string (`$argon2id$...`): salt and parameters travel with the hash.
    pub hash: String,
    pub changed_ms: i64,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("hash", &crate::config::REDACTED)
            .field("changed_ms", &self.changed_ms)
            .finish()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum PolicyError {
    Length,
    Kinds,
    IsUserName,
}

/// IAM's default password policy, on a new password.
pub fn check_policy(password: &str, user_name: &str) -> Result<(), PolicyError> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(PolicyError::Length);
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return Err(PolicyError::Kinds);
    }
    let reversed: String = user_name.chars().rev().collect();
    if password == user_name || password == reversed {
        return Err(PolicyError::IsUserName);
    }
    Ok(())
}

/// Argon2id with the crate's default (OWASP) parameters and a salt from `rng`.
pub fn hash(password: &str, rng: &Rng) -> Result<String, StoreError> {
    let salt = SaltString::encode_b64(&rng.array::<16>())
        .map_err(|_| StoreError::Backend("password salt".into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Backend("password hashing failed".into()))
}

/// Whether `password` matches a stored hash (constant time inside argon2).
pub fn verify(stored: &Stored, password: &str) -> bool {
    PasswordHash::new(&stored.hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn key(domain_id: &str, user_id: &str) -> String {
    format!("{domain_id}/{user_id}")
}

pub fn stored(
    tx: &mut dyn Tx,
    domain_id: &str,
    user_id: &str,
) -> Result<Option<Stored>, StoreError> {
    tx.get_json(TABLE, &key(domain_id, user_id))
}

pub fn save(
    tx: &mut dyn Tx,
    domain_id: &str,
    user_id: &str,
    row: &Stored,
) -> Result<(), StoreError> {
    tx.put_json(TABLE, &key(domain_id, user_id), row)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_policy() {
        assert_eq!(check_policy("Short1", "bob"), Err(PolicyError::Length));
        assert_eq!(
            check_policy(&"aA1".repeat(11), "bob"),
            Err(PolicyError::Length)
        );
        assert_eq!(check_policy("alllowercase", "bob"), Err(PolicyError::Kinds));
        assert_eq!(check_policy("12345678", "bob"), Err(PolicyError::Kinds));
        assert_eq!(
            check_policy("Admin1234", "Admin1234"),
            Err(PolicyError::IsUserName)
        );
        assert_eq!(
            check_policy("4321nimdA", "Admin1234"),
            Err(PolicyError::IsUserName)
        );
        assert!(check_policy("lower-and-dash", "bob").is_ok());
        assert!(check_policy("Passw0rd", "bob").is_ok());
    }

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let rng = Rng::seeded(7);
        let a = Stored {
            hash: hash("Secret-pass1", &rng).unwrap(),
            changed_ms: 1,
        };
        let b = hash("Secret-pass1", &rng).unwrap();
        assert!(a.hash.starts_with("$argon2id$"));
        assert_ne!(a.hash, b);
        assert!(verify(&a, "Secret-pass1"));
        assert!(!verify(&a, "Secret-pass2"));
        let broken = Stored {
            hash: "not a hash".into(),
            changed_ms: 1,
        };
        assert!(!verify(&broken, "Secret-pass1"));
        assert!(!format!("{a:?}").contains("argon2"));
    }
}
