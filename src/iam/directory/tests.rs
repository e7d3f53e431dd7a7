#![allow(clippy::unwrap_used)]
use super::*;
use crate::config::{RootOverrides, ServeArgs};

fn config(dir: &std::path::Path, root: RootOverrides) -> Config {
    let args = ServeArgs {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    Config::load(args, root).unwrap()
}

fn env_secrets() -> RootOverrides {
    RootOverrides {
        secret_key: Some("EnvSecretKey-0123456789abcdef".into()),
        password: Some("EnvPassword-0123456789".into()),
        ..Default::default()
    }
}

#[test]
fn secrets_from_the_environment_are_not_written_to_identity_json() {
    let dir = tempfile::tempdir().unwrap();
    let first =
        RootIdentity::load_or_create(&config(dir.path(), env_secrets()), &Rng::seeded(1)).unwrap();
    assert_eq!(first.secret_key, "EnvSecretKey-0123456789abcdef");
    assert_eq!(first.password, "EnvPassword-0123456789");
    let text = std::fs::read_to_string(dir.path().join(IDENTITY_FILE)).unwrap();
    assert!(!text.contains("EnvSecretKey"), "{text}");
    assert!(!text.contains("EnvPassword"), "{text}");
    // On restart the environment supplies them again; generated values persist.
    let again =
        RootIdentity::load_or_create(&config(dir.path(), env_secrets()), &Rng::seeded(2)).unwrap();
    assert_eq!(again.secret_key, first.secret_key);
    assert_eq!(again.access_key, first.access_key);
    assert_eq!(again.domain_id, first.domain_id);
    // Without the environment, dewstack generates (and then keeps) its own.
    let own = RootIdentity::load_or_create(
        &config(dir.path(), RootOverrides::default()),
        &Rng::seeded(3),
    )
    .unwrap();
    assert!(!own.secret_key.is_empty() && own.secret_key != first.secret_key);
    let text = std::fs::read_to_string(dir.path().join(IDENTITY_FILE)).unwrap();
    assert!(text.contains(&own.secret_key));
    let kept = RootIdentity::load_or_create(
        &config(dir.path(), RootOverrides::default()),
        &Rng::seeded(4),
    )
    .unwrap();
    assert_eq!(kept.secret_key, own.secret_key);
    assert_eq!(kept.password, own.password);
}

#[test]
fn debug_output_never_shows_passwords_or_secret_keys() {
    let root = crate::testing::identity();
    let extra = DomainConfig {
        id: "d1".into(),
        name: "acme".into(),
        projects: vec![],
        users: vec![crate::config::UserConfig {
            name: "alice".into(),
            password: "AlicePassword-0123456789".into(),
            id: None,
        }],
        access_keys: vec![crate::config::AccessKeyConfig {
            access_key: "AKAKAKAKAKAKAKAKAKA1".into(),
            secret_key: "AliceSecretKey-0123456789".into(),
            user: "alice".into(),
        }],
    };
    let dir = Directory::build(&root, "cn-north-4", &[extra]).unwrap();
    let printed = [
        format!("{dir:?}"),
        format!("{:?}", dir.domains),
        format!("{root:?}"),
        format!("{:?}", dir.access_key("AKAKAKAKAKAKAKAKAKA1").unwrap()),
        format!("{:?}", dir.domain("d1").unwrap().users[0]),
    ];
    for text in &printed {
        for secret in [
            root.password.as_str(),
            root.secret_key.as_str(),
            "AlicePassword-0123456789",
            "AliceSecretKey-0123456789",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(printed[4].contains("alice"));
}
