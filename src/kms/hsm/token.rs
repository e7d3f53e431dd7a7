//! One PKCS#11 token: its module context, slot and PIN, and a bounded pool
//! of logged-in sessions. PKCS#11 calls block: async code reaches a token
//! through `Token::run` (the blocking pool); code already on a blocking
//! thread calls `with_session`. Either way at most `max_sessions` sessions
//! exist; a caller finding none idle and the bound reached waits.

use crate::config::hsm::{HsmCluster, TokenRef};
use crate::kms::error::KmsError;
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::sync::{Arc, Condvar, Mutex};
use zeroize::Zeroizing;

pub struct Token {
    pub cluster_id: String,
    /// Only this domain may create a key store on the token, when set.
    pub domain_id: Option<String>,
    ctx: Pkcs11,
    slot: Slot,
    pin: Zeroizing<String>,
    mechanisms: Vec<MechanismType>,
    pool: Mutex<Pool>,
    returned: Condvar,
    max_sessions: usize,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Session>,
    open: usize,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("cluster_id", &self.cluster_id)
            .field("slot", &self.slot.id())
            .finish_non_exhaustive()
    }
}

/// A PKCS#11 failure, worded without anything the token was given.
pub fn failed(what: &str, e: Error) -> KmsError {
    match e {
        Error::Pkcs11(
            RvError::DeviceError
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::DeviceMemory
            | RvError::SessionCount,
            _,
        ) => KmsError::HsmUnavailable,
        other => KmsError::Internal(format!("PKCS#11 {what}: {other}")),
    }
}

impl Token {
    /// Finds the token of `cluster` in `ctx` (an initialized module) and
    /// logs in once, so a wrong PIN or a missing token stops startup.
    pub fn open(ctx: Pkcs11, cluster: &HsmCluster) -> anyhow::Result<Self> {
        let id = &cluster.hsm_cluster_id;
        let slots = ctx.get_slots_with_token()?;
        let slot = match &cluster.token {
            TokenRef::Slot(n) => slots.into_iter().find(|s| s.id() == *n),
            TokenRef::Label(label) => slots.into_iter().find(|s| {
                ctx.get_token_info(*s)
                    .is_ok_and(|info| info.label().trim_end() == label)
            }),
        }
        .ok_or_else(|| anyhow::anyhow!("hsm cluster {id}: no such token ({:?})", cluster.token))?;
        let mechanisms = ctx.get_mechanism_list(slot)?;
        let token = Token {
            cluster_id: id.clone(),
            domain_id: cluster.domain_id.clone(),
            ctx,
            slot,
            pin: cluster.pin.clone(),
            mechanisms,
            pool: Mutex::new(Pool::default()),
            returned: Condvar::new(),
            max_sessions: cluster.max_sessions,
        };
        token
            .with_session(|_| Ok(()))
            .map_err(|e| anyhow::anyhow!("hsm cluster {id}: cannot log in: {e}"))?;
        Ok(token)
    }

    /// Whether the token offers `mechanism`.
    pub fn supports(&self, mechanism: MechanismType) -> bool {
        self.mechanisms.contains(&mechanism)
    }

    fn open_session(&self) -> Result<Session, KmsError> {
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| failed("open session", e))?;
        let pin = AuthPin::new(self.pin.as_str().into());
        match session.login(UserType::User, Some(&pin)) {
            // Login is per application and token: a pooled session did it.
            Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => Err(failed("login", e)),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Pool>, KmsError> {
        self.pool
            .lock()
            .map_err(|_| KmsError::Internal("HSM session pool poisoned".into()))
    }

    /// An idle session, or a new one while under the bound, else waits.
    fn take(&self) -> Result<Session, KmsError> {
        let mut pool = self.lock()?;
        loop {
            if let Some(s) = pool.idle.pop() {
                return Ok(s);
            }
            if pool.open < self.max_sessions {
                pool.open += 1;
                drop(pool);
                return self.open_session().inspect_err(|_| self.forget());
            }
            pool = self
                .returned
                .wait(pool)
                .map_err(|_| KmsError::Internal("HSM session pool poisoned".into()))?;
        }
    }

    fn forget(&self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.open = pool.open.saturating_sub(1);
        }
        self.returned.notify_one();
    }

    /// Runs `f` with a logged-in session, on the calling (blocking) thread.
    /// A session that fails and no longer answers is closed, not pooled.
    pub fn with_session<T>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, KmsError>,
    ) -> Result<T, KmsError> {
        let session = self.take()?;
        let out = f(&session);
        if out.is_ok() || session.get_session_info().is_ok() {
            if let Ok(mut pool) = self.pool.lock() {
                pool.idle.push(session);
            }
            self.returned.notify_one();
        } else {
            drop(session);
            self.forget();
        }
        out
    }

    /// `with_session` on the blocking pool.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, KmsError>
    where
        T: Send + 'static,
        F: FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.with_session(f))
            .await
            .map_err(|_| KmsError::Internal("HSM task failed".into()))?
    }
}
