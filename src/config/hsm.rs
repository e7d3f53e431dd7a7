//! `[[hsm_clusters]]`: the PKCS#11 tokens that back KMS key stores
//! (docs/keystores.md). Each entry is one "HSM cluster" in the cloud's terms:
//! CreateKeyStore names it by `hsm_cluster_id`, and the keys of that key store
//! are generated and used inside the token.

use super::redact::REDACTED;
use serde::Deserialize;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// dewstack's choice: more tokens than this in one config file is refused
/// (every entry keeps a session pool open).
pub const MAX_HSM_CLUSTERS: usize = 64;

/// One `[[hsm_clusters]]` entry as written in the file. The PIN itself is
/// never in the file: it is read from `pin_env` or `pin_file`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct HsmClusterFile {
    /// The id CreateKeyStore's `hsm_cluster_id` names; 1..=64 of `[A-Za-z0-9_-]`.
    pub hsm_cluster_id: String,
    /// The PKCS#11 module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token, by label (`token_label`) or by slot id (`slot`); exactly one.
    pub token_label: Option<String>,
    pub slot: Option<u64>,
    /// The user PIN: the name of an environment variable holding it, or a
    /// file whose content (trailing newline dropped) is it; exactly one.
    pub pin_env: Option<String>,
    pub pin_file: Option<PathBuf>,
    /// If set, only this domain (account) may create a key store on the
    /// token; default: any domain, the first to create one keeps it.
    pub domain_id: Option<String>,
    /// default 4: sessions opened on the token at most; further calls wait.
    pub max_sessions: Option<usize>,
}

/// How a token is found in its module's slot list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRef {
    Label(String),
    Slot(u64),
}

/// A resolved `[[hsm_clusters]]` entry, PIN read.
#[derive(Clone)]
pub struct HsmCluster {
    pub hsm_cluster_id: String,
    pub module: PathBuf,
    pub token: TokenRef,
    pub pin: Zeroizing<String>,
    pub domain_id: Option<String>,
    pub max_sessions: usize,
}

impl std::fmt::Debug for HsmCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmCluster")
            .field("hsm_cluster_id", &self.hsm_cluster_id)
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &REDACTED)
            .field("domain_id", &self.domain_id)
            .field("max_sessions", &self.max_sessions)
            .finish()
    }
}

/// Checks every entry and reads its PIN; `env` stands for `std::env::var`.
pub fn resolve(
    entries: &[HsmClusterFile],
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<HsmCluster>> {
    if entries.len() > MAX_HSM_CLUSTERS {
        anyhow::bail!("at most {MAX_HSM_CLUSTERS} [[hsm_clusters]] entries");
    }
    let mut out: Vec<HsmCluster> = Vec::with_capacity(entries.len());
    for e in entries {
        let id = &e.hsm_cluster_id;
        let id_ok = (1..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            anyhow::bail!("[[hsm_clusters]] hsm_cluster_id {id:?}: 1 to 64 of A-Z a-z 0-9 _ -");
        }
        if out.iter().any(|c| &c.hsm_cluster_id == id) {
            anyhow::bail!("[[hsm_clusters]] hsm_cluster_id {id:?} is listed twice");
        }
        let token = match (&e.token_label, e.slot) {
            (Some(label), None) if !label.is_empty() => TokenRef::Label(label.clone()),
            (None, Some(slot)) => TokenRef::Slot(slot),
            _ => anyhow::bail!("[[hsm_clusters]] {id}: give exactly one of token_label, slot"),
        };
        let pin = match (&e.pin_env, &e.pin_file) {
            (Some(var), None) => env(var).ok_or_else(|| {
                anyhow::anyhow!("[[hsm_clusters]] {id}: environment variable {var} is not set")
            })?,
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|err| {
                    anyhow::anyhow!(
                        "[[hsm_clusters]] {id}: cannot read {}: {err}",
                        path.display()
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            _ => anyhow::bail!("[[hsm_clusters]] {id}: give exactly one of pin_env, pin_file"),
        };
        let max_sessions = e.max_sessions.unwrap_or(4);
        if !(1..=64).contains(&max_sessions) {
            anyhow::bail!("[[hsm_clusters]] {id}: max_sessions must be 1 to 64");
        }
        out.push(HsmCluster {
            hsm_cluster_id: id.clone(),
            module: e.module.clone(),
            token,
            pin: Zeroizing::new(pin),
            domain_id: e.domain_id.clone(),
            max_sessions,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(toml_text: &str) -> Vec<HsmClusterFile> {
        #[derive(Deserialize)]
        struct F {
            hsm_clusters: Vec<HsmClusterFile>,
        }
        toml::from_str::<F>(toml_text).unwrap().hsm_clusters
    }

    #[test]
    fn pin_comes_from_env_and_is_never_printed() {
        let e = entry(
            "[[hsm_clusters]]\nhsm_cluster_id = \"c1\"\nmodule = \"/m.so\"\n\
             token_label = \"t\"\npin_env = \"PIN_VAR\"\n",
        );
        let env = |v: &str| (v == "PIN_VAR").then(|| "s3cret-pin".to_owned());
        let got = resolve(&e, env).unwrap();
        assert_eq!(got[0].pin.as_str(), "s3cret-pin");
        assert_eq!(got[0].token, TokenRef::Label("t".into()));
        assert_eq!(got[0].max_sessions, 4);
        let shown = format!("{got:?}");
        assert!(
            !shown.contains("s3cret-pin") && shown.contains(REDACTED),
            "{shown}"
        );
        let missing = resolve(&e, |_| None).unwrap_err().to_string();
        assert!(missing.contains("PIN_VAR") && !missing.contains("s3cret"));
    }

    #[test]
    fn pin_file_and_slot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "1234\n").unwrap();
        let text = format!(
            "[[hsm_clusters]]\nhsm_cluster_id = \"c1\"\nmodule = \"/m.so\"\nslot = 7\npin_file = {:?}\n",
            path.display().to_string()
        );
        let got = resolve(&entry(&text), |_| None).unwrap();
        assert_eq!(got[0].pin.as_str(), "1234");
        assert_eq!(got[0].token, TokenRef::Slot(7));
    }

    #[test]
    fn bad_entries_are_refused() {
        let base = "[[hsm_clusters]]\nmodule = \"/m.so\"\npin_env = \"P\"\n";
        let env = |_: &str| Some("p".to_owned());
        for bad in [
            format!("{base}hsm_cluster_id = \"c 1\"\ntoken_label = \"t\"\n"),
            format!("{base}hsm_cluster_id = \"c1\"\n"),
            format!("{base}hsm_cluster_id = \"c1\"\ntoken_label = \"t\"\nslot = 1\n"),
            format!("{base}hsm_cluster_id = \"c1\"\ntoken_label = \"t\"\nmax_sessions = 0\n"),
            format!("{base}hsm_cluster_id = \"c1\"\ntoken_label = \"t\"\n{base}hsm_cluster_id = \"c1\"\ntoken_label = \"u\"\n"),
        ] {
            assert!(resolve(&entry(&bad), env).is_err(), "{bad}");
        }
        let both = "[[hsm_clusters]]\nhsm_cluster_id = \"c1\"\nmodule = \"/m.so\"\n\
                    token_label = \"t\"\npin_env = \"P\"\npin_file = \"/p\"\n";
        assert!(resolve(&entry(both), env).is_err());
    }
}
