#![allow(clippy::unwrap_used)]
use super::*;
use rsa::pkcs8::DecodePublicKey;

const KEY: &str = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";

#[test]
fn token_round_trip_and_expiry() {
    let rng = Rng::seeded(3);
    let keyring = Sealer::new(&[3; 32], rng.clone());
    let t = seal_token(&keyring, &rng, KEY, "p", "tid", 10_000);
    assert!(t.len() >= 200, "{}", t.len());
    let c = open_token(&keyring, &t, KEY, 9_999).unwrap();
    assert_eq!((c.project_id.as_str(), c.token_id.as_str()), ("p", "tid"));
    let code = |r: Result<TokenClaims, KmsError>| r.unwrap_err().status_and_code().1;
    assert_eq!(code(open_token(&keyring, &t, KEY, 10_000)), "KMS.2601");
    assert_eq!(
        code(open_token(
            &keyring,
            &t,
            "1d0466b0-e727-4d9c-b35d-f84bb474a37f",
            0
        )),
        "KMS.2603"
    );
    let other = Sealer::new(&[4; 32], crate::rng::Rng::seeded(4));
    assert_eq!(code(open_token(&other, &t, KEY, 0)), "KMS.2605");
    assert_eq!(code(open_token(&keyring, "!!", KEY, 0)), "KMS.2601");
}

#[test]
fn wrap_with_public_key_unwrap_with_sealed_private() {
    let rng = Rng::seeded(5);
    let keyring = Sealer::new(&[5; 32], rng.clone());
    let (sealed, public_der) = wrapping_pair(&keyring, &rng, KEY, WrapAlg::OaepSha256).unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&public_der).unwrap();
    let mut rng = rng.csprng();
    for (alg, pad) in [
        (WrapAlg::OaepSha256, rsa::Oaep::new::<sha2::Sha256>()),
        (WrapAlg::OaepSha1, rsa::Oaep::new::<sha1::Sha1>()),
    ] {
        let wrapped = public.encrypt(&mut rng, pad, &[9u8; 32]).unwrap();
        assert_eq!(crate::common::b64::encode(&wrapped).len(), 344);
        let plain =
            unwrap_material(&Rng::seeded(6), &keyring, KEY, &sealed, alg, &wrapped).unwrap();
        assert_eq!(plain.as_slice(), &[9u8; 32]);
    }
    let wrapped = public
        .encrypt(&mut rng, rsa::Oaep::new::<sha2::Sha256>(), &[9u8; 32])
        .unwrap();
    assert!(matches!(
        unwrap_material(
            &Rng::seeded(6),
            &keyring,
            KEY,
            &sealed,
            WrapAlg::OaepSha1,
            &wrapped
        ),
        Err(KmsError::UnwrapFailed)
    ));
    // The private key is bound to its key id.
    assert!(unwrap_material(
        &Rng::seeded(6),
        &keyring,
        "x",
        &sealed,
        WrapAlg::OaepSha256,
        &wrapped
    )
    .is_err());
}

#[test]
fn sm2_wrapping_keys_unwrap_what_their_public_half_wrapped() {
    use crate::kms::crypto::asymmetric::{self, EncAlg};
    let rng = Rng::seeded(7);
    let keyring = Sealer::new(&[7; 32], rng.clone());
    let (sealed, public_der) = wrapping_pair(&keyring, &rng, KEY, WrapAlg::Sm2).unwrap();
    // The public key is an SM2 SubjectPublicKeyInfo (id-ecPublicKey, curve sm2p256v1).
    let sm2_curve = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
    assert!(public_der.windows(10).any(|w| w == sm2_curve));
    let der = keyring.open(&sealed, &wrapping_aad(KEY)).unwrap();
    let pair = asymmetric::parse_private(KeySpec::Sm2, &der).unwrap();
    assert_eq!(pair.public_der().unwrap(), public_der);
    let wrapped = asymmetric::encrypt(&rng, &pair, EncAlg::Sm2, &[9u8; 32]).unwrap();
    let unwrap = |alg, ct: &[u8]| unwrap_material(&rng, &keyring, KEY, &sealed, alg, ct);
    assert_eq!(
        unwrap(WrapAlg::Sm2, &wrapped).unwrap().as_slice(),
        &[9u8; 32]
    );
    let mut bad = wrapped.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        unwrap(WrapAlg::Sm2, &bad),
        Err(KmsError::UnwrapFailed)
    ));
    // Another token's SM2 pair does not open it.
    let (other, _) = wrapping_pair(&keyring, &rng, KEY, WrapAlg::Sm2).unwrap();
    assert!(matches!(
        unwrap_material(&rng, &keyring, KEY, &other, WrapAlg::Sm2, &wrapped),
        Err(KmsError::UnwrapFailed)
    ));
}

#[test]
fn lengths_and_algorithms() {
    assert_eq!(material_len(KeySpec::Aes256), Some(32));
    assert_eq!(material_len(KeySpec::Sm4), Some(16));
    assert_eq!(material_len(KeySpec::Hmac512), Some(64));
    assert_eq!(material_len(KeySpec::Rsa2048), None);
    assert_eq!(
        WrapAlg::parse(Some("RSAES_OAEP_SHA_256")).unwrap(),
        WrapAlg::OaepSha256
    );
    assert_eq!(WrapAlg::parse(Some("SM2_ENCRYPT")).unwrap(), WrapAlg::Sm2);
    assert!(WrapAlg::parse(Some("SM2")).is_err());
    assert!(matches!(
        WrapAlg::parse(None),
        Err(KmsError::MissingParameter(_))
    ));
    assert_ne!(fingerprint(KEY, b"a"), fingerprint(KEY, b"b"));
    assert_ne!(fingerprint(KEY, b"a"), fingerprint("k2", b"a"));
}

#[test]
fn imported_material_dispatches_on_the_spec() {
    let z = |b: &[u8]| Zeroizing::new(b.to_vec());
    let sym = imported_material(KeySpec::Aes256, z(&[1; 32]), None).unwrap();
    assert_eq!(sym.material.as_slice(), &[1; 32]);
    assert_eq!(sym.identity.as_slice(), &[1; 32]);
    let code = |r: Result<Imported, KmsError>| r.err().unwrap().status_and_code().1;
    assert_eq!(
        code(imported_material(KeySpec::Aes256, z(&[1; 16]), None)),
        "KMS.2604"
    );
    assert_eq!(
        code(imported_material(
            KeySpec::Aes256,
            z(&[1; 32]),
            Some(&[0; 40])
        )),
        "KMS.0308"
    );
    assert_eq!(
        code(imported_material(KeySpec::EcP256, z(&[1; 32]), None)),
        "KMS.0204"
    );

    let der = crate::kms::crypto::material::generate(
        crate::kms::crypto::material::test_rng(),
        KeySpec::EcP256,
    )
    .unwrap();
    let temp = [9u8; 32];
    let mut wrapped = vec![0u8; der.len().div_ceil(8) * 8 + 8];
    aes_kw::KekAes256::from(temp)
        .wrap_with_padding(&der, &mut wrapped)
        .unwrap();
    let asym = imported_material(KeySpec::EcP256, z(&temp), Some(&wrapped)).unwrap();
    let key =
        crate::kms::crypto::asymmetric::parse_private(KeySpec::EcP256, &asym.material).unwrap();
    assert_eq!(key.public_der().unwrap(), asym.identity.as_slice());
}
