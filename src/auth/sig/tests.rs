#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../../tests/fixtures/signing_vectors.json")).unwrap()
}

const SK: &str = "ExampleSecretKey0123456789abcdefghijklmn";

const KMS_SCOPE: ExpectedScope<'static> = ExpectedScope {
    region: "cn-north-4",
    services: &["kms"],
    global: false,
};

struct Owned {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn load(v: &Value) -> Owned {
    let r = &v["request"];
    let url = r["url"].as_str().unwrap();
    let after_host = &url[url.find("://").unwrap() + 3..];
    let path_and_query = &after_host[after_host.find('/').unwrap()..];
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path_and_query.to_string(), None),
    };
    Owned {
        method: r["method"].as_str().unwrap().into(),
        path,
        query,
        headers: r["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_string()))
            .collect(),
        body: r["body"].as_str().unwrap().as_bytes().to_vec(),
    }
}

fn check(o: &Owned, now: DateTime<Utc>) -> Result<String, SigError> {
    let lookup = |name: &str| {
        o.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let req = SignedRequest {
        method: &o.method,
        raw_path: &o.path,
        raw_query: o.query.as_deref(),
        header: &lookup,
        body: &o.body,
    };
    let auth = parse_authorization(lookup("authorization").unwrap())?;
    let canonical = canonical_request(&req, &auth)?;
    verify(&req, &auth, SK, now, &KMS_SCOPE)?;
    Ok(canonical)
}

fn vector_time() -> DateTime<Utc> {
    parse_sdk_date("20240102T030405Z").unwrap()
}

#[test]
fn every_sdk_vector_verifies_and_canonicalises_identically() {
    let all = vectors();
    for v in all["vectors"].as_array().unwrap() {
        let o = load(v);
        let canonical = check(&o, vector_time()).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(
            canonical,
            v["canonical_request"].as_str().unwrap(),
            "{}",
            v["name"]
        );
    }
}

#[test]
fn v11_derived_key_matches_vector() {
    let key = v11_signing_key("HPUAEXAMPLEAK0000001", SK, "20240102/cn-north-4/kms").unwrap();
    assert_eq!(
        key,
        "918d16ce8a8b00e9921f6ee27f020fa17924c15b8c012197603d7607a1f42c3b"
    );
}

#[test]
fn any_change_breaks_the_signature() {
    let all = vectors();
    let base = load(&all["vectors"][0]);
    type Tamper = fn(&mut Owned);
    let tampers: [(&str, Tamper); 5] = [
        ("method", |o| o.method = "PUT".into()),
        ("path", |o| o.path.push('x')),
        ("query", |o| o.query = Some("a=b".into())),
        ("body", |o| o.body[3] ^= 1),
        ("signed header", |o| {
            for (k, v) in o.headers.iter_mut() {
                if k == "x-project-id" {
                    v.push('0');
                }
            }
        }),
    ];
    for (what, tamper) in tampers {
        let mut o = Owned {
            method: base.method.clone(),
            path: base.path.clone(),
            query: base.query.clone(),
            headers: base.headers.clone(),
            body: base.body.clone(),
        };
        tamper(&mut o);
        assert_eq!(
            check(&o, vector_time()).unwrap_err(),
            SigError::Mismatch,
            "changed {what}"
        );
    }
}

#[test]
fn unsigned_headers_may_change() {
    let all = vectors();
    let mut o = load(&all["vectors"][0]);
    o.headers.push(("accept".into(), "*/*".into()));
    assert!(check(&o, vector_time()).is_ok());
}

#[test]
fn skew_is_bounded_both_ways() {
    let all = vectors();
    let o = load(&all["vectors"][0]);
    assert!(check(&o, vector_time() + chrono::Duration::minutes(14)).is_ok());
    assert_eq!(
        check(&o, vector_time() + chrono::Duration::minutes(16)).unwrap_err(),
        SigError::Skewed
    );
    assert_eq!(
        check(&o, vector_time() - chrono::Duration::minutes(16)).unwrap_err(),
        SigError::Skewed
    );
}

#[test]
fn authorization_header_parsing() {
    assert_eq!(
        parse_authorization("NOPE Access=a, SignedHeaders=host, Signature=00"),
        Err(SigError::UnsupportedAlgorithm)
    );
    assert_eq!(
        parse_authorization("SDK-HMAC-SHA256 garbage"),
        Err(SigError::Malformed)
    );
    assert_eq!(
        parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=host"),
        Err(SigError::Malformed)
    );
    let a = parse_authorization(
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=ab",
    )
    .unwrap();
    assert_eq!(a.access_key, "AK");
    assert_eq!(a.signed_headers, ["host", "x-sdk-date"]);
}

#[test]
fn query_canonical_form() {
    assert_eq!(
        canonical_query(Some("limit=5&marker=a%2Bb%20c%2Fd~e")).unwrap(),
        "limit=5&marker=a%2Bb%20c%2Fd~e"
    );
    assert_eq!(
        canonical_query(Some("b=2&a=1&a=0&c")).unwrap(),
        "a=0&a=1&b=2&c="
    );
    assert_eq!(canonical_uri("/").unwrap(), "/");
    assert_eq!(
        canonical_uri("/v1/p/secrets/db%20pass%3A%C3%BC/versions").unwrap(),
        "/v1/p/secrets/db%20pass%3A%C3%BC/versions/"
    );
}

#[test]
fn plain_paths_canonicalise_as_the_general_rule_does() {
    // What the general decode / split / encode rule gives, written out.
    let general = |p: &str| {
        let decoded = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
        let mut out = decoded
            .split('/')
            .map(|s| percent_encoding::utf8_percent_encode(s, super::UNRESERVED).to_string())
            .collect::<Vec<_>>()
            .join("/");
        if !out.ends_with('/') {
            out.push('/');
        }
        out
    };
    for p in [
        "/",
        "//",
        "/v1.0/0123/kms/encrypt-data",
        "/v1.0/0123/kms/encrypt-data/",
        "/v1/p/secrets/a_b.c~d-e",
        "",
    ] {
        // Paths ending in '/' (but the root) are now refused: see
        // `paths_that_would_sign_alike_are_refused`.
        match canonical_uri(p) {
            Ok(c) => assert_eq!(c, general(p), "{p:?}"),
            Err(e) => assert!(p.len() > 1 && p.ends_with('/') && e == SigError::BadPath),
        }
    }
    // A path with anything else still takes the general rule.
    assert_eq!(canonical_uri("/a b/c+d").unwrap(), "/a%20b/c%2Bd/");
}

#[test]
fn sign_reproduces_the_sdk_hmac_sha256_vectors() {
    let all = vectors();
    let mut seen = 0;
    for v in all["vectors"].as_array().unwrap() {
        let o = load(v);
        let (auth_header, signed): (Vec<_>, Vec<_>) = o
            .headers
            .iter()
            .cloned()
            .partition(|(k, _)| k == "authorization");
        let expected = &auth_header[0].1;
        let auth = parse_authorization(expected).unwrap();
        let all_signed = {
            let mut names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            names.join(";") == auth.signed_headers.join(";")
        };
        if auth.algorithm != Algorithm::HmacSha256 || !all_signed {
            continue;
        }
        let out = Outgoing {
            method: &o.method,
            raw_path: &o.path,
            raw_query: o.query.as_deref(),
            headers: &signed,
            body: &o.body,
        };
        assert_eq!(
            &sign(&out, &auth.access_key, SK).unwrap(),
            expected,
            "{}",
            v["name"]
        );
        seen += 1;
    }
    assert!(seen > 0, "no SDK-HMAC-SHA256 vector signs every header");
}

fn owned(v: &Value) -> Owned {
    load(v)
}

fn vector(name: &str) -> Owned {
    let all = vectors();
    let v = all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap()
        .clone();
    owned(&v)
}

fn set_header(o: &mut Owned, name: &str, value: &str) {
    o.headers.retain(|(k, _)| k != name);
    o.headers.push((name.to_owned(), value.to_owned()));
}

#[test]
fn an_unsigned_content_hash_header_does_not_replace_the_body_hash() {
    for (name, header, sm3) in [
        ("kms_create_key_hmac_sha256", "x-sdk-content-sha256", false),
        ("kms_create_key_hmac_sm3", "x-sdk-content-sm3", true),
        ("kms_create_key_v11_derived", "x-sdk-content-sha256", false),
    ] {
        let mut o = vector(name);
        let captured = if sm3 {
            Algorithm::HmacSm3.hash_hex(&o.body)
        } else {
            Algorithm::HmacSha256.hash_hex(&o.body)
        };
        o.body = br#"{"key_alias": "evil", "key_spec": "AES_256"}"#.to_vec();
        set_header(&mut o, header, &captured);
        assert_eq!(
            check(&o, vector_time()).unwrap_err(),
            SigError::Mismatch,
            "{name}"
        );
    }
}

/// Signs `o` (every header of it) with SDK-HMAC-SHA256 the way the Go and
/// Python signers would, with `payload` as the payload hash.
fn sign_with_payload(o: &mut Owned, payload: &str) {
    o.headers.retain(|(k, _)| k != "authorization");
    let mut names: Vec<String> = o.headers.iter().map(|(k, _)| k.clone()).collect();
    names.sort();
    let auth = AuthorizationHeader {
        algorithm: Algorithm::HmacSha256,
        access_key: "HPUAEXAMPLEAK0000001".into(),
        scope: None,
        signed_headers: names.clone(),
        signature: String::new(),
    };
    let lookup = |name: &str| {
        o.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let req = SignedRequest {
        method: &o.method,
        raw_path: &o.path,
        raw_query: o.query.as_deref(),
        header: &lookup,
        body: &o.body,
    };
    let canonical = canonical_with_payload(&req, &auth, payload).unwrap();
    let date = lookup("x-sdk-date").unwrap();
    let to_sign = string_to_sign(&auth, date, &canonical);
    let sig = hmac_sha256_hex(SK.as_bytes(), to_sign.as_bytes()).unwrap();
    let value = format!(
        "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, SignedHeaders={}, Signature={sig}",
        names.join(";")
    );
    o.headers.push(("authorization".into(), value));
}

fn payload_of(o: &Owned) -> Result<Payload, SigError> {
    let lookup = |name: &str| {
        o.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let req = SignedRequest {
        method: &o.method,
        raw_path: &o.path,
        raw_query: o.query.as_deref(),
        header: &lookup,
        body: &o.body,
    };
    let auth = parse_authorization(lookup("authorization").unwrap())?;
    verify(&req, &auth, SK, vector_time(), &KMS_SCOPE)
}

#[test]
fn unsigned_payload_only_for_signed_non_json_content() {
    // A signed UNSIGNED-PAYLOAD on a JSON content type: the body is hashed anyway.
    let mut o = vector("kms_create_key_hmac_sha256");
    set_header(&mut o, "x-sdk-content-sha256", "UNSIGNED-PAYLOAD");
    sign_with_payload(&mut o, "UNSIGNED-PAYLOAD");
    assert_eq!(payload_of(&o), Err(SigError::Mismatch));
    // A non-JSON content type, both headers signed: accepted, marked unsigned.
    let mut o = vector("kms_create_key_hmac_sha256");
    set_header(&mut o, "content-type", "application/octet-stream");
    set_header(&mut o, "x-sdk-content-sha256", "UNSIGNED-PAYLOAD");
    sign_with_payload(&mut o, "UNSIGNED-PAYLOAD");
    assert_eq!(payload_of(&o), Ok(Payload::Unsigned));
    // The same with the content-hash header left out of the signed headers.
    let value = o
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1
        .clone();
    let unsigned_list = value.replace(";x-sdk-content-sha256", "");
    set_header(&mut o, "authorization", &unsigned_list);
    assert_eq!(payload_of(&o), Err(SigError::Mismatch));
    // An ordinary JSON request with its real hash declared still verifies, hashed.
    let mut o = vector("kms_create_key_hmac_sha256");
    let real = Algorithm::HmacSha256.hash_hex(&o.body);
    set_header(&mut o, "x-sdk-content-sha256", &real);
    sign_with_payload(&mut o, &real);
    assert_eq!(payload_of(&o), Ok(Payload::Hashed));
    // Go signs an empty body with the header's value, Python with H(""): both pass.
    let mut o = vector("csms_list_secret_versions_get_query");
    set_header(&mut o, "content-type", "text/plain");
    set_header(&mut o, "x-sdk-content-sha256", "UNSIGNED-PAYLOAD");
    sign_with_payload(&mut o, "UNSIGNED-PAYLOAD");
    assert_eq!(payload_of(&o), Ok(Payload::Hashed));
}

#[test]
fn v11_scope_must_name_the_date_region_and_service() {
    let o = vector("kms_create_key_v11_derived");
    assert!(check(&o, vector_time()).is_ok());
    let lookup = |name: &str| {
        o.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let req = SignedRequest {
        method: &o.method,
        raw_path: &o.path,
        raw_query: o.query.as_deref(),
        header: &lookup,
        body: &o.body,
    };
    let auth = parse_authorization(lookup("authorization").unwrap()).unwrap();
    let other_region = ExpectedScope {
        region: "cn-south-1",
        ..KMS_SCOPE
    };
    let other_service = ExpectedScope {
        services: &["vpcep"],
        ..KMS_SCOPE
    };
    for expected in [other_region, other_service] {
        assert_eq!(
            verify(&req, &auth, SK, vector_time(), &expected),
            Err(SigError::BadScope)
        );
    }
    // A scope dated another day than X-Sdk-Date.
    let mut moved = auth.clone();
    moved.scope = Some("20240103/cn-north-4/kms".into());
    assert_eq!(
        verify(&req, &moved, SK, vector_time(), &KMS_SCOPE),
        Err(SigError::BadScope)
    );
    // `globe` is accepted only for a global service.
    assert!(KMS_SCOPE
        .check("20240102/globe/kms", "20240102T030405Z")
        .is_err());
    let iam = ExpectedScope {
        services: &["iam"],
        global: true,
        ..KMS_SCOPE
    };
    assert!(iam.check("20240102/globe/iam", "20240102T030405Z").is_ok());
    assert!(iam
        .check("20240102/cn-north-4/iam", "20240102T030405Z")
        .is_ok());
    assert!(iam
        .check("20240102/cn-north-4/iam/x", "20240102T030405Z")
        .is_err());
}

#[test]
fn paths_that_would_sign_alike_are_refused() {
    // An encoded '/' inside a segment would be signed as a segment boundary.
    assert_eq!(canonical_uri("/v1/p/secrets/a%2Fb"), Err(SigError::BadPath));
    assert_eq!(canonical_uri("/v1/p/secrets/a%2fb"), Err(SigError::BadPath));
    // A trailing '/' would sign like the path without it.
    assert_eq!(canonical_uri("/v1/p/secrets/a/"), Err(SigError::BadPath));
    // Bytes that are not UTF-8 would all become U+FFFD.
    assert_eq!(canonical_uri("/v1/p/secrets/%FF"), Err(SigError::BadPath));
    assert_eq!(canonical_uri("/v1/p/secrets/%FE"), Err(SigError::BadPath));
    assert_eq!(canonical_query(Some("marker=%FF")), Err(SigError::BadQuery));
    // A stray '%' would sign like "%25".
    assert_eq!(canonical_uri("/v1/p/secrets/a%zz"), Err(SigError::BadPath));
    assert_eq!(canonical_uri("/v1/p/secrets/a%2"), Err(SigError::BadPath));
    assert_eq!(canonical_query(Some("marker=a%")), Err(SigError::BadQuery));
    assert!(canonical_uri("/v1/p/secrets/a%25zz").is_ok());
    // '+' would sign like '%2B' but reads as a space.
    assert_eq!(canonical_query(Some("marker=a+b")), Err(SigError::BadQuery));
    // Distinct accepted paths keep distinct canonical forms.
    assert_ne!(
        canonical_uri("/v1/p/secrets/a/b").unwrap(),
        canonical_uri("/v1/p/secrets/a%20b").unwrap()
    );
    // A signed path does not authorise the same path with an encoded slash.
    let mut o = vector("csms_list_secret_versions_get_query");
    o.path = o.path.replace("db%20pass%3A%C3%BC", "db%2Fpass");
    let signed_for = o.path.replace("db%2Fpass", "db/pass");
    let mut signed = Owned {
        method: o.method.clone(),
        path: signed_for,
        query: o.query.clone(),
        headers: o.headers.clone(),
        body: o.body.clone(),
    };
    sign_with_payload(&mut signed, &Algorithm::HmacSha256.hash_hex(b""));
    assert!(payload_of(&signed).is_ok());
    signed.path = o.path;
    assert_eq!(payload_of(&signed), Err(SigError::BadPath));
}

/// The official Go SDK signs only the headers it set itself, never `host`
/// (`SignedHeaders=x-project-id;x-sdk-date`), and the cloud accepts it.
#[test]
fn host_need_not_be_signed_but_the_date_must() {
    let mut o = vector("kms_create_key_hmac_sha256");
    let subset = |names: &[&str]| -> Vec<(String, String)> {
        o.headers
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    let sign_only = |headers: &[(String, String)]| {
        let out = Outgoing {
            method: &o.method,
            raw_path: &o.path,
            raw_query: o.query.as_deref(),
            headers,
            body: &o.body,
        };
        sign(&out, "HPUAEXAMPLEAK0000001", SK).unwrap()
    };
    let go_style = sign_only(&subset(&["x-project-id", "x-sdk-date"]));
    // `sign` itself refuses to leave the date out: name other headers instead.
    let no_date = go_style.replace("x-project-id;x-sdk-date", "host;x-project-id");
    set_header(&mut o, "authorization", &go_style);
    assert!(check(&o, vector_time()).is_ok(), "{go_style}");
    set_header(&mut o, "authorization", &no_date);
    assert_eq!(check(&o, vector_time()), Err(SigError::MissingSignedHeader));
}

#[test]
fn sdk_dates_are_exactly_the_sdks_basic_format() {
    let at = parse_sdk_date("20241231T235958Z").unwrap();
    assert_eq!(at.to_rfc3339(), "2024-12-31T23:59:58+00:00");
    assert_eq!(
        parse_sdk_date("20240229T000000Z").unwrap().to_rfc3339(),
        "2024-02-29T00:00:00+00:00"
    );
    for bad in [
        "",
        "20240102T030405",
        "20240102 030405Z",
        "2024-01-02T03:04Z",
        "20241301T030405Z",
        "20230229T030405Z",
        "20240102T250405Z",
        "20240102T036005Z",
        "2024010xT030405Z",
        "+2024012T030405Z",
        "20240102T030405Z ",
        "２０240102T030405Z",
    ] {
        assert!(
            matches!(parse_sdk_date(bad), Err(SigError::BadDate)),
            "{bad:?}"
        );
    }
}
