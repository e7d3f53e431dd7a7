//! IAM handlers.

use super::directory::{Domain, Project, User};
use super::wire::*;
use crate::auth::token::{TokenClaims, TOKEN_LIFETIME_HOURS};
use crate::auth::Caller;
use crate::common::envelope::{render, Style};
use crate::common::json::Json;
use crate::server::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

fn error(status: StatusCode, message: &str) -> Response {
    render(Style::Keystone, status, "", message)
}

/// The store cannot count a login: refuse it rather than skip the lockout.
fn unavailable(e: crate::store::StoreError) -> Response {
    tracing::warn!(error = %e, "login lockout store unavailable");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable.",
    )
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A password login body is a few hundred bytes; dewstack's choice of bound
/// keeps an unauthenticated caller from making the server buffer more.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

pub async fn create_token(State(app): State<AppState>, req: axum::extract::Request) -> Response {
    let body = match crate::auth::read_body(
        req.into_body(),
        TOKEN_BODY_LIMIT,
        app.limits.body_read_timeout_secs,
    )
    .await
    {
        Ok(body) => body,
        Err(e) => return e.render(crate::auth::Service::Iam, ""),
    };
    let Ok(req) = serde_json::from_slice::<CreateTokenRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "The request body is invalid");
    };
    let auth = req.auth;
    let (Some(password), true) = (
        auth.identity.password,
        auth.identity.methods.iter().any(|m| m == "password"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Only the password method is supported",
        );
    };
    let user_ref = password.user;
    let dir = &app.directory;
    let domain_ref = user_ref.domain.unwrap_or_default();
    let domain = match (&domain_ref.id, &domain_ref.name) {
        (Some(id), _) => dir.domain(id),
        (None, Some(name)) => dir.domain_by_name(name),
        (None, None) => None,
    };
    let name = match (&user_ref.id, &user_ref.name) {
        (_, Some(n)) => Some(n.clone()),
        (Some(id), None) => domain
            .and_then(|d| d.users.iter().find(|u| &u.id == id))
            .map(|u| u.name.clone()),
        (None, None) => None,
    };
    // The lockout counts per user: domain id + user name. Names that match
    // nothing are counted under what the request gave, so that a locked
    // answer does not tell an existing user from a made-up one.
    let lock_domain = domain
        .map(|d| d.id.clone())
        .unwrap_or_else(|| format!("?{}", domain_ref.id.or(domain_ref.name).unwrap_or_default()));
    let lock_user = name
        .clone()
        .unwrap_or_else(|| format!("?{}", user_ref.id.clone().unwrap_or_default()));
    let known = domain
        .zip(name.as_deref())
        .is_some_and(|(d, n)| d.users.iter().any(|u| u.name == n));
    let now = app.clock.now();
    let locked = {
        let (dir, d, u) = (
            app.directory.clone(),
            lock_domain.clone(),
            lock_user.clone(),
        );
        app.db
            .read(move |tx| dir.lockout.is_locked(tx, &d, &u, known, now))
            .await
    };
    match locked {
        Ok(false) => {}
        // IAM documents the lockout policy but not how its token API answers
        // a locked user: dewstack's choice is the 401 of a wrong password,
        // with a message that says why, refused even for the right password.
        Ok(true) => {
            crate::ops::metrics::metrics().auth_failure("iam", "account_locked");
            return error(
                StatusCode::UNAUTHORIZED,
                "The account is locked after too many failed logins. Try again later.",
            );
        }
        Err(e) => return unavailable(e),
    }
    // A password changed through CSMS UpdateUserPassword (stored, hashed)
    // replaces the configured one.
    let named = domain
        .zip(name.as_deref())
        .and_then(|(d, n)| d.users.iter().find(|u| u.name == n).map(|u| (d, u)));
    let user = match named {
        Some((d, u)) => {
            match super::accounts::password_matches(&app, &d.id, &u.id, &user_ref.password).await {
                Ok(true) => Some(u),
                Ok(false) => None,
                Err(e) => return unavailable(e),
            }
        }
        None => None,
    };
    let counted = {
        let (dir, d, u, ok) = (
            app.directory.clone(),
            lock_domain,
            lock_user,
            user.is_some(),
        );
        app.db
            .tx(move |tx| {
                if ok {
                    dir.lockout.record_success(tx, &d, &u)
                } else {
                    dir.lockout.record_failure(tx, &d, &u, known, now)
                }
            })
            .await
    };
    if let Err(e) = counted {
        return unavailable(e);
    }
    let (Some(domain), Some(user)) = (domain, user) else {
        crate::ops::metrics::metrics().auth_failure("iam", "wrong_password");
        return error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    };
    let Some(project) = scoped_project(domain, auth.scope) else {
        return error(
            StatusCode::BAD_REQUEST,
            "A project scope of the user's domain is required",
        );
    };
    let expires = now + chrono::Duration::hours(TOKEN_LIFETIME_HOURS);
    let token = app.tokens.issue(&TokenClaims {
        domain_id: domain.id.clone(),
        user_id: user.id.clone(),
        project_id: project.id.clone(),
        issued_at: now.timestamp(),
        expires_at: expires.timestamp(),
    });
    let body = token_response(domain, user, project, now, expires);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&token) {
        headers.insert("x-subject-token", v);
    }
    (StatusCode::CREATED, headers, Json(body)).into_response()
}

fn token_response(
    domain: &Domain,
    user: &User,
    project: &Project,
    issued: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> TokenResponse {
    let domain_ref = IdName {
        id: domain.id.clone(),
        name: domain.name.clone(),
    };
    TokenResponse {
        token: TokenBody {
            methods: vec!["password".into()],
            expires_at: iso(expires),
            issued_at: iso(issued),
            user: TokenUser {
                domain: domain_ref.clone(),
                id: user.id.clone(),
                name: user.name.clone(),
                password_expires_at: String::new(),
            },
            project: TokenProject {
                domain: domain_ref,
                id: project.id.clone(),
                name: project.name.clone(),
            },
            roles: vec![IdName {
                id: "0".into(),
                name: "te_admin".into(),
            }],
            catalog: Vec::new(),
        },
    }
}

/// A project given by id, or by name within the user's domain (project
/// scopes naming another domain are refused).
fn scoped_project(domain: &Domain, scope: Option<Scope>) -> Option<&Project> {
    let p = scope?.project?;
    if let Some(d) = p.domain {
        let same = d.id.as_ref().is_none_or(|id| *id == domain.id)
            && d.name.as_ref().is_none_or(|n| *n == domain.name);
        if !same {
            return None;
        }
    }
    match (p.id, p.name) {
        (Some(id), _) => domain.projects.iter().find(|x| x.id == id),
        (None, Some(name)) => domain.projects.iter().find(|x| x.name == name),
        _ => None,
    }
}

pub async fn validate_token(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Response {
    let subject = headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match app.tokens.check(subject, app.clock.now()) {
        Ok(claims) if claims.domain_id == caller.domain_id => {
            let Some((domain, project)) = app.directory.project(&claims.project_id) else {
                return error(StatusCode::NOT_FOUND, "The token could not be found");
            };
            let Some(user) = app.directory.user(&claims.domain_id, &claims.user_id) else {
                return error(StatusCode::NOT_FOUND, "The token could not be found");
            };
            let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
            Json(token_response(
                domain,
                user,
                project,
                at(claims.issued_at),
                at(claims.expires_at),
            ))
            .into_response()
        }
        _ => error(StatusCode::NOT_FOUND, "The token could not be found"),
    }
}

fn project_result(domain: &Domain, p: &Project) -> ProjectResult {
    ProjectResult {
        id: p.id.clone(),
        name: p.name.clone(),
        domain_id: domain.id.clone(),
        parent_id: domain.id.clone(),
        description: String::new(),
        enabled: true,
        is_domain: false,
        links: Links {
            self_: format!("/v3/projects/{}", p.id),
        },
    }
}

fn caller_projects(app: &AppState, caller: &Caller, name: Option<&str>) -> ProjectsResponse {
    let projects = app
        .directory
        .domain(&caller.domain_id)
        .map(|d| {
            d.projects
                .iter()
                .filter(|p| name.is_none_or(|n| p.name == n))
                .map(|p| project_result(d, p))
                .collect()
        })
        .unwrap_or_default();
    ProjectsResponse {
        projects,
        links: ListLinks {
            self_: "/v3/projects".into(),
            previous: None,
            next: None,
        },
    }
}

pub async fn list_projects(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Response {
    match crate::common::query::parse::<ProjectsQuery>(query.as_deref().unwrap_or_default()) {
        Ok(q) => Json(caller_projects(&app, &caller, q.name.as_deref())).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e.0),
    }
}

pub async fn list_auth_projects(
    State(app): State<AppState>,
    caller: Caller,
) -> Json<ProjectsResponse> {
    Json(caller_projects(&app, &caller, None))
}

pub async fn list_auth_domains(
    State(app): State<AppState>,
    caller: Caller,
) -> Json<DomainsResponse> {
    let domains = app
        .directory
        .domain(&caller.domain_id)
        .map(|d| {
            vec![DomainResult {
                id: d.id.clone(),
                name: d.name.clone(),
                enabled: true,
                description: String::new(),
                links: Links {
                    self_: format!("/v3/domains/{}", d.id),
                },
            }]
        })
        .unwrap_or_default();
    Json(DomainsResponse {
        domains,
        links: ListLinks {
            self_: "/v3/auth/domains".into(),
            previous: None,
            next: None,
        },
    })
}
