//! Bodies of the grant operations. The cloud answers CreateGrants and
//! UpdateGrant in camelCase (`resourceId`, `granteeUser`, ...) and ListGrants
//! in snake_case; both as the published pages and the SDK models have them.

use crate::common::body::string_or_number;
use crate::csms::grants::GrantRecord;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct GrantRequest {
    pub resource_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub grantee_type: Option<String>,
    pub grantee_target_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub validity_time: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct GrantQuery {
    pub resource_id: Option<String>,
    pub grantee_user: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantData {
    pub uuid: String,
    pub resource_id: String,
    #[serde(rename = "type")]
    pub resource_type: &'static str,
    pub grantee_user: String,
    pub create_time: i64,
    pub update_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_time: Option<i64>,
    pub state: i32,
}

impl GrantData {
    pub fn of(g: &GrantRecord, now_ms: i64) -> Self {
        Self {
            uuid: g.id.clone(),
            resource_id: g.secret_id.clone(),
            resource_type: crate::csms::grants::SECRET,
            grantee_user: g.grantee.clone(),
            create_time: g.create_ms,
            update_time: g.update_ms,
            validity_time: g.validity_ms,
            state: g.state(now_ms),
        }
    }
}

#[derive(Serialize)]
pub struct GrantResponse {
    pub data: GrantData,
}

#[derive(Serialize)]
pub struct GrantUserInfo {
    pub user_id: String,
    pub user_name: String,
    pub create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_time: Option<i64>,
}

#[derive(Serialize)]
pub struct GrantDto {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub resource_type: &'static str,
    pub grantee_user: Vec<GrantUserInfo>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Serialize)]
pub struct ListGrantsResponse {
    pub data: GrantDto,
}
