#![allow(clippy::unwrap_used)]
use super::*;

const SECRETS: [&str; 5] = [
    "EnvSecretKey-0123456789",
    "EnvPassword-0123456789",
    "RootKeyBase64-0123456789",
    "FilePassword-0123456789",
    "FileSecretKey-0123456789",
];

fn load() -> (tempfile::TempDir, ServeArgs, Config) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dewstack.toml");
    std::fs::write(
        &path,
        r#"
database_url = "postgres://dew:DbPassword-0123456789@db/dew"
[[domains]]
id = "d1"
name = "acme"
  [[domains.users]]
  name = "alice"
  password = "FilePassword-0123456789"
  [[domains.access_keys]]
  access_key = "AKAKAKAKAKAKAKAKAKA1"
  secret_key = "FileSecretKey-0123456789"
  user = "alice"
"#,
    )
    .unwrap();
    let args = || ServeArgs {
        config: Some(path.clone()),
        database_url: Some("postgres://dew:DbPassword-0123456789@db/dew".into()),
        ..Default::default()
    };
    let root = RootOverrides {
        access_key: Some("AKROOT".into()),
        secret_key: Some(SECRETS[0].into()),
        password: Some(SECRETS[1].into()),
        root_key: Some(SECRETS[2].into()),
        ..Default::default()
    };
    let config = Config::load(args(), root).unwrap();
    (dir, args(), config)
}

#[test]
fn debug_output_never_shows_secrets() {
    let (_dir, args, config) = load();
    let file = read_file(args.config.as_ref().unwrap()).unwrap();
    let printed = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.root),
        format!("{:?}", config.domains),
        format!("{args:?}"),
        format!("{file:?}"),
    ];
    for text in &printed {
        for secret in SECRETS.iter().chain(&["DbPassword-0123456789"]) {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains(REDACTED), "{text}");
    }
    // What is not secret stays visible.
    assert!(printed[0].contains("AKROOT") && printed[0].contains("alice"));
}

#[test]
fn forwarding_limits_have_defaults_and_can_be_set() {
    let d = Limits::default();
    assert_eq!(
        (
            d.forward_max_listeners,
            d.forward_max_connections,
            d.forward_max_connections_per_endpoint
        ),
        (1024, 2048, 256)
    );
    let file: FileConfig = toml::from_str(
        "[limits]\nforward_max_listeners = 3\nforward_max_connections = 5\n\
         forward_max_connections_per_endpoint = 2\n",
    )
    .unwrap();
    assert_eq!(file.limits.forward_max_listeners, 3);
    assert_eq!(file.limits.forward_max_connections, 5);
    assert_eq!(file.limits.forward_max_connections_per_endpoint, 2);
    // The other limits keep their defaults.
    assert_eq!(file.limits.max_connections, d.max_connections);
    assert!(toml::from_str::<FileConfig>("[limits]\nforward_max_sockets = 1\n").is_err());
}
