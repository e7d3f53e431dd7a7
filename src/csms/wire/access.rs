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

#[derive(Deserialize, Default)]
pub struct ListUsersQuery {
    pub org_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub offset: Option<String>,
    #[serde(default, deserialize_with = "string_or_number::deserialize")]
    pub limit: Option<String>,
    pub user_info: Option<String>,
}

#[derive(Serialize)]
pub struct OrgRelation {
    pub org_id: String,
    pub relation_type: &'static str,
}

/// One user as ListUsers (`UsersDetailsResult`) and ShowUserDetail show it.
/// `disabled` and `grade` are strings in the list and a boolean and an
/// integer in the detail, as the published pages type them.
#[derive(Serialize)]
pub struct UserDetail<D: Serialize, G: Serialize> {
    pub user_id: String,
    pub org_id: String,
    pub user_name: String,
    pub name: String,
    pub mobile: String,
    pub email: String,
    pub pwd_must_modify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pwd_change_at: Option<String>,
    pub disabled: D,
    pub grade: G,
    pub locked: String,
    pub extension: serde_json::Map<String, serde_json::Value>,
    pub user_org_relation_list: Vec<OrgRelation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
}

#[derive(Serialize)]
pub struct ListUsersResponse {
    pub total: i64,
    pub users: Vec<UserDetail<String, String>>,
}

#[derive(Deserialize, Default)]
pub struct ChangePasswordRequest {
    pub password: Option<String>,
    pub old_password: Option<String>,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest { .. }")
    }
}

#[derive(Serialize)]
pub struct ChangePasswordResponse {
    pub user_id: String,
}
