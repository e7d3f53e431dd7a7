//! Wire types of the alias operations (field names as the SDK models them).

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct CreateAliasRequest {
    pub key_id: Option<String>,
    pub alias: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AssociateAliasRequest {
    pub alias: Option<String>,
    pub target_key_id: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DeleteAliasRequest {
    pub aliases: Option<Vec<String>>,
    pub key_id: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListAliasesQuery {
    pub key_id: Option<String>,
    pub limit: Option<String>,
    pub marker: Option<String>,
}

/// `AliasEntity`, also the whole body of CreateAlias and AssociateAlias.
#[derive(Serialize, Debug)]
pub struct AliasEntity {
    pub domain_id: String,
    pub key_id: String,
    pub alias: String,
    pub alias_urn: String,
    pub create_time: String,
    pub update_time: String,
}

#[derive(Serialize)]
pub struct PageInfo {
    pub next_marker: String,
    pub current_count: i64,
}

/// One element of the ListAliases body, which the SDK models as a JSON
/// array (`list[ListAliasResponseBody]`), not as an object.
#[derive(Serialize)]
pub struct ListAliasResponseBody {
    pub aliases: Vec<AliasEntity>,
    pub page_info: PageInfo,
}
