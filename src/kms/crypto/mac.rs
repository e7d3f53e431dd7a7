//! HMAC over a key's material: GenerateMac and VerifyMac's algorithms
//! (HMAC-SHA256/384/512 and HMAC-SM3), verified in constant time.

use crate::kms::domain::KeySpec;
use crate::kms::error::KmsError;
use hmac::{Hmac, Mac};

/// `mac_algorithm` values and the key spec each needs.
pub fn parse_algorithm(raw: Option<&str>) -> Result<KeySpec, KmsError> {
    match raw.ok_or(KmsError::MissingParameter("mac_algorithm"))? {
        "HMAC_SHA_256" => Ok(KeySpec::Hmac256),
        "HMAC_SHA_384" => Ok(KeySpec::Hmac384),
        "HMAC_SHA_512" => Ok(KeySpec::Hmac512),
        "HMAC_SM3" => Ok(KeySpec::HmacSm3),
        _ => Err(KmsError::InvalidParameter("mac_algorithm")),
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> Result<M, KmsError> {
    <M as Mac>::new_from_slice(key).map_err(|_| KmsError::Internal("HMAC key refused".into()))
}

/// The HMAC of `message` under `key` for `spec`.
pub fn compute(spec: KeySpec, key: &[u8], message: &[u8]) -> Result<Vec<u8>, KmsError> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut m: M = keyed(key)?;
        m.update(msg);
        Ok(m.finalize().into_bytes().to_vec())
    }
    match spec {
        KeySpec::Hmac256 => run::<Hmac<sha2::Sha256>>(key, message),
        KeySpec::Hmac384 => run::<Hmac<sha2::Sha384>>(key, message),
        KeySpec::Hmac512 => run::<Hmac<sha2::Sha512>>(key, message),
        KeySpec::HmacSm3 => run::<Hmac<sm3::Sm3>>(key, message),
        _ => Err(KmsError::InvalidParameter("mac_algorithm")),
    }
}

/// Constant-time check of `mac` against the HMAC of `message`.
pub fn verify(spec: KeySpec, key: &[u8], message: &[u8], mac: &[u8]) -> Result<bool, KmsError> {
    fn run<M: Mac + hmac::digest::KeyInit>(
        key: &[u8],
        msg: &[u8],
        mac: &[u8],
    ) -> Result<bool, KmsError> {
        let mut m: M = keyed(key)?;
        m.update(msg);
        Ok(m.verify_slice(mac).is_ok())
    }
    match spec {
        KeySpec::Hmac256 => run::<Hmac<sha2::Sha256>>(key, message, mac),
        KeySpec::Hmac384 => run::<Hmac<sha2::Sha384>>(key, message, mac),
        KeySpec::Hmac512 => run::<Hmac<sha2::Sha512>>(key, message, mac),
        KeySpec::HmacSm3 => run::<Hmac<sm3::Sm3>>(key, message, mac),
        _ => Err(KmsError::InvalidParameter("mac_algorithm")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 4231 test cases 1, 2, 4, 6 and 7 (case 5 is truncated output).
    #[test]
    fn rfc4231_vectors() {
        let long_key = vec![0xaa; 131];
        let cases: Vec<(Vec<u8>, Vec<u8>, [&str; 3])> = vec![
            (vec![0x0b; 20], b"Hi There".to_vec(), [
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ]),
            (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), [
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ]),
            (h("0102030405060708090a0b0c0d0e0f10111213141516171819"), vec![0xcd; 50], [
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
                "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            ]),
            (long_key.clone(), b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(), [
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ]),
            (long_key, b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(), [
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
                "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            ]),
        ];
        for (key, msg, [s256, s384, s512]) in cases {
            for (spec, want) in [
                (KeySpec::Hmac256, s256),
                (KeySpec::Hmac384, s384),
                (KeySpec::Hmac512, s512),
            ] {
                let got = compute(spec, &key, &msg).unwrap();
                assert_eq!(hex::encode(&got), want, "{spec:?}");
                assert!(verify(spec, &key, &msg, &got).unwrap());
                let mut bad = got.clone();
                bad[0] ^= 1;
                assert!(!verify(spec, &key, &msg, &bad).unwrap());
                assert!(!verify(spec, &key, &msg, &got[..got.len() - 1]).unwrap());
            }
        }
    }

    #[test]
    fn hmac_sm3_round_trip_and_algorithm_names() {
        let key = [7u8; 32];
        let mac = compute(KeySpec::HmacSm3, &key, b"abc").unwrap();
        assert_eq!(mac.len(), 32);
        assert!(verify(KeySpec::HmacSm3, &key, b"abc", &mac).unwrap());
        assert!(!verify(KeySpec::HmacSm3, &key, b"abd", &mac).unwrap());
        assert_eq!(
            parse_algorithm(Some("HMAC_SHA_384")).unwrap(),
            KeySpec::Hmac384
        );
        assert!(parse_algorithm(Some("HMAC_MD5")).is_err());
        assert!(compute(KeySpec::Aes256, &key, b"abc").is_err());
    }
}
