//! Rotation rules: which keys rotate, enabling and disabling the schedule,
//! the interval, and what a rotation adds to a key.

use super::key::{KeyState, Origin};
use super::limits::{MAX_INTERVAL_DAYS, MIN_INTERVAL_DAYS};
use crate::kms::error::KmsError;
use crate::kms::store::{KeyRecord, KeyVersion};

/// `rotation_interval`: an integer number of days, 30 to 365.
pub fn parse_interval(raw: Option<&str>) -> Result<i64, KmsError> {
    let raw = raw.ok_or(KmsError::MissingParameter("rotation_interval"))?;
    match raw.trim().parse::<i64>() {
        Ok(d) if (MIN_INTERVAL_DAYS..=MAX_INTERVAL_DAYS).contains(&d) => Ok(d),
        _ => Err(KmsError::InvalidRotationInterval),
    }
}

/// Only the user's own symmetric keys with generated material rotate, and
/// only while enabled; replicas of multi-region keys follow their primary.
pub fn check_rotatable(key: &KeyRecord) -> Result<(), KmsError> {
    super::multi_region::check_rotatable(key.multi_region.as_ref(), &key.project_id)?;
    if key.default_key {
        return Err(KmsError::DefaultKey);
    }
    if key.origin == Origin::External {
        return Err(KmsError::ExternalKeyNoRotation);
    }
    if !key.key_spec.is_symmetric() {
        return Err(KmsError::AsymmetricKeyNoRotation);
    }
    // dewstack's choice: a key in a token has one version, made there; a
    // rotation would have to make the next one there too, not in software.
    if key.keystore_id != super::keystore::DEFAULT_KEYSTORE {
        return Err(KmsError::Unsupported("rotation of keys in a key store"));
    }
    match key.key_state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(KmsError::KeyDisabled),
        KeyState::PendingDeletion => Err(KmsError::KeyPendingDeletionUnusable),
        KeyState::PendingImport => Err(KmsError::KeyNotEnabled),
        KeyState::Frozen => Err(KmsError::KeyFrozen),
    }
}

pub fn enable(key: &mut KeyRecord, now_ms: i64) -> Result<(), KmsError> {
    check_rotatable(key)?;
    if key.admin.rotation_enabled {
        return Err(KmsError::RotationAlreadyEnabled);
    }
    key.admin.rotation_enabled = true;
    key.admin.rotation_enabled_ms = Some(now_ms);
    Ok(())
}

pub fn disable(key: &mut KeyRecord) -> Result<(), KmsError> {
    key.key_state.check_editable()?;
    if !key.admin.rotation_enabled {
        return Err(KmsError::RotationNotEnabled);
    }
    key.admin.rotation_enabled = false;
    Ok(())
}

pub fn set_interval(key: &mut KeyRecord, days: i64) -> Result<(), KmsError> {
    check_rotatable(key)?;
    if !key.admin.rotation_enabled {
        return Err(KmsError::RotationNotEnabled);
    }
    key.admin.rotation_interval_days = Some(days);
    Ok(())
}

/// Whether a rotation may add a version: a key holds at most
/// `MAX_KEY_VERSIONS` (see there). Older versions live in rows of their own,
/// so the bound only keeps storage finite; the hot key record does not grow.
/// A full key is also left out of the rotation schedule
/// (`KeyRecord::next_rotation_ms`).
pub fn check_version_room(key: &KeyRecord) -> Result<(), KmsError> {
    if key.version_count >= super::limits::MAX_KEY_VERSIONS {
        return Err(KmsError::KeyVersionQuotaExceeded);
    }
    Ok(())
}

/// Adds a version whose fresh material is `sealed` (see
/// `crypto::material::seal_fresh`); the new version encrypts from now on.
pub fn add_version(key: &mut KeyRecord, sealed: Vec<u8>, now_ms: i64) {
    key.push_version(KeyVersion {
        created_ms: now_ms,
        sealed,
    });
    key.admin.last_rotation_ms = Some(now_ms);
    key.admin.rotation_count += 1;
}

/// A stable uuid-shaped id for version `index` of a key.
pub fn material_id(key_id: &str, index: usize) -> String {
    use sha2::{Digest, Sha256};
    let d = hex::encode(Sha256::digest(
        format!("{key_id}/material/{index}").as_bytes(),
    ));
    format!(
        "{}-{}-{}-{}-{}",
        &d[0..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kms::domain;
    use crate::kms::domain::limits::{DAY_MS, DEFAULT_INTERVAL_DAYS};
    use crate::kms::domain::{KeySpec, NewKey};

    fn days_ms(days: i64) -> i64 {
        days * DAY_MS
    }

    fn key(spec: &str, origin: &str) -> KeyRecord {
        let new = NewKey::validate(
            Some("k"),
            Some(spec),
            None,
            None,
            Some(origin),
            None,
            None,
            None,
        )
        .unwrap();
        KeyRecord {
            key_id: "0d0466b0-e727-4d9c-b35d-f84bb474a37f".into(),
            project_id: "p".into(),
            domain_id: "d".into(),
            key_alias: "k".into(),
            key_description: String::new(),
            key_spec: new.spec,
            key_usage: new.usage,
            origin: new.origin,
            key_state: new.origin.initial_state(),
            default_key: false,
            creation_ms: 1_000,
            scheduled_deletion_ms: None,
            expiration_ms: None,
            enterprise_project_id: "0".into(),
            keystore_id: "0".into(),
            tags: Default::default(),
            current: None,
            version_count: 0,
            legacy_versions: Vec::new(),
            admin: Default::default(),
            multi_region: None,
        }
    }

    #[test]
    fn interval_bounds() {
        assert_eq!(parse_interval(Some("30")).unwrap(), 30);
        assert_eq!(parse_interval(Some("365")).unwrap(), 365);
        for bad in ["29", "366", "0", "-30", "x", "30.5", ""] {
            let e = parse_interval(Some(bad)).unwrap_err();
            assert_eq!(e.status_and_code().1, "KMS.3001", "{bad}");
        }
        assert!(matches!(
            parse_interval(None),
            Err(KmsError::MissingParameter(_))
        ));
    }

    #[test]
    fn only_symmetric_generated_enabled_keys_rotate() {
        assert!(check_rotatable(&key("AES_256", "kms")).is_ok());
        assert!(check_rotatable(&key("SM4", "kms")).is_ok());
        let code = |k: &KeyRecord| check_rotatable(k).unwrap_err().status_and_code().1;
        assert_eq!(code(&key("AES_256", "external")), "KMS.0312");
        assert_eq!(code(&key("RSA_2048", "kms")), "KMS.0324");
        assert_eq!(code(&key("EC_P256", "kms")), "KMS.0324");
        assert_eq!(code(&key("HMAC_256", "kms")), "KMS.0324");
        let mut k = key("AES_256", "kms");
        k.key_state = KeyState::Disabled;
        assert_eq!(code(&k), "KMS.0209");
        k.key_state = KeyState::PendingDeletion;
        assert_eq!(code(&k), "KMS.0210");
        let mut d = key("AES_256", "kms");
        d.default_key = true;
        assert_eq!(code(&d), "KMS.0211");
    }

    #[test]
    fn enable_disable_and_interval_rules() {
        let mut k = key("AES_256", "kms");
        assert_eq!(
            set_interval(&mut k, 90).unwrap_err().status_and_code().1,
            "KMS.0313"
        );
        assert_eq!(disable(&mut k).unwrap_err().status_and_code().1, "KMS.0313");
        enable(&mut k, 5_000).unwrap();
        assert_eq!(
            enable(&mut k, 6_000).unwrap_err().status_and_code().1,
            "KMS.2901"
        );
        set_interval(&mut k, 90).unwrap();
        assert_eq!(k.admin.interval_days(), 90);
        disable(&mut k).unwrap();
        assert!(!k.admin.rotation_enabled);
    }

    #[test]
    fn on_demand_rotation_stops_at_the_version_bound() {
        let mut k = key("AES_256", "kms");
        for n in 0..crate::kms::domain::limits::MAX_KEY_VERSIONS {
            assert!(check_version_room(&k).is_ok(), "version {n}");
            add_version(&mut k, vec![0; 8], n as i64);
        }
        assert_eq!(
            check_version_room(&k).unwrap_err().status_and_code().1,
            "KMS.9002"
        );
        // A full key is not scheduled either.
        enable(&mut k, 0).unwrap();
        assert_eq!(k.next_rotation_ms(), None);
    }

    #[test]
    fn schedule_counts_from_enable_then_from_latest_rotation() {
        let rng = crate::rng::Rng::seeded(1);
        let keyring = crate::common::crypto::Sealer::new(&[1; 32], rng.clone());
        let mut k = key("AES_256", "kms");
        assert_eq!(k.next_rotation_ms(), None);
        enable(&mut k, 10_000).unwrap();
        assert_eq!(
            k.next_rotation_ms(),
            Some(10_000 + days_ms(DEFAULT_INTERVAL_DAYS))
        );
        set_interval(&mut k, 30).unwrap();
        assert_eq!(k.next_rotation_ms(), Some(10_000 + days_ms(30)));
        let sealed =
            crate::kms::crypto::material::seal_fresh(&keyring, &rng, &k.key_id, k.key_spec)
                .unwrap();
        add_version(&mut k, sealed, 20_000);
        assert_eq!(k.next_rotation_ms(), Some(20_000 + days_ms(30)));
        assert_eq!((k.version_count, k.admin.rotation_count), (1, 1));
        // Disabled keys and keys with rotation off are not scheduled.
        k.key_state = KeyState::Disabled;
        assert_eq!(k.next_rotation_ms(), None);
        k.key_state = KeyState::Enabled;
        disable(&mut k).unwrap();
        assert_eq!(k.next_rotation_ms(), None);
        let s = crate::kms::api::rotation::status_of(&k, &[(0, 20_000)]);
        assert_eq!((s.number_of_rotations, s.rotation_interval), (1, 30));
        assert_eq!(s.key_materials.len(), 1);
        assert!(domain::parse_key_id(Some(&s.key_materials[0].material_id)).is_ok());
        assert_eq!(KeySpec::Aes256, k.key_spec);
    }
}
