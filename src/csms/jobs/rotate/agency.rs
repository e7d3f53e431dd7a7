//! The service agency that lets CSMS call FunctionGraph (CreateAgency,
//! ShowAgency), kept per domain and secret type (`csms_agencies`
//! `domain/secret_type`). The cloud creates two agencies, one for CSMS and one
//! for FunctionGraph; dewstack records both names. A function rotation of a
//! secret whose domain has no agency for its type is refused, as in the cloud.

use crate::csms::error::CsmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const AGENCIES: &str = "csms_agencies";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Agency {
    pub agency_name: String,
    pub agency_id: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
struct AgencyRecord {
    agencies: Vec<Agency>,
    create_ms: i64,
}

/// CreateAgency/ShowAgency take the types the cloud lists: RDS-FG, GaussDB-FG.
pub fn parse_type(raw: Option<&str>) -> Result<String, CsmsError> {
    match raw {
        Some(t @ ("RDS-FG" | "GaussDB-FG")) => Ok(t.to_owned()),
        None | Some("") => Err(CsmsError::MissingParameter("secret_type")),
        Some(_) => Err(CsmsError::InvalidParameter("secret_type")),
    }
}

fn key(domain: &str, secret_type: &str) -> String {
    format!("{domain}/{secret_type}")
}

/// The domain's agencies for `secret_type`, made on the first call (names are
/// dewstack's choice; the cloud does not publish its own).
pub fn create(
    tx: &mut dyn Tx,
    rng: &crate::rng::Rng,
    domain: &str,
    secret_type: &str,
    now_ms: i64,
) -> Result<Vec<Agency>, CsmsError> {
    if let Some(found) = tx.get_json::<AgencyRecord>(AGENCIES, &key(domain, secret_type))? {
        return Ok(found.agencies);
    }
    let lower = secret_type.to_ascii_lowercase().replace('-', "_");
    let agencies: Vec<Agency> = ["csms", "fgs"]
        .iter()
        .map(|who| Agency {
            agency_name: format!("{who}_rotation_agency_{lower}"),
            agency_id: rng.uuid().simple().to_string(),
        })
        .collect();
    let record = AgencyRecord {
        agencies: agencies.clone(),
        create_ms: now_ms,
    };
    tx.put_json(AGENCIES, &key(domain, secret_type), &record)?;
    Ok(agencies)
}

pub fn granted(tx: &mut dyn Tx, domain: &str, secret_type: &str) -> Result<bool, CsmsError> {
    Ok(tx.get(AGENCIES, &key(domain, secret_type))?.is_some())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Db;

    #[tokio::test]
    async fn agencies_are_per_domain_and_type_and_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let rng = crate::rng::Rng::seeded(3);
        let (first, again, mine, other, other_type) = db
            .tx(move |tx| {
                let first = create(tx, &rng, "d1", "RDS-FG", 5)?;
                let again = create(tx, &rng, "d1", "RDS-FG", 6)?;
                Ok::<_, CsmsError>((
                    first,
                    again,
                    granted(tx, "d1", "RDS-FG")?,
                    granted(tx, "d2", "RDS-FG")?,
                    granted(tx, "d1", "GaussDB-FG")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first, again);
        assert!(mine && !other && !other_type);
        assert!(parse_type(Some("COMMON")).is_err());
        assert!(parse_type(None).is_err());
        assert_eq!(parse_type(Some("GaussDB-FG")).unwrap(), "GaussDB-FG");
    }
}
