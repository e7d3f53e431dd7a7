use super::*;
use crate::kms::crypto::asymmetric::parse_private;
use crate::kms::crypto::material;

fn key(spec: KeySpec) -> PrivateKey {
    parse_private(
        spec,
        &material::generate(crate::kms::crypto::material::test_rng(), spec).unwrap(),
    )
    .unwrap()
}

fn round_trip(spec: KeySpec, alg: SignAlg, kind: MessageType, msg: &[u8]) {
    let k = key(spec);
    assert!(alg.fits(spec));
    let sig = sign(material::test_rng(), &k, alg, kind, msg).unwrap();
    assert!(
        verify(&k, alg, kind, msg, &sig).unwrap(),
        "{spec:?} {alg:?}"
    );
    let mut bad = sig.clone();
    let last = bad.len() - 1;
    bad[last / 2] ^= 0x10;
    assert!(
        !verify(&k, alg, kind, msg, &bad).unwrap(),
        "{spec:?} {alg:?} tampered sig"
    );
    let mut other = msg.to_vec();
    other[0] ^= 1;
    assert!(
        !verify(&k, alg, kind, &other, &sig).unwrap(),
        "{spec:?} {alg:?} other msg"
    );
    // Another key of the same spec does not accept it.
    assert!(!verify(&key(spec), alg, kind, msg, &sig).unwrap());
}

#[test]
fn every_algorithm_round_trips_raw_and_digest() {
    use Hash::*;
    let msg = b"the quick brown fox";
    for h in [Sha256, Sha384, Sha512] {
        round_trip(KeySpec::Rsa2048, SignAlg::RsaPss(h), MessageType::Raw, msg);
        round_trip(
            KeySpec::Rsa2048,
            SignAlg::RsaPkcs1(h),
            MessageType::Raw,
            msg,
        );
        for spec in [KeySpec::EcP256, KeySpec::EcP384, KeySpec::Secp256k1] {
            round_trip(spec, SignAlg::Ecdsa(h), MessageType::Raw, msg);
            round_trip(spec, SignAlg::Ecdsa(h), MessageType::Digest, &h.digest(msg));
        }
    }
    round_trip(
        KeySpec::Rsa2048,
        SignAlg::RsaPss(Sha256),
        MessageType::Digest,
        &Sha256.digest(msg),
    );
    round_trip(KeySpec::Sm2, SignAlg::Sm2, MessageType::Raw, msg);
    round_trip(
        KeySpec::Sm2,
        SignAlg::Sm2,
        MessageType::Digest,
        &Sm3.digest(msg),
    );
    round_trip(KeySpec::Ed25519, SignAlg::Ed25519, MessageType::Raw, msg);
    round_trip(KeySpec::Ed25519, SignAlg::Ed25519Ph, MessageType::Raw, msg);
    round_trip(
        KeySpec::Ed25519,
        SignAlg::Ed25519Ph,
        MessageType::Digest,
        &Sha512.digest(msg),
    );
}

#[test]
fn digest_length_and_algorithm_fit_are_checked() {
    let k = key(KeySpec::EcP256);
    assert!(matches!(
        sign(
            material::test_rng(),
            &k,
            SignAlg::Ecdsa(Hash::Sha256),
            MessageType::Digest,
            &[1; 31]
        ),
        Err(KmsError::DigestLength)
    ));
    assert!(sign(
        material::test_rng(),
        &k,
        SignAlg::RsaPss(Hash::Sha256),
        MessageType::Digest,
        &[1; 32]
    )
    .is_err());
    assert!(!SignAlg::Ecdsa(Hash::Sha256).fits(KeySpec::Sm2));
    assert!(!SignAlg::Sm2.fits(KeySpec::EcP256));
    assert!(SignAlg::parse(Some("ECDSA_SHA_1")).is_err());
    assert!(MessageType::parse(Some("TEXT")).is_err());
    let e = key(KeySpec::Ed25519);
    assert!(sign(
        material::test_rng(),
        &e,
        SignAlg::Ed25519,
        MessageType::Digest,
        &[0; 64]
    )
    .is_err());
    for len in [32, 63, 65] {
        assert!(matches!(
            sign(
                material::test_rng(),
                &e,
                SignAlg::Ed25519Ph,
                MessageType::Digest,
                &vec![0; len]
            ),
            Err(KmsError::DigestLength)
        ));
    }
}

#[test]
fn ecdsa_signature_is_der_and_prehash_matches_raw() {
    let k = key(KeySpec::EcP256);
    let msg = b"abc";
    let sig = sign(
        material::test_rng(),
        &k,
        SignAlg::Ecdsa(Hash::Sha256),
        MessageType::Raw,
        msg,
    )
    .unwrap();
    assert_eq!(sig[0], 0x30);
    let digest = Hash::Sha256.digest(msg);
    assert!(verify(
        &k,
        SignAlg::Ecdsa(Hash::Sha256),
        MessageType::Digest,
        &digest,
        &sig
    )
    .unwrap());
    assert!(!verify(
        &k,
        SignAlg::Ecdsa(Hash::Sha256),
        MessageType::Raw,
        msg,
        b"garbage"
    )
    .unwrap());
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// RFC 8032 §7.1 test 1 (Ed25519, empty message) and §7.3 (Ed25519ph, "abc").
#[test]
fn ed25519_known_answers() {
    let sk = |h: &str| {
        let b: [u8; 32] = unhex(h).try_into().unwrap();
        PrivateKey::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&b)))
    };
    let k = sk("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let sig = sign(
        material::test_rng(),
        &k,
        SignAlg::Ed25519,
        MessageType::Raw,
        b"",
    )
    .unwrap();
    assert_eq!(
        hex::encode(&sig),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    let k = sk("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    let sig = sign(
        material::test_rng(),
        &k,
        SignAlg::Ed25519Ph,
        MessageType::Raw,
        b"abc",
    )
    .unwrap();
    assert_eq!(
        hex::encode(&sig),
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    );
    assert!(verify(&k, SignAlg::Ed25519Ph, MessageType::Raw, b"abc", &sig).unwrap());
    // DIGEST hands over PH(M) = SHA-512(M) itself: the same RFC 8032 signature.
    let ph = Hash::Sha512.digest(b"abc");
    let by_digest = sign(
        material::test_rng(),
        &k,
        SignAlg::Ed25519Ph,
        MessageType::Digest,
        &ph,
    )
    .unwrap();
    assert_eq!(by_digest, sig);
    assert!(verify(&k, SignAlg::Ed25519Ph, MessageType::Digest, &ph, &sig).unwrap());
    // Domain separation: an Ed25519ph signature is no pure Ed25519 signature of M or PH(M).
    assert!(!verify(&k, SignAlg::Ed25519, MessageType::Raw, b"abc", &sig).unwrap());
    assert!(!verify(&k, SignAlg::Ed25519, MessageType::Raw, &ph, &sig).unwrap());
}

/// RFC 6979 §A.2.5: P-256, SHA-256, message "sample" (deterministic nonce).
#[test]
fn ecdsa_p256_rfc6979_known_answer() {
    let secret = unhex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    let k = PrivateKey::P256(p256::SecretKey::from_slice(&secret).unwrap());
    let der = sign(
        material::test_rng(),
        &k,
        SignAlg::Ecdsa(Hash::Sha256),
        MessageType::Raw,
        b"sample",
    )
    .unwrap();
    let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
    assert_eq!(
        hex::encode_upper(sig.to_bytes()),
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716\
         F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
    );
}

#[test]
fn rsa_pkcs1_signing_is_blinded_with_the_given_rng() {
    let k = key(KeySpec::Rsa2048);
    let alg = SignAlg::RsaPkcs1(Hash::Sha256);
    let (used, twin) = (Rng::seeded(5), Rng::seeded(5));
    let sig = sign(&used, &k, alg, MessageType::Raw, b"blinded").unwrap();
    assert!(verify(&k, alg, MessageType::Raw, b"blinded", &sig).unwrap());
    // PKCS#1 v1.5 is deterministic; the RNG is drawn from for blinding only.
    assert_ne!(used.array::<16>(), twin.array::<16>());
    let again = sign(&Rng::seeded(6), &k, alg, MessageType::Raw, b"blinded").unwrap();
    assert_eq!(sig, again);
}
