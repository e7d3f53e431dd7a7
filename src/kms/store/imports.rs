//! Import parameters: `kms_import_params` (`project/key_id`, one live set per
//! key): the sealed wrapping private key and the token id it answers to.

use crate::kms::crypto::import_token::WrapAlg;
use crate::kms::error::KmsError;
use crate::store::{Tx, TxExt};
use serde::{Deserialize, Serialize};

const PARAMS: &str = "kms_import_params";

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ImportParams {
    pub token_id: String,
    pub algorithm: WrapAlg,
    /// PKCS#8 DER of the wrapping private key, sealed; base64.
    pub sealed_private_key: String,
    pub expires_ms: i64,
}

fn params_key(project: &str, key_id: &str) -> String {
    format!("{project}/{key_id}")
}

pub fn find(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
) -> Result<Option<ImportParams>, KmsError> {
    Ok(tx.get_json(PARAMS, &params_key(project, key_id))?)
}

pub fn save(
    tx: &mut dyn Tx,
    project: &str,
    key_id: &str,
    params: &ImportParams,
) -> Result<(), KmsError> {
    tx.put_json(PARAMS, &params_key(project, key_id), params)?;
    Ok(())
}

pub fn forget(tx: &mut dyn Tx, project: &str, key_id: &str) -> Result<(), KmsError> {
    tx.delete(PARAMS, &params_key(project, key_id))?;
    Ok(())
}
