//! Wire types of the key store operations (field names as the SDK models them).

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct CreateKeyStoreRequest {
    pub keystore_alias: Option<String>,
    pub hsm_cluster_id: Option<String>,
    // Accepted and not used: see `domain::keystore::NewKeystore::validate`.
    #[allow(dead_code)]
    pub hsm_ca_cert: Option<String>,
    pub cluster_id: Option<String>,
    pub keystore_type: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListKeyStoresQuery {
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Deserialize)]
pub struct KeystorePath {
    pub keystore_id: String,
}

/// `KeystoreInfo`, in CreateKeyStore's answer.
#[derive(Serialize)]
pub struct KeystoreInfo {
    pub keystore_id: String,
    pub domain_id: String,
}

#[derive(Serialize)]
pub struct CreateKeyStoreResponse {
    pub keystore: KeystoreInfo,
}

/// `KeystoreDetails`.
#[derive(Serialize)]
pub struct KeystoreDetails {
    pub keystore_id: String,
    pub domain_id: String,
    pub keystore_alias: String,
    pub keystore_type: String,
    pub hsm_cluster_id: String,
    pub cluster_id: String,
    pub create_time: String,
}

#[derive(Serialize)]
pub struct ShowKeyStoreResponse {
    pub keystore: KeystoreDetails,
}

#[derive(Serialize)]
pub struct ListKeyStoresResponse {
    pub total: i64,
    pub keystores: Vec<KeystoreDetails>,
}

/// `KeyStoreStateInfo`, in EnableKeyStore's and DisableKeyStore's answers.
#[derive(Serialize)]
pub struct KeyStoreStateInfo {
    pub keystore_id: String,
    pub keystore_state: String,
}

#[derive(Serialize)]
pub struct KeyStoreStateResponse {
    pub keystore: KeyStoreStateInfo,
}
