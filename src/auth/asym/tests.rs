#![allow(clippy::unwrap_used)]
use super::*;
use crate::auth::sig::{self, parse_authorization, parse_sdk_date, SignedRequest};

const KMS_SCOPE: sig::ExpectedScope<'static> = sig::ExpectedScope {
    region: "cn-north-4",
    services: &["kms"],
    global: false,
};
use serde_json::Value;

const AK: &str = "HPUAEXAMPLEAK0000001";
const SK: &str = "ExampleSecretKey0123456789abcdefghijklmn";
const ALGS: [&str; 2] = ["SDK-ECDSA-P256-SHA256", "SDK-SM2-SM3"];

/// Made with the SDK's own `SM2SigningKey` (huaweicloudsdkcore 3.1.219) for an
/// SK whose derived public key has y = 0x00 28dc…: here the SDK's Z_A hashes
/// 31 bytes of y where standard SM2 hashes 32.
const QUIRK_SK: &str = "QuirkSecretKey0129";
const QUIRK_D: &str = "f173ab983d505e6e4515db7de3710c370116e1c26fa825ee0762bf10f24d43bd";
const QUIRK_Y: &str = "0028dcb0f5de8dd94bdcc7525bc6082e32ebf72168247ce59b0424740b2a47d2";
const QUIRK_MSG: &str =
    "SDK-SM2-SM3\n20240102T030405Z\n5139391ab5d6b9fae7c8a580e4ce29275c20db87e2f9005632b59c7d810a91f6";
const QUIRK_SIG: &str = "3045022100ded972356416ec856c1d4f527865a141f345f1945dccc67d93ed59dc8f1a24150220781c2f323a6ca9d1b7be23ffae234eceded60853d7c3bb2e3efb251f38ab51dc";

fn derivation() -> Value {
    let all: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/signing_vectors.json")).unwrap();
    all["asymmetric_key_derivation"].clone()
}

fn example_auth(alg: &str) -> AuthorizationHeader {
    let v = derivation();
    parse_authorization(
        v[alg]["example"]["request"]["headers"]["Authorization"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

fn example_to_sign(alg: &str) -> Vec<u8> {
    derivation()[alg]["example"]["string_to_sign"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec()
}

fn with_signature(auth: &AuthorizationHeader, der_sig: &[u8]) -> AuthorizationHeader {
    AuthorizationHeader {
        signature: hex::encode(der_sig),
        ..auth.clone()
    }
}

fn der_encode(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut v = minimal(v).to_vec();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn derived_keys_match_vectors() {
    let v = derivation();
    let p = p256_secret(AK, SK).unwrap();
    let q = p.public_key().to_encoded_point(false);
    let want = &v["SDK-ECDSA-P256-SHA256"];
    assert_eq!(
        hex::encode(p.to_bytes()),
        want["derived_private_key_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(q.x().unwrap()),
        want["public_key_x_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(q.y().unwrap()),
        want["public_key_y_hex"].as_str().unwrap()
    );

    let s = sm2_secret(AK, SK).unwrap();
    let q = s.public_key().to_encoded_point(false);
    let want = &v["SDK-SM2-SM3"];
    assert_eq!(
        hex::encode(s.to_bytes()),
        want["derived_private_key_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(q.x().unwrap()),
        want["public_key_x_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(q.y().unwrap()),
        want["public_key_y_hex"].as_str().unwrap()
    );

    let quirk = sm2_secret(AK, QUIRK_SK).unwrap();
    assert_eq!(hex::encode(quirk.to_bytes()), QUIRK_D);
    let q = quirk.public_key().to_encoded_point(false);
    assert_eq!(hex::encode(q.y().unwrap()), QUIRK_Y);
}

#[test]
fn sdk_example_signatures_verify() {
    for alg in ALGS {
        let auth = example_auth(alg);
        assert_eq!(auth.algorithm.name(), alg);
        verify(&auth, AK, SK, &example_to_sign(alg)).unwrap_or_else(|e| panic!("{alg}: {e}"));
        // Upper-case hex is the same signature.
        let upper = AuthorizationHeader {
            signature: auth.signature.to_ascii_uppercase(),
            ..auth.clone()
        };
        verify(&upper, AK, SK, &example_to_sign(alg)).unwrap();
    }
}

/// The whole request path: canonical request, string to sign, then `asym`.
#[test]
fn sdk_example_requests_verify_through_sig() {
    let v = derivation();
    for alg in ALGS {
        let ex = &v[alg]["example"];
        let r = &ex["request"];
        let headers: Vec<(String, String)> = r["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
            .collect();
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let url = r["url"].as_str().unwrap();
        let path = &url["https://kms.cn-north-4.myhuaweicloud.com".len()..];
        let body = r["body"].as_str().unwrap().as_bytes();
        let req = SignedRequest {
            method: r["method"].as_str().unwrap(),
            raw_path: path,
            raw_query: None,
            header: &lookup,
            body,
        };
        let auth = parse_authorization(lookup("authorization").unwrap()).unwrap();
        let canonical = sig::canonical_request(&req, &auth).unwrap();
        assert_eq!(canonical, ex["canonical_request"].as_str().unwrap());
        let now = parse_sdk_date("20240102T030405Z").unwrap();
        sig::verify(&req, &auth, SK, now, &KMS_SCOPE).unwrap_or_else(|e| panic!("{alg}: {e}"));

        let mut tampered = body.to_vec();
        tampered[3] ^= 1;
        let req = SignedRequest {
            body: &tampered,
            ..req
        };
        assert_eq!(
            sig::verify(&req, &auth, SK, now, &KMS_SCOPE),
            Err(SigError::Mismatch)
        );
    }
}

#[test]
fn flipped_string_to_sign_byte_fails() {
    for alg in ALGS {
        let auth = example_auth(alg);
        let msg = example_to_sign(alg);
        for i in [0, msg.len() / 2, msg.len() - 1] {
            let mut m = msg.clone();
            m[i] ^= 1;
            assert_eq!(
                verify(&auth, AK, SK, &m),
                Err(SigError::Mismatch),
                "{alg} @{i}"
            );
        }
    }
}

#[test]
fn flipped_signature_byte_fails() {
    for alg in ALGS {
        let auth = example_auth(alg);
        let msg = example_to_sign(alg);
        let der_sig = hex::decode(&auth.signature).unwrap();
        // Every byte: DER header bytes break the encoding, value bytes break r or s.
        for i in 0..der_sig.len() {
            let mut s = der_sig.clone();
            s[i] ^= 1;
            assert_eq!(
                verify(&with_signature(&auth, &s), AK, SK, &msg),
                Err(SigError::Mismatch),
                "{alg} @{i}"
            );
        }
        let mut trailing = der_sig.clone();
        trailing.push(0);
        assert_eq!(
            verify(&with_signature(&auth, &trailing), AK, SK, &msg),
            Err(SigError::Mismatch)
        );
        for bad in ["", "zz", "3044"] {
            let a = AuthorizationHeader {
                signature: bad.into(),
                ..auth.clone()
            };
            assert_eq!(verify(&a, AK, SK, &msg), Err(SigError::Mismatch));
        }
    }
}

#[test]
fn wrong_secret_or_access_key_fails() {
    for alg in ALGS {
        let auth = example_auth(alg);
        let msg = example_to_sign(alg);
        let mut wrong_sk = SK.to_owned();
        wrong_sk.push('x');
        assert_eq!(verify(&auth, AK, &wrong_sk, &msg), Err(SigError::Mismatch));
        // The AK is part of the derivation too.
        assert_eq!(
            verify(&auth, "HPUAEXAMPLEAK0000002", SK, &msg),
            Err(SigError::Mismatch)
        );
    }
}

#[test]
fn signature_of_one_algorithm_is_rejected_under_the_other() {
    let ecdsa = example_auth("SDK-ECDSA-P256-SHA256");
    let sm2 = example_auth("SDK-SM2-SM3");
    let msg = example_to_sign("SDK-ECDSA-P256-SHA256");
    let crossed = AuthorizationHeader {
        algorithm: Algorithm::Sm2Sm3,
        ..ecdsa.clone()
    };
    assert_eq!(verify(&crossed, AK, SK, &msg), Err(SigError::Mismatch));
    let crossed = AuthorizationHeader {
        algorithm: Algorithm::EcdsaP256Sha256,
        ..sm2
    };
    assert_eq!(verify(&crossed, AK, SK, &msg), Err(SigError::Mismatch));
    let hmac = AuthorizationHeader {
        algorithm: Algorithm::HmacSha256,
        ..ecdsa
    };
    assert_eq!(
        verify(&hmac, AK, SK, &msg),
        Err(SigError::UnsupportedAlgorithm)
    );
}

#[test]
fn sm2_minimal_length_za_quirk() {
    let mut auth = example_auth("SDK-SM2-SM3");
    auth.signature = QUIRK_SIG.into();
    verify(&auth, AK, QUIRK_SK, QUIRK_MSG.as_bytes()).unwrap();

    // Standard SM2 (fixed-width Z_A) rejects that SDK signature...
    use sm2::dsa::{signature::Verifier, Signature, VerifyingKey};
    let std_check = |sk: &str, der_sig: &str, msg: &str| {
        let key = VerifyingKey::new(SM2_USER_ID, sm2_secret(AK, sk).unwrap().public_key()).unwrap();
        let (r, s) = decode_der_rs(&hex::decode(der_sig).unwrap()).unwrap();
        key.verify(msg.as_bytes(), &Signature::from_scalars(r, s).unwrap())
    };
    assert!(std_check(QUIRK_SK, QUIRK_SIG, QUIRK_MSG).is_err());
    // ...but agrees with ours when no coordinate has a leading zero byte,
    // which also pins the curve constants used in our Z_A.
    let ex = example_auth("SDK-SM2-SM3");
    let msg = String::from_utf8(example_to_sign("SDK-SM2-SM3")).unwrap();
    std_check(SK, &ex.signature, &msg).unwrap();
}

/// Fresh signatures over many messages exercise short r/s encodings (a
/// leading zero byte in r or s shortens its DER INTEGER).
#[test]
fn fresh_signatures_round_trip() {
    use p256::ecdsa::{signature::Signer, SigningKey};
    use sm2::dsa::signature::hazmat::PrehashSigner;
    let p = SigningKey::from(p256_secret(AK, SK).unwrap());
    let s = sm2::dsa::SigningKey::new(SM2_USER_ID, &sm2_secret(AK, QUIRK_SK).unwrap()).unwrap();
    let sm2_public = sm2_secret(AK, QUIRK_SK).unwrap().public_key();
    let ecdsa_auth = example_auth("SDK-ECDSA-P256-SHA256");
    let sm2_auth = example_auth("SDK-SM2-SM3");
    for i in 0..300 {
        let msg = format!("SDK\n20240102T030405Z\n{i}");
        let sig: p256::ecdsa::Signature = p.sign(msg.as_bytes());
        let der_sig = sig.to_der();
        verify(
            &with_signature(&ecdsa_auth, der_sig.as_bytes()),
            AK,
            SK,
            msg.as_bytes(),
        )
        .unwrap();

        let e = sm2_message_digest(&sm2_public, msg.as_bytes()).unwrap();
        let sig: sm2::dsa::Signature = s.sign_prehash(&e).unwrap();
        let der_sig = der_encode(&sig.r_bytes(), &sig.s_bytes());
        verify(
            &with_signature(&sm2_auth, &der_sig),
            AK,
            QUIRK_SK,
            msg.as_bytes(),
        )
        .unwrap();
    }
}

#[test]
fn minimal_strips_only_leading_zeros() {
    assert_eq!(minimal(&[0, 0, 1, 0]), &[1, 0]);
    assert_eq!(minimal(&[5]), &[5]);
    assert_eq!(minimal(&[0, 0]), &[] as &[u8]);
}
