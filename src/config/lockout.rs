//! `[login_lockout]`.

use serde::Deserialize;

/// `[login_lockout]`: Huawei IAM's account lockout policy (IAM user guide,
/// "Login Authentication Policy"): after `failures` failed logins within
/// `reset_minutes` the user is locked for `lockout_minutes`, and a correct
/// password is refused until then. Ranges and defaults are IAM's.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct LockoutFileConfig {
    /// 3..=10, default 5
    pub failures: Option<u32>,
    /// 15..=60, default 15
    pub reset_minutes: Option<u32>,
    /// 15..=30, default 15
    pub lockout_minutes: Option<u32>,
}

/// The account lockout policy in force (see [`LockoutFileConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub failures: u32,
    pub reset_minutes: u32,
    pub lockout_minutes: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            reset_minutes: 15,
            lockout_minutes: 15,
        }
    }
}

impl LockoutPolicy {
    pub fn from_file(file: &LockoutFileConfig) -> anyhow::Result<Self> {
        let d = Self::default();
        let pick = |name: &str, v: Option<u32>, def: u32, lo: u32, hi: u32| match v {
            None => Ok(def),
            Some(v) if (lo..=hi).contains(&v) => Ok(v),
            Some(v) => Err(anyhow::anyhow!(
                "login_lockout.{name} = {v} is outside {lo}..={hi}"
            )),
        };
        Ok(Self {
            failures: pick("failures", file.failures, d.failures, 3, 10)?,
            reset_minutes: pick("reset_minutes", file.reset_minutes, d.reset_minutes, 15, 60)?,
            lockout_minutes: pick(
                "lockout_minutes",
                file.lockout_minutes,
                d.lockout_minutes,
                15,
                30,
            )?,
        })
    }
}
