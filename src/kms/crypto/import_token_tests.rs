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
    let (sealed, public_der) = wrapping_pair(&keyring, &rng, KEY).unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&public_der).unwrap();
    let mut rng = rng.csprng();
    for (alg, pad) in [
        (WrapAlg::OaepSha256, rsa::Oaep::new::<sha2::Sha256>()),
        (WrapAlg::OaepSha1, rsa::Oaep::new::<sha1::Sha1>()),
    ] {
        let wrapped = public.encrypt(&mut rng, pad, &[9u8; 32]).unwrap();
        assert_eq!(B64.encode(&wrapped).len(), 344);
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
fn lengths_and_algorithms() {
    assert_eq!(material_len(KeySpec::Aes256), Some(32));
    assert_eq!(material_len(KeySpec::Sm4), Some(16));
    assert_eq!(material_len(KeySpec::Hmac512), Some(64));
    assert_eq!(material_len(KeySpec::Rsa2048), None);
    assert_eq!(
        WrapAlg::parse(Some("RSAES_OAEP_SHA_256")).unwrap(),
        WrapAlg::OaepSha256
    );
    assert!(WrapAlg::parse(Some("SM2_ENCRYPT")).is_err());
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
