//! X-Auth-Token: a sealed (AES-256-GCM) statement of who the holder is and
//! until when, under a key derived from the root key. Nothing is stored, so
//! tokens survive restarts and every node sharing the root key accepts them.

use crate::common::crypto::{RootKey, Sealer};
use crate::rng::Rng;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TOKEN_LIFETIME_HOURS: i64 = 24;
const AAD: &[u8] = b"dewstack x-auth-token v1";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub domain_id: String,
    pub user_id: String,
    pub project_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

pub struct TokenSealer {
    sealer: Sealer,
}

impl TokenSealer {
    pub fn new(root: &RootKey, rng: Rng) -> Self {
        Self {
            sealer: Sealer::new(&root.derive("dewstack/x-auth-token/v1"), rng),
        }
    }

    pub fn issue(&self, claims: &TokenClaims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        // Huawei tokens start with "MII"; clients sometimes sniff that prefix.
        format!(
            "MII{}",
            crate::common::b64::encode_url(self.sealer.seal(&json, AAD))
        )
    }

    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Result<TokenClaims, TokenError> {
        let body = token
            .trim()
            .strip_prefix("MII")
            .ok_or(TokenError::Invalid)?;
        let sealed = crate::common::b64::decode_url(body).map_err(|_| TokenError::Invalid)?;
        let json = self
            .sealer
            .open(&sealed, AAD)
            .map_err(|_| TokenError::Invalid)?;
        let claims: TokenClaims = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
        if now.timestamp() >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(now: i64) -> TokenClaims {
        TokenClaims {
            domain_id: "d".into(),
            user_id: "u".into(),
            project_id: "p".into(),
            issued_at: now,
            expires_at: now + 3600,
        }
    }

    #[test]
    fn issue_check_expire_and_tamper() {
        let sealer = TokenSealer::new(&RootKey::from_bytes([3; 32]), Rng::seeded(1));
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let token = sealer.issue(&claims(now.timestamp()));
        assert_eq!(sealer.check(&token, now).unwrap(), claims(now.timestamp()));
        assert_eq!(
            sealer.check(&token, now + chrono::Duration::hours(2)),
            Err(TokenError::Expired)
        );
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 5;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            sealer.check(std::str::from_utf8(&bad).unwrap(), now),
            Err(TokenError::Invalid)
        );
        let other = TokenSealer::new(&RootKey::from_bytes([4; 32]), Rng::seeded(2));
        assert_eq!(other.check(&token, now), Err(TokenError::Invalid));
    }
}
