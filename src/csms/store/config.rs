//! The secret checker's settings per project (ShowSecretsConfig,
//! UpdateSecretsConfig): table `csms_checker_config`, key `project`.

use crate::csms::error::CsmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const CONFIG: &str = "csms_checker_config";

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckerConfig {
    /// Off until turned on (dewstack's choice: the cloud publishes no default,
    /// and refusing values a user could store yesterday would surprise).
    pub checking_secret_strength: bool,
}

pub fn checker_config(tx: &mut dyn Tx, project: &str) -> Result<CheckerConfig, CsmsError> {
    Ok(tx.get_json(CONFIG, project)?.unwrap_or_default())
}

pub fn set_checker_config(
    tx: &mut dyn Tx,
    project: &str,
    config: &CheckerConfig,
) -> Result<(), CsmsError> {
    Ok(tx.put_json(CONFIG, project, config)?)
}
