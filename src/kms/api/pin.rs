//! CreatePin. The cloud makes PINs for level-4 cryptographic assessment
//! deployments, where data keys live in HSMs that check them; a PlainText PIN
//! is returned as is, a CipherText PIN encrypted inside the keystore named by
//! `keystore_id` (required for that type). dewstack has no HSM: a plaintext
//! PIN is 16 random bytes in hex; a ciphertext PIN is such a PIN sealed under
//! the root key (AES-256-GCM), bound to the project and keystore, so it is
//! opaque to the caller as in the cloud. The data key operations accept and
//! ignore PINs (`domain::check_pin_type`), so nothing needs to open it.

use crate::auth::Caller;
use crate::common::body::Body;
use crate::common::crypto::random_bytes;
use crate::common::json::Json;
use crate::kms::domain::{self, PinType};
use crate::kms::error::KmsError;
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;
use zeroize::Zeroizing;

const PIN_BYTES: usize = 16;

/// Keystores a ciphertext PIN may name: dewstack's one keystore ("0", the id
/// its keys report) and the cloud's two shared clusters ("1" management
/// plane, "2" data plane), which every tenant may use. Any other id would be
/// a tenant's dedicated keystore, which dewstack does not have.
fn check_keystore(raw: Option<&str>) -> Result<&str, KmsError> {
    match raw {
        None | Some("") => Err(KmsError::MissingParameter("keystore_id")),
        Some(id @ ("0" | "1" | "2")) => Ok(id),
        Some(_) => Err(KmsError::InvalidParameter("keystore_id")),
    }
}

fn sealing_aad(project: &str, keystore: &str) -> Vec<u8> {
    format!("dewstack/pin/v1/{project}/{keystore}").into_bytes()
}

pub async fn create_pin(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): Body<CreatePinRequest, KmsError>,
) -> Result<Json<CreatePinResponse>, KmsError> {
    let kind = domain::check_pin_type(req.pin_type.as_deref())?;
    let plain = Zeroizing::new(hex::encode_upper(
        random_bytes(&app.rng, PIN_BYTES).as_slice(),
    ));
    let pin = match kind {
        PinType::PlainText => plain.to_string(),
        PinType::CipherText => {
            let keystore = check_keystore(req.keystore_id.as_deref())?;
            let sealed = app
                .keyring
                .seal(plain.as_bytes(), &sealing_aad(caller.project(), keystore));
            crate::common::b64::encode(sealed)
        }
    };
    Ok(Json(CreatePinResponse { pin }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystores() {
        for ok in ["0", "1", "2"] {
            assert_eq!(check_keystore(Some(ok)).unwrap(), ok);
        }
        assert!(matches!(
            check_keystore(None),
            Err(KmsError::MissingParameter(_))
        ));
        assert!(matches!(
            check_keystore(Some("ks-9")),
            Err(KmsError::InvalidParameter(_))
        ));
    }

    #[test]
    fn sealed_pins_are_bound_to_project_and_keystore() {
        let sealer = crate::common::crypto::Sealer::new(&[3; 32], crate::rng::Rng::seeded(3));
        let sealed = sealer.seal(b"PIN", &sealing_aad("p1", "1"));
        assert!(sealer.open(&sealed, &sealing_aad("p1", "1")).is_ok());
        assert!(sealer.open(&sealed, &sealing_aad("p2", "1")).is_err());
        assert!(sealer.open(&sealed, &sealing_aad("p1", "2")).is_err());
    }
}
