//! Wire types of the region operations (field names as the SDK models them).

use super::keys::TagItem;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct ListRegionsQuery {
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Serialize)]
pub struct ListSupportRegionsResponse {
    pub regions: Vec<String>,
}

/// `key_id` and `enterprise_project_id` are accepted as the SDK sends them:
/// the path names the key, and the replica is in the default enterprise project.
#[derive(Deserialize, Default)]
pub struct ReplicateKeyRequest {
    pub replica_region: Option<String>,
    pub key_alias: Option<String>,
    pub key_description: Option<String>,
    pub replica_project_id: Option<String>,
    #[allow(dead_code)] // accepted as the SDK sends it
    pub enterprise_project_id: Option<String>,
    pub tags: Option<Vec<TagItem>>,
}

#[derive(Serialize)]
pub struct ReplicateKeyResponse {
    pub key_id: String,
    pub domain_id: String,
    pub region: String,
}

#[derive(Deserialize, Default)]
pub struct UpdatePrimaryRegionRequest {
    pub primary_region: Option<String>,
}

#[derive(Serialize)]
pub struct UpdatePrimaryRegionResponse {
    pub key_id: String,
    pub primary_region: String,
}
