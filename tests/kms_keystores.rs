//! Key stores backed by SoftHSM2 tokens, through the real router: the
//! key store rules, and keys whose material is made and used in the token.
//! Skipped without SoftHSM2 in a plain `cargo test`; fails under
//! `DEWSTACK_TEST_REQUIRE_SOFTHSM=1` (scripts/test.sh).

mod common;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn server(test: &str) -> Option<TestServer> {
    let tokens = dewstack::testing::softhsm(test)?;
    let mut server = TestServer::start().await;
    server.state.hsm = tokens;
    Some(server)
}

async fn call(s: &TestServer, method: &str, tail: &str, body: Option<Value>) -> (u16, Value) {
    let path = format!("/v1.0/{PROJECT}/keystores{tail}");
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    s.send(signed(&s.clock, method, &path, &text, AK, SK)).await
}

async fn create_store(s: &TestServer, alias: &str, cluster: &str) -> String {
    let (status, body) = call(
        s,
        "POST",
        "",
        Some(json!({"keystore_alias": alias, "hsm_cluster_id": cluster})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["keystore"]["domain_id"], DOMAIN);
    body["keystore"]["keystore_id"].as_str().unwrap().to_owned()
}

async fn create_key(s: &TestServer, store: &str, spec: &str, usage: &str) -> String {
    let (status, body) = s
        .kms(
            "create-key",
            json!({"key_alias": format!("k-{spec}-{}", &store[..8]), "key_spec": spec,
                   "key_usage": usage, "keystore_id": store}),
        )
        .await;
    assert_eq!(status, 200, "{spec} {body}");
    body["key_info"]["key_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn key_store_rules() {
    let Some(s) = server("key_store_rules").await else {
        return;
    };
    let (status, body) = call(&s, "GET", "", None).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)), "{body}");
    for (bad, code) in [
        (
            json!({"keystore_alias": "a", "hsm_cluster_id": "not-configured"}),
            "KMS.0308",
        ),
        (json!({"hsm_cluster_id": "hsm-test-1"}), "KMS.0204"),
        (
            json!({"keystore_alias": "bad alias", "hsm_cluster_id": "hsm-test-1"}),
            "KMS.0308",
        ),
        (
            json!({"keystore_alias": "a", "hsm_cluster_id": "hsm-test-1", "keystore_type": "CDMS"}),
            "KMS.0308",
        ),
    ] {
        let (status, body) = call(&s, "POST", "", Some(bad.clone())).await;
        assert_eq!((status, code_of(&body)), (400, code), "{bad} {body}");
    }
    let (status, body) = call(&s, "POST", "", Some(json!("x"))).await;
    assert_eq!((status, code_of(&body)), (400, "KMS.0202"), "{body}");

    let id = create_store(&s, "store-a", "hsm-test-1").await;
    // One key store per HSM cluster; aliases are unique.
    let (status, body) = call(
        &s,
        "POST",
        "",
        Some(json!({"keystore_alias": "store-b", "hsm_cluster_id": "hsm-test-1"})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9105"), "{body}");
    let (status, body) = call(
        &s,
        "POST",
        "",
        Some(json!({"keystore_alias": "store-a", "cluster_id": "hsm-test-2"})),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9104"), "{body}");

    let (status, body) = call(&s, "GET", &format!("/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let ks = &body["keystore"];
    assert_eq!(
        (
            ks["keystore_alias"].as_str(),
            ks["hsm_cluster_id"].as_str(),
            ks["cluster_id"].as_str(),
            ks["keystore_type"].as_str()
        ),
        (
            Some("store-a"),
            Some("hsm-test-1"),
            Some("hsm-test-1"),
            Some("DHSM")
        )
    );
    assert!(ks["create_time"].is_string());
    let (status, body) = call(&s, "GET", "?limit=1&offset=0", None).await;
    assert_eq!(
        (
            status,
            body["total"].as_i64(),
            body["keystores"].as_array().map(Vec::len)
        ),
        (200, Some(1), Some(1))
    );
    let (status, body) = call(&s, "GET", "?limit=0", None).await;
    assert_eq!((status, code_of(&body)), (400, "KMS.1601"), "{body}");

    // Another project never sees it.
    let path = format!("/v1.0/{OTHER_PROJECT}/keystores/{id}");
    let (status, body) = s
        .send(signed(&s.clock, "GET", &path, "", OTHER_AK, OTHER_SK))
        .await;
    assert_eq!((status, code_of(&body)), (404, "KMS.0207"), "{body}");
    let (status, _) = s
        .send(signed(
            &s.clock,
            "POST",
            &format!("{path}/disable"),
            "",
            OTHER_AK,
            OTHER_SK,
        ))
        .await;
    assert_eq!(status, 404);
    let (status, _) = call(&s, "GET", "/0d0466b0-e727-4d9c-b35d-f84bb474a37f", None).await;
    assert_eq!(status, 404);

    // Enable/disable transitions.
    let (status, body) = call(&s, "POST", &format!("/{id}/enable"), None).await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9102"), "{body}");
    let (status, body) = call(&s, "POST", &format!("/{id}/disable"), None).await;
    assert_eq!(
        (status, body["keystore"]["keystore_state"].as_str()),
        (200, Some("3")),
        "{body}"
    );
    let (status, body) = call(&s, "POST", &format!("/{id}/disable"), None).await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9103"), "{body}");
    // No key is made in a disabled key store.
    let (status, body) = s
        .kms("create-key", json!({"key_alias": "x", "keystore_id": id}))
        .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9101"), "{body}");
    let (status, body) = call(&s, "POST", &format!("/{id}/enable"), None).await;
    assert_eq!(
        (status, body["keystore"]["keystore_state"].as_str()),
        (200, Some("2")),
        "{body}"
    );

    let (status, body) = call(&s, "DELETE", &format!("/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&s, "GET", &format!("/{id}"), None).await;
    assert_eq!(status, 404);
    // The cluster is free again.
    create_store(&s, "store-c", "hsm-test-1").await;
}

fn code_of(v: &Value) -> &str {
    code(v)
}

#[tokio::test]
async fn keys_in_the_token() {
    let Some(s) = server("keys_in_the_token").await else {
        return;
    };
    let store = create_store(&s, "crypto", "hsm-test-2").await;
    let aes = create_key(&s, &store, "AES_256", "ENCRYPT_DECRYPT").await;
    let (_, body) = s.kms("describe-key", json!({"key_id": aes})).await;
    let info = &body["key_info"];
    assert_eq!(
        (info["keystore_id"].as_str(), info["keystore_type"].as_str()),
        (Some(store.as_str()), Some("DHSM")),
        "{body}"
    );
    // Default keys report the default key store as "0".
    let (_, body) = s.kms("create-key", json!({"key_alias": "soft"})).await;
    let soft = body["key_info"]["key_id"].as_str().unwrap().to_owned();
    let (_, body) = s.kms("describe-key", json!({"key_id": soft})).await;
    assert_eq!(
        (
            body["key_info"]["keystore_id"].as_str(),
            body["key_info"]["keystore_type"].as_str()
        ),
        (Some("0"), Some("DEFAULT"))
    );

    // EncryptData / DecryptData: the blob names its key; AAD binds.
    let (status, body) = s.kms("encrypt-data", json!({"key_id": aes, "plain_text": "hello token", "additional_authenticated_data": "ctx-1"})).await;
    assert_eq!(status, 200, "{body}");
    let ct = body["cipher_text"].as_str().unwrap().to_owned();
    let (status, body) = s
        .kms(
            "decrypt-data",
            json!({"cipher_text": ct, "additional_authenticated_data": "ctx-1"}),
        )
        .await;
    assert_eq!(
        (status, body["plain_text"].as_str()),
        (200, Some("hello token")),
        "{body}"
    );
    let (status, _) = s
        .kms(
            "decrypt-data",
            json!({"cipher_text": ct, "additional_authenticated_data": "ctx-2"}),
        )
        .await;
    assert_eq!(status, 400);
    let mut raw = B64.decode(&ct).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let (status, body) = s
        .kms("decrypt-data", json!({"cipher_text": B64.encode(&raw)}))
        .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.0308"), "{body}");

    // Data keys.
    let (status, body) = s
        .kms(
            "create-datakey",
            json!({"key_id": aes, "datakey_length": "256"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (plain, cipher) = (
        body["plain_text"].as_str().unwrap().to_owned(),
        body["cipher_text"].as_str().unwrap().to_owned(),
    );
    let (status, body) = s
        .kms(
            "decrypt-datakey",
            json!({"key_id": aes, "cipher_text": cipher, "datakey_cipher_length": "32"}),
        )
        .await;
    assert_eq!(
        (status, body["data_key"].as_str()),
        (200, Some(plain.as_str())),
        "{body}"
    );

    // Rotation is not offered for keys in a token.
    let (status, _) = s.kms("enable-key-rotation", json!({"key_id": aes})).await;
    assert_eq!(status, 400);

    // MACs.
    let hmac = create_key(&s, &store, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let msg = B64.encode(b"mac me");
    let (status, body) = s
        .kms(
            "generate-mac",
            json!({"key_id": hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mac = body["mac"].as_str().unwrap().to_owned();
    assert_eq!(B64.decode(&mac).unwrap().len(), 32);
    let (_, body) = s
        .kms(
            "verify-mac",
            json!({"key_id": hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg, "mac": mac}),
        )
        .await;
    assert_eq!(body["mac_valid"], json!(true), "{body}");
    let (_, body) = s.kms("verify-mac", json!({"key_id": hmac, "mac_algorithm": "HMAC_SHA_256", "message": B64.encode(b"other"), "mac": mac})).await;
    assert_eq!(body["mac_valid"], json!(false), "{body}");

    // ECDSA: signed in the token, verified by anyone with the public key.
    let ec = create_key(&s, &store, "EC_P256", "SIGN_VERIFY").await;
    let msg = B64.encode(b"sign me");
    let (status, body) = s.kms("sign", json!({"key_id": ec, "signing_algorithm": "ECDSA_SHA_256", "message": msg, "message_type": "RAW"})).await;
    assert_eq!(status, 200, "{body}");
    let sig = body["signature"].as_str().unwrap().to_owned();
    let (_, body) = s.kms("verify", json!({"key_id": ec, "signing_algorithm": "ECDSA_SHA_256", "message": msg, "message_type": "RAW", "signature": sig})).await;
    assert_eq!(body["signature_valid"].as_str(), Some("true"), "{body}");
    let (_, body) = s.kms("get-publickey", json!({"key_id": ec})).await;
    let pem = body["public_key"].as_str().unwrap();
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let public =
        p256::ecdsa::VerifyingKey::from_public_key_pem(&pem.replace("\r\n", "\n")).unwrap();
    let der = p256::ecdsa::Signature::from_der(&B64.decode(&sig).unwrap()).unwrap();
    assert!(public.verify(b"sign me", &der).is_ok());

    // Specs the token does not do, and imports, are refused.
    for (spec, usage) in [
        ("SM4", "ENCRYPT_DECRYPT"),
        ("SM2", "SIGN_VERIFY"),
        ("RSA_2048", "SIGN_VERIFY"),
    ] {
        let (status, body) = s.kms("create-key", json!({"key_alias": format!("no-{spec}"), "key_spec": spec, "key_usage": usage, "keystore_id": store})).await;
        assert_eq!((status, code_of(&body)), (400, "KMS.0308"), "{spec} {body}");
    }
    let (status, _) = s
        .kms(
            "create-key",
            json!({"key_alias": "ext", "origin": "external", "keystore_id": store}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = s
        .kms(
            "create-key",
            json!({"key_alias": "nope", "keystore_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f"}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (404, "KMS.0207"), "{body}");

    // A disabled key store's keys cannot be used; their details still show.
    let (status, _) = call(&s, "POST", &format!("/{store}/disable"), None).await;
    assert_eq!(status, 200);
    let (status, body) = s
        .kms("encrypt-data", json!({"key_id": aes, "plain_text": "x"}))
        .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9101"), "{body}");
    let (status, body) = s
        .kms(
            "decrypt-data",
            json!({"cipher_text": ct, "additional_authenticated_data": "ctx-1"}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9101"), "{body}");
    let (status, body) = s
        .kms(
            "generate-mac",
            json!({"key_id": hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9101"), "{body}");
    let (status, _) = s.kms("describe-key", json!({"key_id": aes})).await;
    assert_eq!(status, 200);
    call(&s, "POST", &format!("/{store}/enable"), None).await;

    // Delete is refused while the key store holds keys, pending deletion included.
    let (status, body) = call(&s, "DELETE", &format!("/{store}"), None).await;
    assert_eq!((status, code_of(&body)), (400, "KMS.9106"), "{body}");
    for key in [&aes, &hmac, &ec] {
        let (status, _) = s
            .kms(
                "schedule-key-deletion",
                json!({"key_id": key, "pending_days": "7"}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = call(&s, "DELETE", &format!("/{store}"), None).await;
    assert_eq!(status, 400);
    s.clock.advance(chrono::Duration::days(8));
    assert_eq!(dewstack::kms::sweep_deletions(&s.state).await.unwrap(), 3);
    let (status, body) = call(&s, "DELETE", &format!("/{store}"), None).await;
    assert_eq!(status, 200, "{body}");
}
