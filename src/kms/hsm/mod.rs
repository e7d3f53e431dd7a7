//! The PKCS#11 tokens behind key stores (`[[hsm_clusters]]`): `token.rs`
//! owns a token's sessions and login, `ops.rs` the operations dewstack runs
//! in a token (key generation, AES-GCM, HMAC, ECDSA), all addressed by the
//! key id, which is each key object's `CKA_ID` and `CKA_LABEL`.

pub(crate) mod ops;
mod token;

pub use token::Token;

use crate::config::hsm::HsmCluster;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The configured tokens by HSM cluster id; empty without `[[hsm_clusters]]`.
#[derive(Default, Debug)]
pub struct Tokens {
    by_cluster: BTreeMap<String, Arc<Token>>,
}

impl Tokens {
    /// Loads each module once (a module may serve several tokens; PKCS#11
    /// allows one initialization per process) and opens every token.
    pub fn open(clusters: &[HsmCluster]) -> anyhow::Result<Self> {
        let mut modules: BTreeMap<PathBuf, Pkcs11> = BTreeMap::new();
        let mut by_cluster = BTreeMap::new();
        for cluster in clusters {
            let ctx = match modules.get(&cluster.module) {
                Some(ctx) => ctx.clone(),
                None => {
                    let ctx = Pkcs11::new(&cluster.module).map_err(|e| {
                        anyhow::anyhow!("cannot load {}: {e}", cluster.module.display())
                    })?;
                    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
                    modules.insert(cluster.module.clone(), ctx.clone());
                    ctx
                }
            };
            let token = Token::open(ctx, cluster)?;
            by_cluster.insert(cluster.hsm_cluster_id.clone(), Arc::new(token));
        }
        Ok(Self { by_cluster })
    }

    pub fn get(&self, cluster_id: &str) -> Option<&Arc<Token>> {
        self.by_cluster.get(cluster_id)
    }

    /// The cluster ids `domain_id` may create a key store on.
    pub fn clusters_for(&self, domain_id: &str) -> Vec<&str> {
        self.by_cluster
            .values()
            .filter(|t| t.domain_id.as_deref().is_none_or(|d| d == domain_id))
            .map(|t| t.cluster_id.as_str())
            .collect()
    }
}
