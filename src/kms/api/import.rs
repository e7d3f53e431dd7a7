//! Imported key material (origin "external"): CreateParametersForImport,
//! ImportKeyMaterial, DeleteImportedKeyMaterial. The wrapping and the token
//! are in `crypto/import_token.rs`, the rules in `domain/import.rs`, the
//! parameters in `store/imports.rs`; the expiry sweep is in `jobs.rs`.

use crate::auth::Caller;
use crate::common::b64;
use crate::common::body::Body;
use crate::common::json::Json;
use crate::kms::access;
use crate::kms::crypto::import_token::{self as token, Imported, WrapAlg, TOKEN_TTL_MS};
use crate::kms::domain::{self, import as rules, KeyState};
use crate::kms::error::KmsError;
use crate::kms::store::{self, imports, imports::ImportParams, KeyVersion};
use crate::kms::wire::*;
use crate::server::state::AppState;
use axum::extract::State;

pub async fn create_parameters_for_import(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<GetParametersForImportRequest>,
) -> Result<Json<CreateParametersForImportResponse>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let algorithm = WrapAlg::parse(req.wrapping_algorithm.as_deref())?;
    rules::check_importable(&access::own_key(&app, &caller, &key_id).await?)?;
    let (keyring, rng, kid) = (app.keyring.clone(), app.rng.clone(), key_id.clone());
    let (sealed, public) =
        super::keygen::generate(move || token::wrapping_pair(&keyring, &rng, &kid, algorithm))
            .await?;
    let expires_ms = app.clock.now().timestamp_millis() + TOKEN_TTL_MS;
    let token_id = hex::encode(crate::common::crypto::random_bytes(&app.rng, 16).as_slice());
    let project = caller.project().to_owned();
    let import_token = token::seal_token(
        &app.keyring,
        &app.rng,
        &key_id,
        &project,
        &token_id,
        expires_ms,
    );
    let params = ImportParams {
        token_id,
        algorithm,
        sealed_private_key: b64::encode(sealed),
        expires_ms,
    };
    let kid = key_id.clone();
    app.db
        .tx(move |tx| {
            rules::check_importable(&store::load(tx, &project, &kid)?)?;
            imports::save(tx, &project, &kid, &params)
        })
        .await?;
    Ok(Json(CreateParametersForImportResponse {
        key_id,
        import_token,
        expiration_time: expires_ms / 1000,
        public_key: b64::encode(public),
    }))
}

/// ImportKeyMaterial's input, decoded.
struct Upload {
    key_id: String,
    token: String,
    wrapped: Vec<u8>,
    wrapped_private: Option<Vec<u8>>,
    expiration: Option<String>,
}

fn upload_of(req: ImportKeyMaterialRequest) -> Result<Upload, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    let token = req
        .import_token
        .ok_or(KmsError::MissingParameter("import_token"))?;
    let wrapped = domain::base64_field(
        req.encrypted_key_material.as_deref(),
        "encrypted_key_material",
    )?;
    let wrapped_private = req
        .encrypted_privatekey
        .filter(|p| !p.is_empty())
        .map(|p| b64::decode(p.trim()))
        .transpose()
        .map_err(|_| KmsError::InvalidParameter("encrypted_privatekey"))?;
    Ok(Upload {
        key_id,
        token,
        wrapped,
        wrapped_private,
        expiration: req.expiration_time,
    })
}

pub async fn import_key_material(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<ImportKeyMaterialRequest>,
) -> Result<Json<Empty>, KmsError> {
    let upload = upload_of(req)?;
    import_material(&app, &caller, upload).await?;
    Ok(Json(Empty {}))
}

/// Checks the token against the live parameters, unwraps the upload and
/// installs it as the key's only version.
async fn import_material(app: &AppState, caller: &Caller, up: Upload) -> Result<(), KmsError> {
    let now = app.clock.now().timestamp_millis();
    let expiration_ms = rules::parse_expiration(up.expiration.as_deref(), now)?;
    let claims = token::open_token(&app.keyring, &up.token, &up.key_id, now)?;
    if claims.project_id != caller.project() {
        return Err(KmsError::ImportTokenKeyMismatch);
    }
    let (project, kid) = (caller.project().to_owned(), up.key_id.clone());
    let (key, params) = app
        .db
        .tx(move |tx| {
            let key = store::load(tx, &project, &kid)?;
            rules::check_importable(&key)?;
            Ok::<_, KmsError>((key, imports::find(tx, &project, &kid)?))
        })
        .await?;
    let params = params
        .filter(|p| p.token_id == claims.token_id && p.expires_ms > now)
        .ok_or(KmsError::InvalidImportToken)?;
    let sealed_private = b64::decode(&params.sealed_private_key)
        .map_err(|_| KmsError::Internal("stored wrapping key is not base64".into()))?;
    let unwrapped = token::unwrap_material(
        &app.rng,
        &app.keyring,
        &up.key_id,
        &sealed_private,
        params.algorithm,
        &up.wrapped,
    )?;
    let Imported { material, identity } =
        token::imported_material(key.key_spec, unwrapped, up.wrapped_private.as_deref())?;
    let print = token::fingerprint(&up.key_id, &identity);
    let sealed = app.keyring.seal(&material, up.key_id.as_bytes());
    let token_id = claims.token_id;
    access::change_own_key(app, caller, &up.key_id, move |tx, key| {
        rules::check_importable(key)?;
        let current = imports::find(tx, &key.project_id, &key.key_id)?;
        if current.is_none_or(|p| p.token_id != token_id) {
            return Err(KmsError::InvalidImportToken);
        }
        rules::accept_fingerprint(key, &print)?;
        key.replace_versions(Some(KeyVersion {
            created_ms: now,
            sealed: sealed.clone(),
        }));
        key.expiration_ms = expiration_ms;
        key.key_state = KeyState::Enabled;
        imports::forget(tx, &key.project_id, &key.key_id)
    })
    .await?;
    Ok(())
}

pub async fn delete_imported_key_material(
    State(app): State<AppState>,
    caller: Caller,
    Body(req, _): KmsBody<OperateKeyRequest>,
) -> Result<Json<Empty>, KmsError> {
    domain::check_sequence(req.sequence.as_deref())?;
    let key_id = domain::parse_key_id(req.key_id.as_deref())?;
    access::change_own_key(&app, &caller, &key_id, |_, key| {
        rules::check_material_deletable(key)?;
        rules::drop_material(key);
        Ok(())
    })
    .await?;
    Ok(Json(Empty {}))
}
