//! The `[tls]` settings: flags, `DEWSTACK_TLS*` env and the config file's
//! `[tls]` table, flag over env over file (clap reads the env).

use clap::Args;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Args, Default, Debug, Clone)]
pub struct TlsArgs {
    /// Serve HTTPS on --listen instead of HTTP (certificate from --tls-cert/--tls-key,
    /// or a CA and server certificate generated once into the data dir).
    #[arg(long, env = "DEWSTACK_TLS")]
    pub tls: bool,
    /// Also serve HTTPS on this address, HTTP staying on --listen (implies TLS).
    #[arg(long, env = "DEWSTACK_TLS_LISTEN")]
    pub tls_listen: Option<String>,
    /// PEM certificate chain, server certificate first (with --tls-key).
    #[arg(long, env = "DEWSTACK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "DEWSTACK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `[tls]` in the config file; every field optional.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct TlsFileConfig {
    pub enabled: Option<bool>,
    pub listen: Option<String>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// Where HTTPS is served and with which certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// default false: plain HTTP only
    pub enabled: bool,
    /// default none: HTTPS on `listen` itself; some: HTTP on `listen`, HTTPS here
    pub listen: Option<String>,
    /// default none: the CA and server certificate generated in `<data_dir>/tls/`
    pub cert: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    pub fn resolve(args: TlsArgs, file: TlsFileConfig) -> anyhow::Result<Self> {
        let listen = args.tls_listen.or(file.listen);
        let cert = match (
            args.tls_cert.or(file.cert_file),
            args.tls_key.or(file.key_file),
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => anyhow::bail!("TLS needs both a certificate file and a key file, or neither"),
        };
        let enabled =
            args.tls || file.enabled.unwrap_or(false) || listen.is_some() || cert.is_some();
        Ok(Self {
            enabled,
            listen,
            cert,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_any_tls_setting_turns_it_on() {
        let file = TlsFileConfig {
            enabled: None,
            listen: Some("127.0.0.1:8443".into()),
            ..Default::default()
        };
        let got = TlsSettings::resolve(TlsArgs::default(), file.clone()).unwrap();
        assert!(got.enabled);
        assert_eq!(got.listen.as_deref(), Some("127.0.0.1:8443"));
        let args = TlsArgs {
            tls_listen: Some("[::1]:9443".into()),
            ..Default::default()
        };
        let got = TlsSettings::resolve(args, file).unwrap();
        assert_eq!(got.listen.as_deref(), Some("[::1]:9443"));
        let off = TlsSettings::resolve(TlsArgs::default(), TlsFileConfig::default()).unwrap();
        assert_eq!(off, TlsSettings::default());
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let file = TlsFileConfig {
            cert_file: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(TlsSettings::resolve(TlsArgs::default(), file).is_err());
    }
}
