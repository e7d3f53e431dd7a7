#![allow(clippy::unwrap_used)]
use super::*;
use crate::kms::domain::keystore::token_holds;
use crate::kms::domain::ALL_SPECS;

fn token(test: &str) -> Option<std::sync::Arc<crate::kms::hsm::Token>> {
    let tokens = crate::testing::softhsm(test)?;
    Some(
        tokens
            .get(crate::testing::SOFTHSM_CLUSTERS[0])
            .unwrap()
            .clone(),
    )
}

#[test]
fn softhsm_offers_every_spec_dewstack_keeps_in_a_token() {
    let Some(token) = token("softhsm_offers_every_spec") else {
        return;
    };
    for spec in ALL_SPECS {
        let needed = mechanisms(spec);
        assert_eq!(needed.is_some(), token_holds(spec), "{spec:?}");
        for m in needed.into_iter().flatten() {
            assert!(token.supports(m), "{spec:?} needs {m:?}");
        }
    }
}

#[test]
fn material_stays_in_the_token() {
    let Some(token) = token("material_stays_in_the_token") else {
        return;
    };
    let id = "11111111-2222-3333-4444-555555555555";
    token
        .with_session(|s| {
            generate(s, id, KeySpec::Aes256)?;
            let key = find(s, id, ObjectClass::SECRET_KEY)?;
            let attrs = s
                .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])
                .unwrap();
            assert!(attrs.contains(&Attribute::Sensitive(true)), "{attrs:?}");
            assert!(attrs.contains(&Attribute::Extractable(false)), "{attrs:?}");
            // Reading the value is refused by the token itself.
            assert!(s
                .get_attributes(key, &[AttributeType::Value])
                .map_or(true, |a| a.is_empty()));
            let nonce = [7u8; 12];
            let ct = gcm_seal(s, id, &nonce, b"secret", b"aad")?;
            assert_eq!(ct.len(), 6 + 16);
            assert_eq!(gcm_open(s, id, &nonce, &ct, b"aad")?.as_slice(), b"secret");
            assert!(matches!(
                gcm_open(s, id, &nonce, &ct, b"other"),
                Err(KmsError::InvalidCiphertext)
            ));
            destroy(s, id)?;
            assert!(matches!(
                gcm_seal(s, id, &nonce, b"x", b""),
                Err(KmsError::Internal(_))
            ));
            Ok(())
        })
        .unwrap();
}
