//! Keystone v3 request and response shapes, as Huawei IAM speaks them.

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct CreateTokenRequest {
    pub auth: Auth,
}

#[derive(Deserialize)]
pub struct Auth {
    pub identity: Identity,
    pub scope: Option<Scope>,
}

#[derive(Deserialize)]
pub struct Identity {
    pub methods: Vec<String>,
    pub password: Option<PasswordMethod>,
}

#[derive(Deserialize)]
pub struct PasswordMethod {
    pub user: UserRef,
}

#[derive(Deserialize)]
pub struct UserRef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub password: String,
    pub domain: Option<NamedRef>,
}

#[derive(Deserialize, Default)]
pub struct NamedRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub struct Scope {
    pub project: Option<ProjectScope>,
}

#[derive(Deserialize)]
pub struct ProjectScope {
    pub id: Option<String>,
    pub name: Option<String>,
    pub domain: Option<NamedRef>,
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub token: TokenBody,
}

#[derive(Serialize)]
pub struct TokenBody {
    pub methods: Vec<String>,
    pub expires_at: String,
    pub issued_at: String,
    pub user: TokenUser,
    pub project: TokenProject,
    pub roles: Vec<IdName>,
    pub catalog: Vec<serde_json::Value>,
}

#[derive(Serialize)]
pub struct TokenUser {
    pub domain: IdName,
    pub id: String,
    pub name: String,
    pub password_expires_at: String,
}

#[derive(Serialize)]
pub struct TokenProject {
    pub domain: IdName,
    pub id: String,
    pub name: String,
}

#[derive(Serialize, Clone)]
pub struct IdName {
    pub id: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct ProjectResult {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub parent_id: String,
    pub description: String,
    pub enabled: bool,
    pub is_domain: bool,
    pub links: Links,
}

#[derive(Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: String,
}

#[derive(Serialize)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectResult>,
    pub links: ListLinks,
}

#[derive(Serialize)]
pub struct ListLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Serialize)]
pub struct DomainResult {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub description: String,
    pub links: Links,
}

#[derive(Serialize)]
pub struct DomainsResponse {
    pub domains: Vec<DomainResult>,
    pub links: ListLinks,
}

#[derive(Deserialize)]
pub struct ProjectsQuery {
    pub name: Option<String>,
}
