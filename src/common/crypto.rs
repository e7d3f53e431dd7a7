//! Thin wrappers over audited crates. Key material lives in `Zeroizing`
//! buffers and is sealed under the root key before it reaches storage.

use crate::rng::Rng;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;
use zeroize::Zeroizing;

pub const ROOT_KEY_FILE: &str = "root.key";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext does not authenticate")]
    BadCiphertext,
    #[error("key generation failed: {0}")]
    KeyGen(String),
}

/// The 256-bit root key. Everything secret at rest is sealed under keys derived from it.
pub struct RootKey {
    key: Zeroizing<[u8; 32]>,
}

impl RootKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(bytes),
        }
    }

    /// `DEWSTACK_ROOT_KEY` (base64) wins; otherwise the file in the data dir,
    /// created with mode 0600 on first start.
    pub fn load_or_create(
        data_dir: &Path,
        from_env: Option<&str>,
        rng: &Rng,
    ) -> anyhow::Result<Self> {
        if let Some(text) = from_env {
            let raw = Zeroizing::new(
                crate::common::b64::decode(text.trim())
                    .map_err(|_| anyhow::anyhow!("DEWSTACK_ROOT_KEY is not valid base64"))?,
            );
            let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
                anyhow::anyhow!("DEWSTACK_ROOT_KEY must decode to exactly 32 bytes")
            })?;
            return Ok(Self::from_bytes(bytes));
        }
        let path = data_dir.join(ROOT_KEY_FILE);
        if path.exists() {
            let raw = Zeroizing::new(std::fs::read(&path)?);
            let bytes: [u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold exactly 32 bytes", path.display()))?;
            return Ok(Self::from_bytes(bytes));
        }
        let bytes: [u8; 32] = rng.array();
        write_private_file(&path, &bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// A purpose-bound subkey (HMAC-SHA256 as a PRF), so that token sealing and
    /// key wrapping never share a key.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_slice())
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(purpose.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&out);
        key
    }
}

// HMAC accepts keys of any length, so construction cannot fail.
#[allow(clippy::panic)]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC rejected a 32-byte key")
}

/// Creates `dir` (and missing parents) with mode 0700, whatever the umask;
/// a directory that already exists is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // `mode` is filtered by the umask: set it outright.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Writes a file readable by its owner only, atomically: the bytes go to a
/// new temporary file in the same directory, created with `O_EXCL` (so a
/// planted file or symlink is never opened or followed) under an
/// unpredictable name (`tempfile`), synced, renamed over `path`, and the
/// directory is synced so that the rename survives a crash.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_private_dir(dir)?;
    // tempfile opens with O_CREAT|O_EXCL and mode 0600 and retries on a name clash.
    let mut tmp = tempfile::Builder::new()
        .prefix(".dewstack-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// AES-256-GCM with a random 96-bit nonce; output is nonce || ciphertext || tag.
pub struct Sealer {
    cipher: Aes256Gcm,
    rng: Rng,
}

impl Sealer {
    pub fn new(key: &[u8; 32], rng: Rng) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            rng,
        }
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce: [u8; 12] = self.rng.array();
        let mut out = nonce.to_vec();
        // Encryption with a valid key and in-memory buffers cannot fail.
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 12 + 16 {
            return Err(CryptoError::BadCiphertext);
        }
        let (nonce, ct) = sealed.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::BadCiphertext)
    }
}

/// `len` bytes from the injected RNG, zeroized when dropped.
pub fn random_bytes(rng: &Rng, len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    rng.fill(&mut out);
    out
}

/// Constant-time equality for secrets and signatures.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_aad() {
        let sealer = Sealer::new(&[7u8; 32], Rng::seeded(1));
        let sealed = sealer.seal(b"material", b"key-1");
        assert_eq!(
            sealer.open(&sealed, b"key-1").unwrap().as_slice(),
            b"material"
        );
        assert!(sealer.open(&sealed, b"key-2").is_err());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(sealer.open(&flipped, b"key-1").is_err());
        assert!(!sealed.windows(8).any(|w| w == b"material"));
    }

    #[test]
    fn root_key_file_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = RootKey::load_or_create(dir.path(), None, &Rng::seeded(1)).unwrap();
        let mode = std::fs::metadata(dir.path().join(ROOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = RootKey::load_or_create(dir.path(), None, &Rng::seeded(1)).unwrap();
        assert_eq!(*a.derive("x"), *b.derive("x"));
        assert_ne!(*a.derive("x"), *a.derive("y"));
    }

    #[test]
    fn a_symlink_planted_at_a_temp_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        let path = dir.path().join("identity.json");
        // The temp names the old code used (`<path>.tmp`), and a planted file.
        std::os::unix::fs::symlink(&victim, dir.path().join("identity.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("identity.json.tmp")).unwrap();
        write_private_file(&path, b"secret bytes").unwrap();
        assert!(!victim.exists(), "the symlink was followed");
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(std::fs::read(&path).unwrap(), b"secret bytes");
        // Overwriting works and leaves no temp files behind.
        write_private_file(&path, b"again").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"again");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".dewstack-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn root_key_from_env_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RootKey::load_or_create(dir.path(), Some("AAAA"), &Rng::seeded(1)).is_err());
        let good = crate::common::b64::encode([1u8; 32]);
        assert!(RootKey::load_or_create(dir.path(), Some(&good), &Rng::seeded(1)).is_ok());
        assert!(!dir.path().join(ROOT_KEY_FILE).exists());
    }
}
