//! HTTPS for `serve --tls`: the certificate the operator gives, or a private
//! CA and a server certificate made once in `<data_dir>/tls/` and reused on
//! every start. Clients trust `ca.pem`; the server certificate is issued again
//! only when the names it must cover change or it nears its end.

use super::listen::Listener;
use crate::common::crypto::{create_private_dir, write_private_file};
use crate::config::Config;
use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Names every generated server certificate covers, besides the listen hosts.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// dewstack's choice: a server certificate lives 397 days (the longest that
/// browsers and Apple's TLS stack accept) and is issued again 30 days before.
const SERVER_DAYS: i64 = 397;
const RENEW_DAYS: i64 = 30;
const CA_YEARS: i32 = 10;
const CA_NAME: &str = "dewstack local CA";

/// The acceptor, and where the CA clients should trust is (generated only).
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_file: Option<PathBuf>,
    pub cert_file: PathBuf,
}

/// Builds the acceptor from `cert` (chain and key files) or, without one,
/// from the generated CA in `data_dir`, covering `hosts` as well.
pub fn load(
    cert: Option<&(PathBuf, PathBuf)>,
    data_dir: &Path,
    hosts: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<Tls> {
    let (cert_file, key_file, ca_file) = match cert {
        Some((c, k)) => (c.clone(), k.clone(), None),
        None => {
            let dir = data_dir.join("tls");
            ensure_generated(&dir, hosts, now)?;
            (
                dir.join("server.pem"),
                dir.join("server-key.pem"),
                Some(dir.join("ca.pem")),
            )
        }
    };
    let chain = CertificateDer::pem_file_iter(&cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read TLS certificates from {}", cert_file.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "no certificate in {}",
        cert_file.display()
    );
    let key = PrivateKeyDer::from_pem_file(&key_file)
        .with_context(|| format!("cannot read a TLS private key from {}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and key do not make a usable pair")?;
    // The SDKs speak HTTP/1.1 only, as the plain listener does.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_file,
        cert_file,
    })
}

/// The names a server certificate covers: the local ones and every listen
/// host that names a machine (not the wildcard addresses).
pub fn server_names(listen_hosts: &[String]) -> Vec<String> {
    let mut names: Vec<String> = LOCAL_NAMES.iter().map(|s| s.to_string()).collect();
    for host in listen_hosts {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let wildcard = matches!(host, "" | "0.0.0.0" | "::");
        if !wildcard && !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
    }
    names
}

/// The host part of a listen address (`host:port`, `[v6]:port`).
pub fn host_of(listen: &str) -> String {
    listen
        .rsplit_once(':')
        .map_or(listen, |(h, _)| h)
        .to_owned()
}

/// What the server listens on, as URLs.
pub struct Endpoints {
    /// `--listen`: HTTP, or HTTPS under `--tls` without `--tls-listen`.
    pub main: String,
    /// The HTTPS endpoint, when TLS is on (`main` itself or `--tls-listen`).
    pub https: Option<String>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
}

/// Binds `listen` (and `tls.listen`), with the TLS acceptor where it belongs.
pub async fn bind(
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<Listener>, Endpoints)> {
    let main = TcpListener::bind(&config.listen).await?;
    let main_addr = main.local_addr()?;
    let settings = &config.tls;
    if !settings.enabled {
        let endpoints = Endpoints {
            main: format!("http://{main_addr}"),
            https: None,
            ca_file: None,
            cert_file: None,
        };
        return Ok((
            vec![Listener {
                tcp: main,
                tls: None,
            }],
            endpoints,
        ));
    }
    let mut hosts = vec![host_of(&config.listen)];
    hosts.extend(settings.listen.as_deref().map(host_of));
    let tls = load(
        settings.cert.as_ref(),
        &config.data_dir,
        &server_names(&hosts),
        now,
    )?;
    let (ca_file, cert_file) = (tls.ca_file.clone(), Some(tls.cert_file.clone()));
    Ok(match &settings.listen {
        None => {
            let url = format!("https://{main_addr}");
            let endpoints = Endpoints {
                main: url.clone(),
                https: Some(url),
                ca_file,
                cert_file,
            };
            (
                vec![Listener {
                    tcp: main,
                    tls: Some(tls.acceptor),
                }],
                endpoints,
            )
        }
        Some(addr) => {
            let second = TcpListener::bind(addr).await?;
            let https = format!("https://{}", second.local_addr()?);
            let endpoints = Endpoints {
                main: format!("http://{main_addr}"),
                https: Some(https),
                ca_file,
                cert_file,
            };
            let listeners = vec![
                Listener {
                    tcp: main,
                    tls: None,
                },
                Listener {
                    tcp: second,
                    tls: Some(tls.acceptor),
                },
            ];
            (listeners, endpoints)
        }
    })
}

impl Endpoints {
    /// The banner's HTTPS section: where the CA is and how each SDK trusts it.
    pub fn trust_help(&self) -> String {
        let Some(https) = &self.https else {
            return String::new();
        };
        let cert = self.cert_file.as_deref().map(Path::display);
        let Some(ca) = self.ca_file.as_deref().map(Path::display) else {
            return format!(
                "HTTPS on {https} with the certificate in {}\n  clients must trust the CA that issued it\nexport DEWSTACK_TLS_ENDPOINT={https}\n",
                cert.map(|c| c.to_string()).unwrap_or_default()
            );
        };
        format!(
            r#"HTTPS on {https}, certificate issued by dewstack's own CA
  CA to trust   {ca}
  Go SDK        export SSL_CERT_FILE={ca}   (replaces the system roots for that process)
  Python SDK    export REQUESTS_CA_BUNDLE={ca}   or HttpConfig ssl_ca_cert="{ca}"
  Java SDK      keytool -importcert -noprompt -alias dewstack -file {ca} -keystore dewstack.p12 -storepass changeit
                java -Djavax.net.ssl.trustStore=dewstack.p12 -Djavax.net.ssl.trustStorePassword=changeit ...
  last resort   the SDKs' ignore_ssl_verification (HttpConfig, Go: WithIgnoreSSLVerification(true)) turns checking off
export DEWSTACK_TLS_ENDPOINT={https}
export DEWSTACK_CA_FILE={ca}
"#
        )
    }
}

fn ensure_generated(dir: &Path, names: &[String], now: DateTime<Utc>) -> anyhow::Result<()> {
    create_private_dir(dir)?;
    let (ca_pem, ca_key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    let ca_key = if ca_pem.exists() && ca_key_path.exists() {
        KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?)
            .with_context(|| format!("bad CA key {}", ca_key_path.display()))?
    } else {
        let key = KeyPair::generate()?;
        let ca = ca_params(now)?.self_signed(&key)?;
        write_private_file(&ca_key_path, key.serialize_pem().as_bytes())?;
        write_public_file(&ca_pem, ca.pem().as_bytes())?;
        key
    };
    let stamp_path = dir.join("server.names");
    let wanted = stamp(names, now + Duration::days(SERVER_DAYS));
    if let Ok(old) = std::fs::read_to_string(&stamp_path) {
        if still_good(&old, names, now) && dir.join("server.pem").exists() {
            return Ok(());
        }
    }
    // The issuer is rebuilt from the same name and key: what a client checks
    // a server certificate against (issuer name, key id, signature) is the
    // same as in the ca.pem it trusts.
    let issuer = ca_params(now)?.self_signed(&ca_key)?;
    let server_key = KeyPair::generate()?;
    let server = server_params(names, now)?.signed_by(&server_key, &issuer, &ca_key)?;
    write_private_file(
        &dir.join("server-key.pem"),
        server_key.serialize_pem().as_bytes(),
    )?;
    write_public_file(&dir.join("server.pem"), server.pem().as_bytes())?;
    write_public_file(&stamp_path, wanted.as_bytes())?;
    Ok(())
}

fn ca_params(now: DateTime<Utc>) -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, CA_NAME);
    p.distinguished_name
        .push(DnType::OrganizationName, "dewstack");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let start = now - Duration::days(1);
    p.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    p.not_after = rcgen::date_time_ymd(start.year() + CA_YEARS, start.month() as u8, 1);
    Ok(p)
}

fn server_params(names: &[String], now: DateTime<Utc>) -> anyhow::Result<CertificateParams> {
    // `new` turns names that parse as IP addresses into IP SANs.
    let mut p = CertificateParams::new(names.to_vec())?;
    p.distinguished_name.push(DnType::CommonName, "dewstack");
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // A day of slack for clients whose clocks run behind.
    let (from, to) = (now - Duration::days(1), now + Duration::days(SERVER_DAYS));
    p.not_before = rcgen::date_time_ymd(from.year(), from.month() as u8, from.day() as u8);
    p.not_after = rcgen::date_time_ymd(to.year(), to.month() as u8, to.day() as u8);
    Ok(p)
}

/// `server.names`: the expiry (unix seconds) on the first line, then the names.
fn stamp(names: &[String], not_after: DateTime<Utc>) -> String {
    format!("{}\n{}\n", not_after.timestamp(), names.join("\n"))
}

fn still_good(stamp: &str, names: &[String], now: DateTime<Utc>) -> bool {
    let mut lines = stamp.lines();
    let expires = lines.next().and_then(|l| l.parse::<i64>().ok());
    let fresh = expires.is_some_and(|t| t - now.timestamp() > RENEW_DAYS * 86_400);
    fresh && lines.eq(names.iter().map(String::as_str))
}

/// Certificates are public: 0644, written like the private files (atomically).
fn write_public_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_private_file(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    #[test]
    fn names_cover_local_and_listen_hosts_but_not_wildcards() {
        let hosts = [
            "0.0.0.0",
            "[::]",
            "10.1.2.3",
            "[fd00::1]",
            "127.0.0.1",
            "dew.internal",
        ]
        .map(String::from);
        assert_eq!(
            server_names(&hosts),
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "10.1.2.3",
                "fd00::1",
                "dew.internal"
            ]
        );
        assert_eq!(host_of("[::1]:8443"), "[::1]");
        assert_eq!(host_of("127.0.0.1:0"), "127.0.0.1");
    }

    #[test]
    fn generated_once_reissued_when_names_change_or_expiry_nears() {
        let dir = tempfile::tempdir().unwrap();
        let names = server_names(&[]);
        let tls = load(None, dir.path(), &names, now()).unwrap();
        let ca_file = tls.ca_file.unwrap();
        let ca = std::fs::read(&ca_file).unwrap();
        let server = std::fs::read(dir.path().join("tls/server.pem")).unwrap();
        for key in ["ca-key.pem", "server-key.pem"] {
            let mode = std::fs::metadata(dir.path().join("tls").join(key)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(mode.permissions().mode() & 0o777, 0o600, "{key}");
        }
        // Same names, a month later: nothing is made again.
        load(None, dir.path(), &names, now() + Duration::days(30)).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("tls/server.pem")).unwrap(),
            server
        );
        // A new listen host: a new server certificate from the same CA.
        let more = server_names(&["10.9.9.9".into()]);
        load(None, dir.path(), &more, now()).unwrap();
        let reissued = std::fs::read(dir.path().join("tls/server.pem")).unwrap();
        assert_ne!(reissued, server);
        assert_eq!(std::fs::read(&ca_file).unwrap(), ca);
        // Near its end: issued again.
        load(
            None,
            dir.path(),
            &more,
            now() + Duration::days(SERVER_DAYS - 10),
        )
        .unwrap();
        assert_ne!(
            std::fs::read(dir.path().join("tls/server.pem")).unwrap(),
            reissued
        );
    }

    #[test]
    fn user_files_must_exist_and_pair() {
        let dir = tempfile::tempdir().unwrap();
        let missing = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        assert!(load(Some(&missing), dir.path(), &[], now()).is_err());
        // A certificate with someone else's key is refused at startup.
        load(None, dir.path(), &server_names(&[]), now()).unwrap();
        let tls = dir.path().join("tls");
        let mismatched = (tls.join("server.pem"), tls.join("ca-key.pem"));
        assert!(load(Some(&mismatched), dir.path(), &[], now()).is_err());
        let good = (tls.join("server.pem"), tls.join("server-key.pem"));
        assert!(load(Some(&good), dir.path(), &[], now())
            .unwrap()
            .ca_file
            .is_none());
    }
}
