//! Who exists: domains, their projects, users and access keys. The root
//! identity comes from the environment or is generated once and kept in the
//! data dir (`identity.json`, mode 0600); further tenants come from the config file.

use super::lockout::Lockout;
use crate::common::crypto::{ct_eq, write_private_file};
use crate::config::{Config, DomainConfig, LockoutPolicy};
use crate::rng::Rng;
use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use zeroize::Zeroizing;

pub const IDENTITY_FILE: &str = "identity.json";

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    password: Zeroizing<String>,
}

impl User {
    /// Whether `password` is the one the config file (or environment) gives
    /// this user, compared in constant time.
    pub fn configured_password_is(&self, password: &str) -> bool {
        ct_eq(self.password.as_bytes(), password.as_bytes())
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("password", &crate::config::REDACTED)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub projects: Vec<Project>,
    pub users: Vec<User>,
}

pub struct AccessKey {
    pub secret_key: Zeroizing<String>,
    pub domain_id: String,
    pub user_id: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("secret_key", &crate::config::REDACTED)
            .field("domain_id", &self.domain_id)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// The identity every request resolves to once its credentials check out.
#[derive(Debug, Clone)]
pub struct Principal {
    pub domain_id: String,
    pub user_id: String,
    /// Tokens are scoped to one project; AK/SK may act in every project of the domain.
    pub scoped_project: Option<String>,
}

#[derive(Debug)]
pub struct Directory {
    pub domains: Vec<Domain>,
    access_keys: HashMap<String, AccessKey>,
    /// Failed password logins and locked users.
    pub lockout: Lockout,
    /// The served regions, the default first (`regions.rs`).
    regions: Vec<String>,
}

/// The persisted root identity.
#[derive(Serialize, Deserialize, Clone)]
pub struct RootIdentity {
    pub domain_id: String,
    pub domain_name: String,
    pub project_id: String,
    pub user_name: String,
    pub user_id: String,
    /// Absent from the file when the environment supplies it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    pub access_key: String,
    /// Absent from the file when the environment supplies it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_key: String,
}

impl std::fmt::Debug for RootIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootIdentity")
            .field("domain_id", &self.domain_id)
            .field("project_id", &self.project_id)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

pub fn hex_id(rng: &Rng) -> String {
    hex::encode(rng.array::<16>())
}

pub(super) fn upper_alnum(rng: &Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len)
        .map(|_| CHARS[rng.in_range(0..CHARS.len() as u64) as usize] as char)
        .collect()
}

pub(super) fn alnum(rng: &Rng, len: usize) -> String {
    Alphanumeric.sample_string(&mut rng.csprng(), len)
}

impl RootIdentity {
    /// Loads `identity.json`, applies environment overrides, generates what is
    /// still missing (from `rng`) and writes the result back.
    pub fn load_or_create(config: &Config, rng: &Rng) -> anyhow::Result<Self> {
        let path = config.data_dir.join(IDENTITY_FILE);
        let stored: Option<RootIdentity> = match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let o = &config.root;
        let pick = |env: &Option<String>, old: Option<&String>, new: &dyn Fn() -> String| {
            // An empty value in the file means "not stored".
            env.clone()
                .or_else(|| old.filter(|v| !v.is_empty()).cloned())
                .unwrap_or_else(new)
        };
        let s = stored.as_ref();
        let user_name = pick(&o.user, s.map(|s| &s.user_name), &|| "admin".into());
        let domain_id = pick(&o.domain_id, s.map(|s| &s.domain_id), &|| hex_id(rng));
        // A new user id is derived from the domain and the name, not drawn at
        // random: nodes given the same identity (several nodes on one
        // PostgreSQL database) then accept each other's tokens.
        let user_id = s
            .map(|s| s.user_id.clone())
            .unwrap_or_else(|| derived_id(&domain_id, &user_name));
        let identity = RootIdentity {
            domain_id,
            domain_name: s
                .map(|s| s.domain_name.clone())
                .unwrap_or_else(|| "dewstack".into()),
            project_id: pick(&o.project_id, s.map(|s| &s.project_id), &|| hex_id(rng)),
            user_id,
            user_name,
            password: pick(&o.password, s.map(|s| &s.password), &|| {
                Alphanumeric.sample_string(&mut rng.csprng(), 24)
            }),
            access_key: pick(&o.access_key, s.map(|s| &s.access_key), &|| {
                upper_alnum(rng, 20)
            }),
            secret_key: pick(&o.secret_key, s.map(|s| &s.secret_key), &|| {
                Alphanumeric.sample_string(&mut rng.csprng(), 40)
            }),
        };
        // Only what dewstack chose is kept: a password or secret key the
        // operator supplies through the environment is not written to disk
        // (the environment supplies it again on the next start).
        let mut kept = identity.clone();
        if o.password.is_some() {
            kept.password = String::new();
        }
        if o.secret_key.is_some() {
            kept.secret_key = String::new();
        }
        let bytes = serde_json::to_vec_pretty(&kept)?;
        write_private_file(&path, &bytes)?;
        Ok(identity)
    }
}

impl Directory {
    pub fn build(
        root: &RootIdentity,
        region: &str,
        extra: &[DomainConfig],
    ) -> anyhow::Result<Self> {
        let mut dir = Directory {
            domains: Vec::new(),
            access_keys: HashMap::new(),
            lockout: Lockout::new(LockoutPolicy::default()),
            regions: vec![region.to_owned()],
        };
        dir.domains.push(Domain {
            id: root.domain_id.clone(),
            name: root.domain_name.clone(),
            projects: vec![Project {
                id: root.project_id.clone(),
                name: region.to_owned(),
            }],
            users: vec![User {
                id: root.user_id.clone(),
                name: root.user_name.clone(),
                password: Zeroizing::new(root.password.clone()),
            }],
        });
        dir.add_key(
            &root.access_key,
            &root.secret_key,
            &root.domain_id,
            &root.user_id,
        )?;
        for d in extra {
            dir.add_domain(d)?;
        }
        Ok(dir)
    }

    /// The same directory under another lockout policy (IAM's by default).
    pub fn with_lockout(mut self, policy: LockoutPolicy) -> Self {
        self.lockout = Lockout::new(policy);
        self
    }

    fn add_key(
        &mut self,
        ak: &str,
        sk: &str,
        domain_id: &str,
        user_id: &str,
    ) -> anyhow::Result<()> {
        let key = AccessKey {
            secret_key: Zeroizing::new(sk.to_owned()),
            domain_id: domain_id.to_owned(),
            user_id: user_id.to_owned(),
        };
        if self.access_keys.insert(ak.to_owned(), key).is_some() {
            anyhow::bail!("access key {ak} is declared twice");
        }
        Ok(())
    }

    fn add_domain(&mut self, d: &DomainConfig) -> anyhow::Result<()> {
        if self
            .domains
            .iter()
            .any(|x| x.id == d.id || x.name == d.name)
        {
            anyhow::bail!("domain {} ({}) is declared twice", d.name, d.id);
        }
        for p in &d.projects {
            if self.project(&p.id).is_some() {
                anyhow::bail!("project {} is declared twice", p.id);
            }
        }
        let users: Vec<User> = d
            .users
            .iter()
            .map(|u| User {
                // Stable across restarts without storing anything: derived from the names.
                id: u.id.clone().unwrap_or_else(|| derived_id(&d.id, &u.name)),
                name: u.name.clone(),
                password: Zeroizing::new(u.password.clone()),
            })
            .collect();
        for k in &d.access_keys {
            let user = users.iter().find(|u| u.name == k.user).ok_or_else(|| {
                anyhow::anyhow!("access key {} names unknown user {}", k.access_key, k.user)
            })?;
            let user_id = user.id.clone();
            self.add_key(&k.access_key, &k.secret_key, &d.id, &user_id)?;
        }
        self.domains.push(Domain {
            id: d.id.clone(),
            name: d.name.clone(),
            projects: d
                .projects
                .iter()
                .map(|p| Project {
                    id: p.id.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            users,
        });
        Ok(())
    }

    pub fn access_key(&self, ak: &str) -> Option<&AccessKey> {
        self.access_keys.get(ak)
    }

    /// The access keys the config file (or environment) gives a user.
    pub fn access_keys_of(&self, domain_id: &str, user_id: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .access_keys
            .iter()
            .filter(|(_, k)| k.domain_id == domain_id && k.user_id == user_id)
            .map(|(ak, _)| ak.as_str())
            .collect();
        keys.sort_unstable();
        keys
    }

    pub fn domain(&self, id: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.id == id)
    }

    pub fn domain_by_name(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The project and the domain that owns it.
    pub fn project(&self, id: &str) -> Option<(&Domain, &Project)> {
        self.domains
            .iter()
            .find_map(|d| d.projects.iter().find(|p| p.id == id).map(|p| (d, p)))
    }

    pub fn user(&self, domain_id: &str, user_id: &str) -> Option<&User> {
        self.domain(domain_id)?
            .users
            .iter()
            .find(|u| u.id == user_id)
    }

    /// Checks a password in constant time; unknown users cost the same as wrong passwords.
    pub fn check_password<'a>(
        &'a self,
        domain: &'a Domain,
        user_name: &str,
        password: &str,
    ) -> Option<&'a User> {
        let user = domain.users.iter().find(|u| u.name == user_name);
        let expected = user
            .map(|u| u.password.as_bytes())
            .unwrap_or(b"\0never-matches\0");
        let ok = ct_eq(expected, password.as_bytes());
        user.filter(|_| ok)
    }

    /// Whether a caller is the root identity: the first user of the first
    /// domain, which `build` makes from `RootIdentity`.
    pub fn is_root(&self, domain_id: &str, user_id: &str) -> bool {
        self.domains
            .first()
            .filter(|d| d.id == domain_id)
            .and_then(|d| d.users.first())
            .is_some_and(|u| u.id == user_id)
    }

    /// Every project id of every domain: used to set up per-project defaults at start.
    pub fn all_projects(&self) -> impl Iterator<Item = (&Domain, &Project)> {
        self.domains
            .iter()
            .flat_map(|d| d.projects.iter().map(move |p| (d, p)))
    }
}

fn derived_id(domain_id: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{domain_id}/user/{name}").as_bytes());
    hex::encode(&digest[..16])
}

mod regions;
#[cfg(test)]
mod tests;
