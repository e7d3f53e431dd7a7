#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../../tests/fixtures/signing_vectors.json")).unwrap()
}

const SK: &str = "ExampleSecretKey0123456789abcdefghijklmn";

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
            .map(|(_, v)| v.clone())
    };
    let req = SignedRequest {
        method: &o.method,
        raw_path: &o.path,
        raw_query: o.query.as_deref(),
        header: &lookup,
        body: &o.body,
    };
    let auth = parse_authorization(&lookup("authorization").unwrap())?;
    let canonical = canonical_request(&req, &auth)?;
    verify(&req, &auth, SK, now)?;
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
        canonical_query(Some("limit=5&marker=a%2Bb%20c%2Fd~e")),
        "limit=5&marker=a%2Bb%20c%2Fd~e"
    );
    assert_eq!(canonical_query(Some("b=2&a=1&a=0&c")), "a=0&a=1&b=2&c=");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(
        canonical_uri("/v1/p/secrets/db%20pass%3A%C3%BC/versions"),
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
        assert_eq!(canonical_uri(p), general(p), "{p:?}");
    }
    // A path with anything else still takes the general rule.
    assert_eq!(canonical_uri("/a b/c+d"), "/a%20b/c%2Bd/");
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
