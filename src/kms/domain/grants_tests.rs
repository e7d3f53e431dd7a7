#![allow(clippy::unwrap_used)]
use super::*;
use crate::kms::store::grants::{GrantRecord, PrincipalType};

fn grant(kind: PrincipalType, principal: &str, ops: &[&str]) -> GrantRecord {
    GrantRecord {
        grant_id: "a".repeat(64),
        key_id: "0d0466b0-e727-4d9c-b35d-f84bb474a37f".into(),
        project_id: "owner".into(),
        name: String::new(),
        grantee_principal: principal.into(),
        grantee_principal_type: kind,
        operations: ops.iter().map(|s| s.to_string()).collect(),
        issuing_principal: "issuer".into(),
        retiring_principal: None,
        creation_ms: 0,
    }
}

#[test]
fn grants_match_users_or_whole_domains() {
    let u = grant(PrincipalType::User, "alice", &["encrypt-data"]);
    assert!(u.names("alice", "acme"));
    assert!(!u.names("bob", "acme"));
    assert!(!u.names("acme", "alice"));
    let d = grant(PrincipalType::Domain, "acme", &["encrypt-data"]);
    assert!(d.names("anyone", "acme"));
    assert!(!d.names("acme", "other"));
}

#[test]
fn decide_hides_ungranted_and_refuses_other_operations() {
    let grants = vec![
        grant(PrincipalType::User, "alice", &["encrypt-data"]),
        grant(PrincipalType::Domain, "acme", &["describe-key"]),
    ];
    assert!(decide(&grants, "alice", "acme", "encrypt-data").is_ok());
    assert!(decide(&grants, "bob", "acme", "describe-key").is_ok());
    let code = |r: Result<(), KmsError>| r.unwrap_err().status_and_code();
    assert_eq!(
        code(decide(&grants, "bob", "acme", "encrypt-data")).1,
        "KMS.0306"
    );
    assert_eq!(
        code(decide(&grants, "carol", "other", "encrypt-data")).1,
        "KMS.0207"
    );
    assert_eq!(code(decide(&[], "alice", "acme", "describe-key")).0, 404);
}

#[test]
fn operation_lists() {
    let ops = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        parse_operations(Some(&ops(&[
            "encrypt-data",
            "encrypt-data",
            "decrypt-data"
        ])))
        .unwrap(),
        ops(&["encrypt-data", "decrypt-data"])
    );
    assert_eq!(
        parse_operations(Some(&ops(&["create-grant"])))
            .unwrap_err()
            .status_and_code()
            .1,
        "KMS.2401"
    );
    assert!(parse_operations(Some(&ops(&["create-grant", "describe-key"]))).is_ok());
    assert!(parse_operations(Some(&ops(&["sign"]))).is_err());
    assert!(parse_operations(Some(&[])).is_err());
    assert!(parse_operations(None).is_err());
}

#[test]
fn identifiers() {
    assert!(parse_principal(&"a".repeat(64), "p").is_ok());
    assert!(parse_principal(&"a".repeat(65), "p").is_err());
    assert!(parse_principal("a-b", "p").is_err());
    assert!(parse_principal("", "p").is_err());
    assert_eq!(
        parse_grant_id(Some(&"AB".repeat(32))).unwrap(),
        "ab".repeat(32)
    );
    assert!(parse_grant_id(Some(&"g".repeat(64))).is_err());
    assert!(parse_grant_id(Some("abc")).is_err());
    assert!(parse_grant_name("app:grant/1_x-y").is_ok());
    assert!(parse_grant_name("has space").is_err());
}

#[test]
fn retiring_rules() {
    let mut g = grant(PrincipalType::User, "alice", &["encrypt-data"]);
    assert!(g.project_id == "owner" && may_retire(&g, "owner", "x", "y"));
    assert!(!may_retire(&g, "p2", "alice", "acme"));
    g.retiring_principal = Some("bob".into());
    assert!(may_retire(&g, "p2", "bob", "other"));
    g.operations.push("retire-grant".into());
    assert!(may_retire(&g, "p2", "alice", "acme"));
}

#[test]
fn key_uses_without_a_grant_operation_refuse_every_grantee() {
    for name in NOT_GRANTABLE {
        assert!(!OPERATIONS.contains(&name), "{name}");
        let listed = vec![name.to_string()];
        assert!(parse_operations(Some(&listed)).is_err(), "{name}");
    }
    let everything = grant(PrincipalType::User, "alice", &OPERATIONS);
    for name in NOT_GRANTABLE {
        assert!(matches!(
            decide(std::slice::from_ref(&everything), "alice", "acme", name),
            Err(KmsError::NoKeyPermission)
        ));
        assert!(matches!(
            decide(std::slice::from_ref(&everything), "bob", "other", name),
            Err(KmsError::KeyNotFound)
        ));
    }
}

#[test]
fn operation_names_are_the_sdks() {
    // CreateGrantRequestBody's docstring in huaweicloudsdkkms 3.1.219.
    assert_eq!(
        OPERATIONS,
        [
            "create-datakey",
            "create-datakey-without-plaintext",
            "encrypt-datakey",
            "decrypt-datakey",
            "describe-key",
            "create-grant",
            "retire-grant",
            "encrypt-data",
            "decrypt-data",
        ]
    );
}

#[test]
fn a_grantee_delegates_only_what_it_holds() {
    let ops = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let grants = vec![
        grant(
            PrincipalType::User,
            "alice",
            &["create-grant", "encrypt-data"],
        ),
        grant(PrincipalType::Domain, "acme", &["describe-key"]),
        grant(PrincipalType::User, "bob", &["decrypt-data"]),
    ];
    // Held through its own grant and through its domain's.
    assert!(check_delegation(&grants, "alice", "acme", &ops(&["encrypt-data"])).is_ok());
    assert!(check_delegation(
        &grants,
        "alice",
        "acme",
        &ops(&["create-grant", "encrypt-data", "describe-key"])
    )
    .is_ok());
    // Bob's grant is not Alice's.
    for wanted in [&["decrypt-data"][..], &["encrypt-data", "decrypt-data"][..]] {
        let err = check_delegation(&grants, "alice", "acme", &ops(wanted)).unwrap_err();
        assert_eq!(
            err.status_and_code(),
            KmsError::NoKeyPermission.status_and_code()
        );
    }
    // Outside the domain nothing is held.
    assert!(check_delegation(&grants, "alice", "other", &ops(&["describe-key"])).is_err());
}
