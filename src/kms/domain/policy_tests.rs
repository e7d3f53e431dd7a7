#![allow(clippy::unwrap_used)]
use super::*;

const KEY: &str = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
const AP: &str = "1e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7";
const OTHER_AP: &str = "2e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7";

fn req(
    operation: &'static str,
    access_point: Option<&'static str>,
    now_ms: i64,
) -> Request<'static> {
    Request {
        operation,
        key_id: KEY,
        key_domain: "acme",
        access_point,
        now_ms,
    }
}

fn doc(json: &str) -> PolicyDocument {
    parse(json).unwrap()
}

#[test]
fn evaluation_table() {
    use Decision::*;
    let open = doc(r#"{"version":"1.0"}"#);
    let via_ap = doc(&format!(r#"{{"allowed_access_point":["{AP}"]}}"#));
    let encrypt_only =
        doc(r#"{"statement":[{"effect":"Allow","action":["kms:cmk:encrypt*"],"resource":["*"]}]}"#);
    let deny_decrypt = doc(
        r#"{"statement":[{"effect":"Deny","action":["kms:cmk:decrypt*"]},
                         {"effect":"Allow","action":["*"]}]}"#,
    );
    let this_key = doc(&format!(
        r#"{{"statement":[{{"effect":"Allow","action":["kms:*"],"resource":["KMS:*:*:KeyId:{KEY}"]}}]}}"#
    ));
    let other_key =
        doc(r#"{"statement":[{"effect":"Allow","action":["kms:*"],"resource":["ffffffff-*"]}]}"#);
    let other_domain = doc(&format!(
        r#"{{"statement":[{{"effect":"Allow","action":["kms:*"],"resource":["KMS:*:other:KeyId:{KEY}"]}}]}}"#
    ));
    let window = doc(r#"{"validity_period":{"start_time":"1000","end_time":"2000"}}"#);
    let zones_only = doc(r#"{"allowed_data_security_zone":["zone-1"]}"#);
    let table: Vec<(&str, Vec<&PolicyDocument>, Request, Decision)> = vec![
        (
            "no policy: unrestricted",
            vec![],
            req("encrypt-data", None, 0),
            NoPolicy,
        ),
        (
            "policy without conditions allows",
            vec![&open],
            req("sign", None, 0),
            Allow,
        ),
        (
            "listed access point allows",
            vec![&via_ap],
            req("encrypt-data", Some(AP), 0),
            Allow,
        ),
        (
            "no access point: no match",
            vec![&via_ap],
            req("encrypt-data", None, 0),
            NotAllowed,
        ),
        (
            "unlisted access point",
            vec![&via_ap],
            req("encrypt-data", Some(OTHER_AP), 0),
            NotAllowed,
        ),
        (
            "action wildcard matches",
            vec![&encrypt_only],
            req("encrypt-datakey", None, 0),
            Allow,
        ),
        (
            "action outside the wildcard",
            vec![&encrypt_only],
            req("decrypt-data", None, 0),
            NotAllowed,
        ),
        (
            "explicit deny wins",
            vec![&deny_decrypt],
            req("decrypt-data", None, 0),
            ExplicitDeny,
        ),
        (
            "deny of another action",
            vec![&deny_decrypt],
            req("encrypt-data", None, 0),
            Allow,
        ),
        (
            "deny wins across policies",
            vec![&open, &deny_decrypt],
            req("decrypt-datakey", None, 0),
            ExplicitDeny,
        ),
        (
            "any policy may allow",
            vec![&via_ap, &open],
            req("encrypt-data", None, 0),
            Allow,
        ),
        (
            "resource URN of this key",
            vec![&this_key],
            req("describe-key", None, 0),
            Allow,
        ),
        (
            "resource glob of another key",
            vec![&other_key],
            req("describe-key", None, 0),
            NotAllowed,
        ),
        (
            "URN of another domain",
            vec![&other_domain],
            req("describe-key", None, 0),
            NotAllowed,
        ),
        (
            "inside the validity period",
            vec![&window],
            req("sign", None, 1500),
            Allow,
        ),
        (
            "before the validity period",
            vec![&window],
            req("sign", None, 999),
            NotAllowed,
        ),
        (
            "at its end (exclusive)",
            vec![&window],
            req("sign", None, 2000),
            NotAllowed,
        ),
        (
            "zones never match in dewstack",
            vec![&zones_only],
            req("sign", Some(AP), 0),
            NotAllowed,
        ),
    ];
    for (case, policies, request, want) in table {
        let owned: Vec<PolicyDocument> = policies.into_iter().cloned().collect();
        assert_eq!(evaluate(&owned, &request), want, "{case}");
    }
}

#[test]
fn decisions_map_to_the_deny_error() {
    assert!(Decision::NoPolicy.check().is_ok());
    assert!(Decision::Allow.check().is_ok());
    assert!(matches!(
        Decision::ExplicitDeny.check(),
        Err(KmsError::PolicyDenied)
    ));
    assert!(matches!(
        Decision::NotAllowed.check(),
        Err(KmsError::PolicyDenied)
    ));
}

#[test]
fn malformed_documents_are_refused() {
    for bad in [
        "",
        "[]",
        "not json",
        r#"{"unknown":1}"#,
        r#"{"version":""}"#,
        r#"{"validity_period":{"start_time":"2000","end_time":"1000"}}"#,
        r#"{"validity_period":{"start_time":"yesterday"}}"#,
        r#"{"allowed_access_point":["not-a-uuid"]}"#,
        r#"{"allowed_access_point":"one"}"#,
        r#"{"statement":[{"effect":"Maybe","action":["kms:*"]}]}"#,
        r#"{"statement":[{"effect":"Allow","action":[]}]}"#,
        r#"{"statement":[{"effect":"Allow","action":["iam:*"]}]}"#,
    ] {
        assert!(
            matches!(parse(bad), Err(KmsError::InvalidPolicy(_))),
            "{bad}"
        );
    }
    let many = format!(
        r#"{{"allowed_data_security_zone":[{}]}}"#,
        vec!["\"z\""; 101].join(",")
    );
    assert!(parse(&many).is_err());
    assert!(parse(&" ".repeat(MAX_DOCUMENT_BYTES + 1)).is_err());
}

#[test]
fn documents_are_normalised() {
    let d = doc(r#"{"statement":[{"effect":"deny","action":["kms:cmk:sign"]}]}"#);
    assert_eq!(d.version, "1.0");
    assert_eq!(d.statement[0].effect, Effect::Deny);
    assert_eq!(d.statement[0].resource, vec!["*".to_owned()]);
}

#[test]
fn glob_and_actions() {
    assert!(glob("*", ""));
    assert!(glob("kms:cmk:*", "KMS:CMK:encryptData"));
    assert!(glob("a*c*e", "abcde"));
    assert!(!glob("a*c", "abd"));
    assert_eq!(iam_action("encrypt-data"), "kms:cmk:encryptData");
    assert_eq!(iam_action("describe-key"), "kms:cmk:get");
    assert_eq!(iam_action("sign"), "kms:cmk:sign");
}
