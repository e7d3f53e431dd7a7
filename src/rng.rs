//! Randomness is injected like time: key material, nonces, ids and generated
//! passwords all come from the `Rng` in `AppState`, so tests can seed it and
//! nothing else in the crate asks the operating system for entropy
//! (`clippy.toml` bans the direct calls outside this file and `clock.rs`).

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rand::{CryptoRng, RngCore, SeedableRng};
use std::sync::{Arc, Mutex, PoisonError};

/// Where random bytes come from.
pub trait RandomSource: Send + Sync {
    /// Bytes that must be unpredictable: key material, nonces, secrets.
    fn fill(&self, dest: &mut [u8]);
}

/// `rand`'s thread-local CSPRNG: ChaCha12 seeded from the operating
/// system's (`getrandom`), reseeded from it after every 64 KiB it gives and
/// in a forked child. Not `OsRng` itself: a `getrandom` system call for
/// every nonce and id was 2-3 % of an EncryptData's CPU (bench/), and a
/// userspace generator seeded by the kernel is what OpenSSL and BoringSSL
/// draw keys and nonces from too.
pub struct SystemRandom;

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) {
        rand::thread_rng().fill_bytes(dest);
    }
}

/// ChaCha20 from a fixed seed: the same seed gives the same keys and ids,
/// which is what tests want and what production must never use.
pub struct SeededRandom(Mutex<rand_chacha::ChaCha20Rng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed)))
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        // A panic while holding the lock cannot leave a ChaCha state half-written.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(dest);
    }
}

/// A cheap-to-clone handle on the injected source.
#[derive(Clone)]
pub struct Rng(Arc<dyn RandomSource>);

impl Rng {
    pub fn system() -> Self {
        Self(Arc::new(SystemRandom))
    }

    pub fn seeded(seed: u64) -> Self {
        Self(Arc::new(SeededRandom::new(seed)))
    }

    pub fn fill(&self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    pub fn array<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// A random (version 4) UUID.
    pub fn uuid(&self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.array()).into_uuid()
    }

    /// A uniformly chosen number in `range`.
    pub fn in_range(&self, range: std::ops::Range<u64>) -> u64 {
        rand::Rng::gen_range(&mut self.csprng(), range)
    }

    /// An adapter for crates that take `impl CryptoRng + RngCore` (key
    /// generation, RSA padding and blinding, ECDSA nonces).
    pub fn csprng(&self) -> Csprng<'_> {
        Csprng(self.0.as_ref())
    }
}

impl std::fmt::Debug for Rng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng")
    }
}

/// `RngCore` over a `RandomSource`; both sources are cryptographically
/// secure, hence the `CryptoRng` marker.
pub struct Csprng<'a>(&'a dyn RandomSource);

impl RngCore for Csprng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl CryptoRng for Csprng<'_> {}

/// 128 bits that need to be unique, not secret (request ids): the
/// thread-local generator saves the `getrandom` system call a request would
/// otherwise make, and request ids are never asserted by tests.
pub fn unique_u128() -> u128 {
    rand::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sources_repeat_and_differ_by_seed() {
        let (a, b, c) = (Rng::seeded(7), Rng::seeded(7), Rng::seeded(8));
        let x: [u8; 32] = a.array();
        assert_eq!(x, b.array::<32>());
        assert_ne!(x, c.array::<32>());
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.uuid().get_version_num(), 4);
    }

    #[test]
    fn in_range_stays_in_range() {
        let rng = Rng::seeded(1);
        for _ in 0..1000 {
            let n = rng.in_range(10..20);
            assert!((10..20).contains(&n));
        }
    }

    #[test]
    fn system_source_is_not_constant() {
        let rng = Rng::system();
        assert_ne!(rng.array::<16>(), rng.array::<16>());
    }
}
