//! Unsealed key material kept in memory, so that a key in use is unsealed
//! (and, if asymmetric, parsed) once per version rather than per request.
//!
//! Entries are found by key id and the *sealed* bytes of the version. Sealed
//! bytes are immutable (a new or re-imported version is sealed afresh, with
//! a new nonce), so an entry can never answer for other material, and the
//! key's state is read from the database on every use (`access`): a stale
//! entry is never *used*, on this node or any other. Dropping entries is
//! therefore about not keeping secrets in memory longer than needed: every
//! write of a key (`store::keys::save`) keeps only its current version, and
//! nothing at all once the key is no longer enabled (disabled, pending
//! deletion, material deleted); a purge drops the key. Another node drops
//! its copy when its bound pushes it out.
//!
//! The bound is `LIMIT` versions; inserting beyond it drops the entries of
//! one other key, chosen by the map's (randomly seeded) order. Material and
//! parsed keys zeroize themselves when the last holder of an entry lets go.

use crate::kms::crypto::parsed::ParsedKey;
use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, OnceLock, RwLock};
use zeroize::Zeroizing;

/// dewstack's choice: 4,096 versions, a few MiB at most (RSA-4096 material
/// with its parsed form is the largest entry, about 5 KiB).
const LIMIT: usize = 4096;

/// One version's plaintext material and, once asked for, its parsed key.
pub struct Unsealed {
    material: Zeroizing<Vec<u8>>,
    parsed: OnceLock<Arc<ParsedKey>>,
}

impl Deref for Unsealed {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.material
    }
}

impl Unsealed {
    pub fn new(material: Zeroizing<Vec<u8>>) -> Self {
        Self {
            material,
            parsed: OnceLock::new(),
        }
    }

    /// The material parsed as a private key of `spec`, parsed on first use.
    pub fn parsed(&self, spec: KeySpec) -> Result<Arc<ParsedKey>, KmsError> {
        if let Some(p) = self.parsed.get() {
            return Ok(p.clone());
        }
        let p = Arc::new(ParsedKey::parse(spec, &self.material)?);
        // Two requests may race to parse: either result is the same key.
        Ok(self.parsed.get_or_init(|| p).clone())
    }
}

pub type Material = Arc<Unsealed>;

/// Key id → (sealed bytes, material) of each cached version.
#[derive(Default)]
struct Cache {
    keys: HashMap<String, Vec<(Vec<u8>, Material)>>,
    versions: usize,
}

impl Cache {
    fn get(&self, key_id: &str, sealed: &[u8]) -> Option<Material> {
        let versions = self.keys.get(key_id)?;
        versions
            .iter()
            .find(|(s, _)| s.as_slice() == sealed)
            .map(|(_, m)| m.clone())
    }

    fn put(&mut self, key_id: &str, sealed: &[u8], material: Material, limit: usize) -> Material {
        if let Some(found) = self.get(key_id, sealed) {
            return found;
        }
        while self.versions >= limit {
            let Some(victim) = self.keys.keys().find(|k| *k != key_id).cloned() else {
                // Only this key's versions are cached: drop them instead.
                self.keep_only(key_id, None);
                break;
            };
            self.keep_only(&victim, None);
        }
        self.keys
            .entry(key_id.to_owned())
            .or_default()
            .push((sealed.to_vec(), material.clone()));
        self.versions += 1;
        material
    }

    fn keep_only(&mut self, key_id: &str, current: Option<&[u8]>) {
        let Some(versions) = self.keys.get_mut(key_id) else {
            return;
        };
        let before = versions.len();
        versions.retain(|(s, _)| Some(s.as_slice()) == current);
        self.versions -= before - versions.len();
        if versions.is_empty() {
            self.keys.remove(key_id);
        }
    }

    fn holds_other_than(&self, key_id: &str, current: Option<&[u8]>) -> bool {
        self.keys
            .get(key_id)
            .is_some_and(|v| v.iter().any(|(s, _)| Some(s.as_slice()) != current))
    }
}

fn cache() -> &'static RwLock<Cache> {
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(Cache::default()))
}

/// The cached material of the version of `key_id` sealed as `sealed`.
pub fn get(key_id: &str, sealed: &[u8]) -> Option<Material> {
    cache().read().ok()?.get(key_id, sealed)
}

/// Caches freshly unsealed material (or returns what a racing request cached).
pub fn put(key_id: &str, sealed: &[u8], material: Zeroizing<Vec<u8>>) -> Material {
    let material = Arc::new(Unsealed::new(material));
    match cache().write() {
        Ok(mut c) => c.put(key_id, sealed, material, LIMIT),
        Err(_) => material,
    }
}

/// Keeps of `key_id` only the version sealed as `current` (`None`: nothing).
/// Called on every write of a key, so the common case (nothing to drop)
/// takes only the read lock.
pub fn keep_only(key_id: &str, current: Option<&[u8]>) {
    let stale = cache()
        .read()
        .is_ok_and(|c| c.holds_other_than(key_id, current));
    if stale {
        if let Ok(mut c) = cache().write() {
            c.keep_only(key_id, current);
        }
    }
}

/// How many versions of `key_id` are cached (tests of the callers' eviction).
#[cfg(test)]
pub fn cached_versions(key_id: &str) -> usize {
    cache()
        .read()
        .map(|c| c.keys.get(key_id).map_or(0, Vec::len))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn material(b: u8) -> Material {
        Arc::new(Unsealed::new(Zeroizing::new(vec![b; 32])))
    }

    #[test]
    fn entries_answer_only_their_key_and_sealed_bytes() {
        let mut c = Cache::default();
        c.put("k1", b"sealed-a", material(1), 8);
        assert_eq!(c.get("k1", b"sealed-a").unwrap()[0], 1);
        assert!(c.get("k2", b"sealed-a").is_none());
        assert!(c.get("k1", b"sealed-b").is_none());
        // A second put of the same version keeps the first entry.
        let kept = c.put("k1", b"sealed-a", material(2), 8);
        assert_eq!(kept[0], 1);
        assert_eq!(c.versions, 1);
    }

    #[test]
    fn keep_only_drops_other_versions_and_none_drops_the_key() {
        let mut c = Cache::default();
        c.put("k", b"v1", material(1), 8);
        c.put("k", b"v2", material(2), 8);
        assert!(c.holds_other_than("k", Some(b"v2")));
        c.keep_only("k", Some(b"v2"));
        assert!(c.get("k", b"v1").is_none());
        assert!(c.get("k", b"v2").is_some());
        assert!(!c.holds_other_than("k", Some(b"v2")));
        c.keep_only("k", None);
        assert_eq!((c.keys.len(), c.versions), (0, 0));
    }

    #[test]
    fn the_bound_holds_by_dropping_other_keys() {
        let mut c = Cache::default();
        for i in 0..50u8 {
            c.put(&format!("k{i}"), b"v", material(i), 10);
            c.put(&format!("k{i}"), b"w", material(i), 10);
            assert!(c.versions <= 10, "{} versions", c.versions);
            assert_eq!(c.versions, c.keys.values().map(Vec::len).sum::<usize>());
            // The key just cached is never the one dropped.
            assert!(c.get(&format!("k{i}"), b"w").is_some());
        }
        // One key with more versions than the bound still stays bounded.
        for v in 0..30u8 {
            c.put("big", &[v], material(v), 10);
            assert!(c.versions <= 10);
        }
    }

    #[test]
    fn evicted_material_is_freed_once_its_last_user_lets_go() {
        let mut c = Cache::default();
        let m = c.put("k", b"v", material(9), 8);
        c.keep_only("k", None);
        // The request that still holds it keeps it valid; nothing else does.
        assert_eq!(Arc::strong_count(&m), 1);
        assert_eq!(m[0], 9);
    }

    #[test]
    fn a_version_is_parsed_once() {
        use crate::kms::crypto::material as gen;
        let der = gen::generate(gen::test_rng(), KeySpec::EcP256).unwrap();
        let u = Unsealed::new(der);
        let a = u.parsed(KeySpec::EcP256).unwrap();
        let b = u.parsed(KeySpec::EcP256).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
