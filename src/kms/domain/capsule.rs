//! The key policy a data key capsule is bound to. CreateDatakeyCapsule takes
//! "a key policy id or an inline key policy, one of the two" (`policy_id`,
//! `key_policy`, the SDK's docstring); DecryptDatakeyCapsule then opens the
//! capsule only as that policy allows (`policy::evaluate`, as for a key of a
//! key space). The cloud says no more, so the rest is dewstack's choice:
//! a `policy_id` names a key policy of the key's project and is read as it
//! is when the capsule is opened (an update applies, a deleted policy opens
//! nothing); an inline policy travels in the capsule and never changes.
//!
//! The binding travels inside the capsule's sealed plaintext, so it cannot
//! be altered or removed without the capsule failing to open. An unbound
//! capsule's plaintext is the data key alone, exactly as every capsule made
//! before bindings existed; a bound one is `MAGIC`, a kind byte, the
//! binding's length (u32, big endian), the binding, then the data key.

use super::keyspace::is_uuid;
use super::policy;
use crate::kms::error::KmsError;
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"DSC1";
/// The longest data key a capsule holds (256 bits): anything longer is bound.
const MAX_DATAKEY: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    None,
    /// The id of a key policy of the key's project.
    Policy(String),
    /// A policy document, as `policy::parse` reads it.
    Inline(String),
}

impl Binding {
    pub fn from_request(
        policy_id: Option<&str>,
        key_policy: Option<&str>,
    ) -> Result<Self, KmsError> {
        match (given(policy_id), given(key_policy)) {
            (Some(_), Some(_)) => Err(KmsError::InvalidParameter(
                "policy_id and key_policy (give one of the two)",
            )),
            (Some(id), None) if is_uuid(id) => Ok(Self::Policy(id.to_ascii_lowercase())),
            (Some(_), None) => Err(KmsError::InvalidParameter("policy_id")),
            (None, Some(doc)) => {
                policy::parse(doc)?;
                Ok(Self::Inline(doc.to_owned()))
            }
            (None, None) => Ok(Self::None),
        }
    }

    /// The plaintext to seal for data key `dek` under this binding.
    pub fn seal_text(&self, dek: &[u8]) -> Zeroizing<Vec<u8>> {
        let (kind, text) = match self {
            Self::None => return Zeroizing::new(dek.to_vec()),
            Self::Policy(id) => (b'P', id.as_bytes()),
            Self::Inline(doc) => (b'D', doc.as_bytes()),
        };
        let mut out = Zeroizing::new(Vec::with_capacity(9 + text.len() + dek.len()));
        out.extend_from_slice(MAGIC);
        out.push(kind);
        // A document is at most policy::MAX_DOCUMENT_BYTES, far below u32.
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(dek);
        out
    }

    /// The binding and the data key of an opened capsule's plaintext.
    pub fn open_text(plain: &[u8]) -> Result<(Self, Zeroizing<Vec<u8>>), KmsError> {
        if plain.len() <= MAX_DATAKEY {
            return Ok((Self::None, Zeroizing::new(plain.to_vec())));
        }
        let bad = KmsError::InvalidDatakeyCiphertext;
        let rest = plain.strip_prefix(MAGIC.as_slice()).ok_or(bad)?;
        let (&kind, rest) = rest
            .split_first()
            .ok_or(KmsError::InvalidDatakeyCiphertext)?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(KmsError::InvalidDatakeyCiphertext)?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len || !matches!(rest.len() - len, 16 | 32) {
            return Err(KmsError::InvalidDatakeyCiphertext);
        }
        let (text, dek) = rest.split_at(len);
        let text = std::str::from_utf8(text)
            .map_err(|_| KmsError::InvalidDatakeyCiphertext)?
            .to_owned();
        let binding = match kind {
            b'P' => Self::Policy(text),
            b'D' => Self::Inline(text),
            _ => return Err(KmsError::InvalidDatakeyCiphertext),
        };
        Ok((binding, Zeroizing::new(dek.to_vec())))
    }
}

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Whether a capsule bound to `document` (None: its policy no longer
/// exists) may be opened by `req`.
pub fn may_open(
    document: Option<&policy::PolicyDocument>,
    req: &policy::Request,
) -> Result<(), KmsError> {
    let document = document.ok_or(KmsError::PolicyDenied)?;
    policy::evaluate(std::slice::from_ref(document), req).check()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ID: &str = "0f0e1d2c-3b4a-5968-7766-554433221100";

    #[test]
    fn one_of_policy_id_and_key_policy() {
        let code = |r: Result<Binding, KmsError>| r.unwrap_err().status_and_code().1;
        assert_eq!(
            Binding::from_request(None, Some("")).unwrap(),
            Binding::None
        );
        assert_eq!(
            Binding::from_request(Some(&ID.to_uppercase()), None).unwrap(),
            Binding::Policy(ID.into())
        );
        let doc = r#"{"allowed_access_point": []}"#;
        assert_eq!(
            Binding::from_request(None, Some(doc)).unwrap(),
            Binding::Inline(doc.into())
        );
        assert_eq!(code(Binding::from_request(Some(ID), Some(doc))), "KMS.0308");
        assert_eq!(code(Binding::from_request(Some("p-1"), None)), "KMS.0308");
        assert_eq!(
            code(Binding::from_request(None, Some("not json"))),
            "KMS.0308"
        );
    }

    #[test]
    fn the_binding_travels_with_the_data_key() {
        for dek in [[7u8; 16].as_slice(), [8u8; 32].as_slice()] {
            for b in [
                Binding::None,
                Binding::Policy(ID.into()),
                Binding::Inline(r#"{"version":"1.0"}"#.into()),
            ] {
                let text = b.seal_text(dek);
                let (back, key) = Binding::open_text(&text).unwrap();
                assert_eq!((back, key.as_slice()), (b, dek));
            }
        }
        // An unbound capsule is the data key alone, as capsules always were.
        assert_eq!(Binding::None.seal_text(&[1; 16]).as_slice(), &[1; 16]);
    }

    #[test]
    fn malformed_plaintexts_do_not_open() {
        let good = Binding::Policy(ID.into()).seal_text(&[7; 32]);
        let code = |t: &[u8]| Binding::open_text(t).unwrap_err().status_and_code().1;
        assert_eq!(code(&good[..good.len() - 1]), "KMS.2201");
        let mut kind = good.to_vec();
        kind[4] = b'X';
        assert_eq!(code(&kind), "KMS.2201");
        let mut magic = good.to_vec();
        magic[0] = b'X';
        assert_eq!(code(&magic), "KMS.2201");
        let mut long = good.to_vec();
        long[8] = 0xff;
        assert_eq!(code(&long), "KMS.2201");
    }

    #[test]
    fn a_capsule_opens_only_as_its_policy_allows() {
        let req = |ap| policy::Request {
            operation: "decrypt-datakey-capsule",
            key_id: ID,
            key_domain: "d",
            access_point: ap,
            now_ms: 1_000,
        };
        let only = policy::parse(&format!(r#"{{"allowed_access_point": ["{ID}"]}}"#)).unwrap();
        assert!(may_open(Some(&only), &req(Some(ID))).is_ok());
        let denied = may_open(Some(&only), &req(None)).unwrap_err();
        assert_eq!(denied.status_and_code().1, "KMS.0306");
        let open = policy::parse("{}").unwrap();
        assert!(may_open(Some(&open), &req(None)).is_ok());
        // The policy is gone: nothing opens.
        assert!(may_open(None, &req(Some(ID))).is_err());
    }
}
