//! `checking_secret_strength` enforced: CreateSecret (and so
//! BatchImportSecrets) and CreateSecretVersion call `enforce_strength` before
//! sealing a new value. Apart from `checker.rs` (the handlers) so that the
//! create paths need nothing of CheckSecrets.

use crate::csms::checker;
use crate::csms::domain::SecretValue;
use crate::csms::error::CsmsError;
use crate::csms::store;
use crate::server::state::AppState;

/// Refuses a weak text value when the project has `checking_secret_strength`
/// on (dewstack's reading of the cloud's one-line description of the switch).
pub async fn enforce_strength(
    app: &AppState,
    project: &str,
    value: &SecretValue,
) -> Result<(), CsmsError> {
    let p = project.to_owned();
    let config = app.db.read(move |tx| store::checker_config(tx, &p)).await?;
    if config.checking_secret_strength {
        checker::enforce(&value.bytes, value.binary)?;
    }
    Ok(())
}
