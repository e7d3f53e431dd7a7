//! `[rotation_functions]` of the config file.

use serde::Deserialize;

/// `[rotation_functions]`: where CSMS finds the rotation function a secret's
/// `rotation_func_urn` names (dewstack has no FunctionGraph). Each entry maps a
/// function URN to a plain `http://` URL that every rotation step is POSTed
/// to, e.g. `"urn:fss:cn-north-4:proj:function:default:rotate:latest" =
/// "http://127.0.0.1:9000/rotate"`. Empty (the default): a secret that needs
/// a function fails to rotate, recorded as a FAILED task.
#[derive(Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct RotationFunctions(pub std::collections::BTreeMap<String, String>);

impl RotationFunctions {
    /// At most 1000 entries, each an `http://` URL of at most 2048 bytes (this
    /// build has no TLS client; dewstack's bounds).
    pub fn checked(self) -> anyhow::Result<Self> {
        if self.0.len() > 1000 {
            anyhow::bail!("rotation_functions: at most 1000 entries");
        }
        for (urn, url) in &self.0 {
            if !url.starts_with("http://") || url.len() > 2048 || urn.len() > 1024 {
                anyhow::bail!("rotation_functions: {urn:?} must map to an http:// URL");
            }
        }
        Ok(self)
    }

    pub fn url_for(&self, urn: &str) -> Option<&str> {
        self.0.get(urn).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn functions_map_urns_to_plain_http_urls() {
        let parsed: crate::config::FileConfig = toml::from_str(
            "[rotation_functions]\n\"urn:fss:r:p:function:default:f:latest\" = \"http://127.0.0.1:9/r\"\n",
        )
        .unwrap();
        let functions = parsed.rotation_functions.checked().unwrap();
        assert_eq!(
            functions.url_for("urn:fss:r:p:function:default:f:latest"),
            Some("http://127.0.0.1:9/r")
        );
        assert_eq!(functions.url_for("urn:other"), None);
        let tls: crate::config::FileConfig =
            toml::from_str("[rotation_functions]\n\"u\" = \"https://example.com/\"\n").unwrap();
        assert!(tls.rotation_functions.checked().is_err());
    }
}
