//! Grant records: `kms_grants` keyed `project/key_id/grant_id` (the owner's
//! project), and `kms_grants_retirable` keyed
//! `retiring_principal/project/key_id/grant_id` for ListRetirableGrants.

use super::grant_counts;
use crate::kms::error::KmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const GRANTS: &str = "kms_grants";
const RETIRABLE: &str = "kms_grants_retirable";

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    User,
    Domain,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::Domain => "domain",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct GrantRecord {
    pub grant_id: String,
    pub key_id: String,
    /// The key owner's project.
    pub project_id: String,
    pub name: String,
    pub grantee_principal: String,
    pub grantee_principal_type: PrincipalType,
    pub operations: Vec<String>,
    pub issuing_principal: String,
    pub retiring_principal: Option<String>,
    pub creation_ms: i64,
}

impl GrantRecord {
    /// Whether the grant names this caller: its user id, or its domain for domain grants.
    pub fn names(&self, user_id: &str, domain_id: &str) -> bool {
        match self.grantee_principal_type {
            PrincipalType::User => self.grantee_principal == user_id,
            PrincipalType::Domain => self.grantee_principal == domain_id,
        }
    }

    pub fn allows(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == operation)
    }
}

fn grant_key(project: &str, key_id: &str, grant_id: &str) -> String {
    format!("{project}/{key_id}/{grant_id}")
}

fn retirable_key(g: &GrantRecord, retiree: &str) -> String {
    format!(
        "{retiree}/{}",
        grant_key(&g.project_id, &g.key_id, &g.grant_id)
    )
}

pub fn insert(tx: &mut dyn Tx, g: &GrantRecord) -> Result<(), KmsError> {
    let row = grant_key(&g.project_id, &g.key_id, &g.grant_id);
    if tx.get(GRANTS, &row)?.is_none() {
        grant_counts::moved(tx, &g.project_id, &g.key_id, 1)?;
    }
    tx.put_json(GRANTS, &row, g)?;
    if let Some(r) = &g.retiring_principal {
        tx.put(RETIRABLE, &retirable_key(g, r), b"")?;
    }
    Ok(())
}

pub fn find(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    grant_id: &str,
) -> Result<Option<GrantRecord>, KmsError> {
    Ok(tx.get_json(GRANTS, &grant_key(project, key_id, grant_id))?)
}

pub fn remove(tx: &mut dyn Tx, g: &GrantRecord) -> Result<(), KmsError> {
    if tx.delete(GRANTS, &grant_key(&g.project_id, &g.key_id, &g.grant_id))? {
        grant_counts::moved(tx, &g.project_id, &g.key_id, -1)?;
    }
    if let Some(r) = &g.retiring_principal {
        tx.delete(RETIRABLE, &retirable_key(g, r))?;
    }
    Ok(())
}

/// Grants on one key, oldest first.
pub fn for_key(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<Vec<GrantRecord>, KmsError> {
    let mut all: Vec<GrantRecord> = tx
        .scan_json::<GrantRecord>(GRANTS, &format!("{project}/{key_id}/"))?
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    sort(&mut all);
    Ok(all)
}

/// The most grants any one key of `project` has (0 without grants), from
/// the kept counts.
pub fn most_on_one_key(tx: &mut dyn Tx, project: &str) -> Result<usize, KmsError> {
    grant_counts::most_on_one_key(tx, project)
}

/// Counts the grants stored before grants were counted (once).
pub fn count_existing(tx: &mut dyn Tx) -> Result<usize, KmsError> {
    grant_counts::rebuild(tx, GRANTS)
}

/// Size of the largest group of `key_id/grant_id` rows sharing a key id
/// (what the kept counts answer without reading the rows; the tests' oracle).
#[cfg(test)]
pub fn largest_group<'a>(rows: impl Iterator<Item = &'a str>) -> usize {
    let mut per_key: std::collections::HashMap<&str, usize> = Default::default();
    for row in rows {
        let key_id = row.split_once('/').map_or(row, |(k, _)| k);
        *per_key.entry(key_id).or_default() += 1;
    }
    per_key.into_values().max().unwrap_or(0)
}

/// Grants that `principal` may retire, oldest first.
pub fn retirable_by(tx: &mut dyn Tx, principal: &str) -> Result<Vec<GrantRecord>, KmsError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = tx.scan(RETIRABLE, &format!("{principal}/"), after.as_deref(), 500)?;
        let done = page.len() < 500;
        for (k, _) in page {
            let rest = k
                .split_once('/')
                .map(|(_, r)| r.to_owned())
                .unwrap_or_default();
            after = Some(k);
            let mut parts = rest.splitn(3, '/');
            if let (Some(p), Some(kid), Some(gid)) = (parts.next(), parts.next(), parts.next()) {
                if let Some(g) = find(tx, p, kid, gid)? {
                    out.push(g);
                }
            }
        }
        if done {
            break;
        }
    }
    sort(&mut out);
    Ok(out)
}

fn sort(grants: &mut [GrantRecord]) {
    grants.sort_by(|a, b| (a.creation_ms, &a.grant_id).cmp(&(b.creation_ms, &b.grant_id)));
}

/// Drops every grant of a key that is purged.
pub fn purge_key(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<(), KmsError> {
    for g in for_key(tx, project, key_id)? {
        remove(tx, &g)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_group_counts_grants_of_one_key() {
        assert_eq!(largest_group(std::iter::empty()), 0);
        assert_eq!(largest_group(["k1/g1"].into_iter()), 1);
        let rows = ["k1/g1", "k1/g2", "k2/g1", "k2/g2", "k2/g3", "k3/g1"];
        assert_eq!(largest_group(rows.into_iter()), 3);
        let rows = ["k1/g1", "k2/g1", "k1/g2", "k2/g2", "k1/g3"];
        assert_eq!(largest_group(rows.into_iter()), 3);
    }

    fn grant(project: &str, key: &str, id: &str) -> GrantRecord {
        GrantRecord {
            grant_id: id.into(),
            key_id: key.into(),
            project_id: project.into(),
            name: String::new(),
            grantee_principal: "u".into(),
            grantee_principal_type: PrincipalType::User,
            operations: vec!["encrypt-data".into()],
            issuing_principal: "i".into(),
            retiring_principal: Some("r".into()),
            creation_ms: 0,
        }
    }

    /// The kept counts answer what scanning the grants would, after every
    /// insert, remove and purge; another project's grants never count.
    fn counts_follow_writes(db: &crate::store::Db) {
        db.tx_blocking(|tx| {
            let scanned = |tx: &mut dyn Tx, p: &str| -> Result<usize, KmsError> {
                let prefix = format!("{p}/");
                let rows = tx.scan(GRANTS, &prefix, None, 10_000)?;
                let keys: Vec<String> = rows.into_iter().map(|(k, _)| k).collect();
                Ok(largest_group(
                    keys.iter().filter_map(|k| k.strip_prefix(&prefix)),
                ))
            };
            let check = |tx: &mut dyn Tx| -> Result<(), KmsError> {
                for p in ["gp1", "gp2"] {
                    assert_eq!(most_on_one_key(tx, p)?, scanned(tx, p)?, "{p}");
                }
                Ok(())
            };
            assert_eq!(count_existing(tx)?, 0);
            check(tx)?;
            let plan = [("k1", 3), ("k2", 5), ("k3", 1)];
            for (key, n) in plan {
                for i in 0..n {
                    insert(tx, &grant("gp1", key, &format!("g{i}")))?;
                    check(tx)?;
                }
            }
            insert(tx, &grant("gp2", "k9", "g0"))?;
            // Writing a grant again does not count it twice.
            insert(tx, &grant("gp1", "k2", "g0"))?;
            assert_eq!(most_on_one_key(tx, "gp1")?, 5);
            assert_eq!(most_on_one_key(tx, "gp2")?, 1);
            for i in 0..3 {
                remove(tx, &grant("gp1", "k2", &format!("g{i}")))?;
                check(tx)?;
            }
            assert_eq!(most_on_one_key(tx, "gp1")?, 3);
            remove(tx, &grant("gp1", "k2", "g0"))?; // already gone: no change
            purge_key(tx, "gp1", "k1")?;
            check(tx)?;
            assert_eq!(most_on_one_key(tx, "gp1")?, 2);
            purge_key(tx, "gp1", "k2")?;
            purge_key(tx, "gp1", "k3")?;
            assert_eq!(most_on_one_key(tx, "gp1")?, 0);
            assert_eq!(most_on_one_key(tx, "gp2")?, 1);
            Ok::<_, KmsError>(())
        })
        .unwrap();
    }

    #[test]
    fn grant_counts_follow_writes() {
        let dir = tempfile::tempdir().unwrap();
        counts_follow_writes(&crate::store::Db::open(dir.path(), None).unwrap());
    }

    #[test]
    fn grant_counts_follow_writes_on_postgres() {
        let Some(url) = crate::store::testing::fresh_database("grant_counts") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        counts_follow_writes(&crate::store::Db::open(dir.path(), Some(&url)).unwrap());
    }

    /// Grants stored before they were counted are counted once at start-up.
    #[test]
    fn grants_stored_before_counting_are_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::Db::open(dir.path(), None).unwrap();
        db.tx_blocking(|tx| {
            for (key, id) in [("k1", "a"), ("k1", "b"), ("k2", "a")] {
                // As an older dewstack wrote them: the record alone.
                tx.put_json(GRANTS, &grant_key("gp", key, id), &grant("gp", key, id))?;
            }
            assert_eq!(most_on_one_key(tx, "gp")?, 0);
            assert_eq!(count_existing(tx)?, 3);
            assert_eq!(most_on_one_key(tx, "gp")?, 2);
            assert_eq!(count_existing(tx)?, 0, "done once");
            remove(tx, &grant("gp", "k1", "a"))?;
            assert_eq!(most_on_one_key(tx, "gp")?, 1);
            Ok::<_, KmsError>(())
        })
        .unwrap();
    }
}
