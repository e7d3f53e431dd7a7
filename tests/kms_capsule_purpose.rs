//! Over HTTP: a data key capsule opens only through DecryptDatakeyCapsule. A
//! grantee allowed only decrypt-datakey (olga, another domain) once unwrapped
//! capsules by passing the fixed associated data capsules were sealed with;
//! now every route a data key ciphertext takes refuses a capsule.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::json;

const CAPSULE_AAD: &str = "dewstack/datakey-capsule/v1";

async fn olga(server: &TestServer, op: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let path = format!("/v1.0/{OTHER_PROJECT}/kms/{op}");
    let req = signed(
        &server.clock,
        "POST",
        &path,
        &body.to_string(),
        OTHER_AK,
        OTHER_SK,
    );
    server.send(req).await
}

#[tokio::test]
async fn a_grantee_with_decrypt_datakey_cannot_open_a_capsule() {
    let server = TestServer::start().await;
    let (s, made) = server
        .kms("create-key", json!({"key_alias": "capsules"}))
        .await;
    assert_eq!(s, 200, "{made}");
    let key = made["key_info"]["key_id"].as_str().unwrap().to_owned();
    let (s, capsule) = server
        .kms(
            "datakey-capsule/create",
            json!({"key_id": key, "datakey_length": "256"}),
        )
        .await;
    assert_eq!(s, 200, "{capsule}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(capsule["datakey_capsule"].as_str().unwrap())
        .unwrap();
    let as_datakey = hex::encode_upper(&bytes);

    let olga_id = server
        .state
        .directory
        .access_key(OTHER_AK)
        .unwrap()
        .user_id
        .clone();
    let (s, g) = server
        .kms(
            "create-grant",
            json!({"key_id": key, "grantee_principal": olga_id, "operations": ["decrypt-datakey"]}),
        )
        .await;
    assert_eq!(s, 200, "{g}");

    for aad in ["", CAPSULE_AAD, "anything"] {
        let (s, e) = olga(
            &server,
            "decrypt-datakey",
            json!({"key_id": key, "cipher_text": as_datakey, "datakey_cipher_length": "32",
                   "additional_authenticated_data": aad}),
        )
        .await;
        assert_eq!((s, code(&e)), (400, "KMS.2201"), "aad {aad:?}: {e}");
    }

    // Nor through ReEncrypt into a key of her own.
    let (s, own) = olga(&server, "create-key", json!({"key_alias": "mine"})).await;
    assert_eq!(s, 200, "{own}");
    let (s, e) = olga(
        &server,
        "re-encrypt",
        json!({"cipher_text": as_datakey, "destination_key_id": own["key_info"]["key_id"],
               "datakey_cipher_length": "32", "source_key_id": key,
               "source_additional_authenticated_data": CAPSULE_AAD}),
    )
    .await;
    assert_eq!((s, code(&e)), (400, "KMS.2201"), "{e}");

    // The owner still opens it as what it is.
    let (s, back) = server
        .kms(
            "datakey-capsule/decrypt",
            json!({"key_id": key, "datakey_capsule": capsule["datakey_capsule"]}),
        )
        .await;
    assert_eq!((s, &back["datakey"]), (200, &capsule["datakey"]), "{back}");
}

#[tokio::test]
async fn a_data_key_ciphertext_does_not_open_as_a_capsule() {
    let server = TestServer::start().await;
    let (_, made) = server.kms("create-key", json!({"key_alias": "dk"})).await;
    let key = made["key_info"]["key_id"].as_str().unwrap().to_owned();
    let (s, dk) = server
        .kms(
            "create-datakey",
            json!({"key_id": key, "datakey_length": "256"}),
        )
        .await;
    assert_eq!(s, 200, "{dk}");
    let raw = hex::decode(dk["cipher_text"].as_str().unwrap()).unwrap();
    let as_capsule = base64::engine::general_purpose::STANDARD.encode(raw);
    let (s, e) = server
        .kms(
            "datakey-capsule/decrypt",
            json!({"key_id": key, "datakey_capsule": as_capsule}),
        )
        .await;
    assert_eq!((s, code(&e)), (400, "KMS.2201"), "{e}");
    // The associated data old capsules carried is reserved for them.
    let (s, e) = server
        .kms(
            "create-datakey",
            json!({"key_id": key, "datakey_length": "256", "additional_authenticated_data": CAPSULE_AAD}),
        )
        .await;
    assert_eq!((s, code(&e)), (400, "KMS.0308"), "{e}");
}
