//! One code, one meaning: every error enum's code table, read from the
//! source, may give a code to several variants only where the cloud itself
//! uses one code for all of them (the allow-list below says which and why),
//! and every code of dewstack's own ranges (`*.9xxx`) is listed in
//! docs/error-codes.md, which lists no other of those.
//!
//! The tables are read with `syn` rather than by building each variant, so a
//! new variant is checked the day it is added, with nothing to register.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use syn::visit::Visit;

/// The code tables: file, enum, the function holding its `match`.
const TABLES: [(&str, &str, &str); 6] = [
    ("src/kms/error.rs", "KmsError", "status_and_code"),
    ("src/csms/error.rs", "CsmsError", "status_and_code"),
    ("src/vpcep/error.rs", "VpcepError", "status_and_code"),
    ("src/ops/error.rs", "OpsError", "status_and_code"),
    ("src/audit/query.rs", "CtsError", "into_response"),
    // Matched on `(error, service)`: the code may depend on the service.
    ("src/auth/error.rs", "AuthError", "code"),
];

/// Codes several variants share, each with every variant that may use it
/// and why. A shared code missing here, or with another set of variants,
/// fails the test; dewstack's own codes (9xxx) are never shared.
const SHARED: &[(&str, &[&str], &str)] = &[
    (
        "KMS.0308",
        &[
            "KmsError::InvalidParameter",
            "KmsError::UsageMismatch",
            "KmsError::InvalidCiphertext",
            "KmsError::Unsupported",
            "KmsError::InvalidAliasName",
            "KmsError::InvalidPolicy",
        ],
        "the cloud's generic \"Invalid parameter.\" (older: \"Invalid XXX.\")",
    ),
    (
        "KMS.0207",
        &[
            "KmsError::KeyNotFound",
            "KmsError::AliasNotFound",
            "KmsError::KeystoreNotFound",
            "KmsError::PolicyNotFound",
            "KmsError::AccessPointNotFound",
        ],
        "KMS publishes one not-found code; every missing KMS resource answers it",
    ),
    (
        "KMS.1102",
        &["KmsError::RegionUnsupported", "KmsError::NoReplicaInRegion"],
        "\"Invalid realm.\": a region that cannot be used for this key",
    ),
    (
        "KMS.0306",
        &["KmsError::NoKeyPermission", "KmsError::PolicyDenied"],
        "\"The user has no permission to access the key.\", by grants or by key policy",
    ),
    (
        "CSMS.0002",
        &[
            "CsmsError::MissingParameter",
            "CsmsError::InvalidParameter",
            "CsmsError::GrantGroupUnsupported",
        ],
        "CSMS's generic \"The value of parameter is invalid.\"",
    ),
    (
        "CSMS.0005",
        &[
            "CsmsError::EventNotFound",
            "CsmsError::VersionNotFound",
            "CsmsError::StageNotFound",
            "CsmsError::TagNotFound",
            "CsmsError::KmsKeyNotFound",
            "CsmsError::GranteeNotFound",
            "CsmsError::GrantNotFound",
            "CsmsError::UserNotFound",
        ],
        "CSMS's generic \"The resource does not exist.\"",
    ),
    (
        "CSMS.0001",
        &["CsmsError::Unavailable", "CsmsError::Internal"],
        "one code for a server-side failure (dewstack's choice, none is published)",
    ),
    (
        "EndPoint.0002",
        &[
            "VpcepError::BadBody",
            "VpcepError::InvalidParameter",
            "VpcepError::InvalidDescription",
        ],
        "VPCEP's generic \"Parameter error.\"",
    ),
    (
        "EndPoint.3010",
        &["VpcepError::InvalidIp", "VpcepError::BackendIsEndpointAddress"],
        "\"Invalid IP address.\": a backend address dewstack must not forward to",
    ),
    (
        "EndPoint.3043",
        &["VpcepError::InvalidServicePort", "VpcepError::BackendIsApi"],
        "\"The service port is invalid.\": a backend port that is dewstack's own API",
    ),
    (
        "EndPoint.0001",
        &["VpcepError::Unavailable", "VpcepError::Internal"],
        "\"System error. Please retry.\"",
    ),
    (
        "APIGW.0301",
        &[
            "AuthError::Missing",
            "AuthError::Signature",
            "AuthError::BadToken",
            "AuthError::ExpiredToken",
        ],
        "the gateway's \"Incorrect IAM authentication information: …\" for every credential failure",
    ),
    (
        "APIGW.0201",
        &[
            "AuthError::TooLarge",
            "AuthError::SlowBody",
            "OpsError::BadRequest",
        ],
        "the gateway's \"API request error.\" / \"Request entity too large.\"",
    ),
];

const SERVICES: [&str; 4] = ["Kms", "Csms", "Vpcep", "Iam"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One arm of a code table: the variants it names (none for `_`), the
/// service it is restricted to, and the code it gives.
struct Arm {
    variants: Option<BTreeSet<String>>,
    service: Option<String>,
    code: String,
}

fn variants_of(pat: &syn::Pat, out: &mut Option<BTreeSet<String>>) {
    let last = |p: &syn::Path| p.segments.last().map(|s| s.ident.to_string());
    let name = match pat {
        syn::Pat::Or(or) => {
            for case in &or.cases {
                variants_of(case, out);
            }
            return;
        }
        syn::Pat::Wild(_) => return,
        syn::Pat::Reference(r) => return variants_of(&r.pat, out),
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::TupleStruct(t) => last(&t.path),
        syn::Pat::Path(p) => last(&p.path),
        syn::Pat::Struct(s) => last(&s.path),
        _ => panic!("a code table arm has a pattern this test does not read"),
    };
    out.get_or_insert_with(BTreeSet::new).extend(name);
}

fn service_of(pat: &syn::Pat) -> Option<String> {
    let mut names = None;
    variants_of(pat, &mut names);
    names.map(|n| {
        assert_eq!(n.len(), 1, "one service per arm");
        n.into_iter().next().unwrap_or_default()
    })
}

/// The last string literal of an arm's body: the code.
fn code_of(expr: &syn::Expr) -> Option<String> {
    struct Last(Option<String>);
    impl<'a> Visit<'a> for Last {
        fn visit_lit_str(&mut self, l: &'a syn::LitStr) {
            self.0 = Some(l.value());
        }
    }
    let mut last = Last(None);
    last.visit_expr(expr);
    last.0
}

/// The first `match` of function `func` of `impl ty` in `file`.
fn table(file: &syn::File, ty: &str, func: &str) -> Vec<Arm> {
    struct Find<'s> {
        ty: &'s str,
        func: &'s str,
        in_impl: bool,
        found: Option<syn::ExprMatch>,
    }
    impl<'a> Visit<'a> for Find<'_> {
        fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
            let named = matches!(&*i.self_ty, syn::Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == self.ty));
            self.in_impl = named;
            syn::visit::visit_item_impl(self, i);
            self.in_impl = false;
        }
        fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
            if self.in_impl && f.sig.ident == self.func && self.found.is_none() {
                struct First(Option<syn::ExprMatch>);
                impl<'a> Visit<'a> for First {
                    fn visit_expr_match(&mut self, m: &'a syn::ExprMatch) {
                        if self.0.is_none() {
                            self.0 = Some(m.clone());
                        }
                    }
                }
                let mut first = First(None);
                first.visit_impl_item_fn(f);
                self.found = first.0;
            }
        }
    }
    let mut find = Find {
        ty,
        func,
        in_impl: false,
        found: None,
    };
    find.visit_file(file);
    let m = find
        .found
        .unwrap_or_else(|| panic!("no match in {ty}::{func}"));
    m.arms
        .iter()
        .map(|arm| {
            let (variants, service) = match &arm.pat {
                syn::Pat::Tuple(t) if t.elems.len() == 2 => {
                    let mut v = None;
                    variants_of(&t.elems[0], &mut v);
                    (v, service_of(&t.elems[1]))
                }
                p => {
                    let mut v = None;
                    variants_of(p, &mut v);
                    (v, None)
                }
            };
            let code = code_of(&arm.body)
                .unwrap_or_else(|| panic!("an arm of {ty}::{func} gives no code literal"));
            Arm {
                variants,
                service,
                code,
            }
        })
        .collect()
}

fn enum_variants(file: &syn::File, ty: &str) -> Vec<String> {
    file.items
        .iter()
        .find_map(|i| match i {
            syn::Item::Enum(e) if e.ident == ty => {
                Some(e.variants.iter().map(|v| v.ident.to_string()).collect())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no enum {ty}"))
}

/// code → every `Enum::Variant` answering it, over all tables.
fn codes() -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, ty, func) in TABLES {
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        let file = syn::parse_file(&text).unwrap();
        let variants = enum_variants(&file, ty);
        let arms = table(&file, ty, func);
        let services: Vec<Option<&str>> = if arms.iter().any(|a| a.service.is_some()) {
            SERVICES.iter().map(|s| Some(*s)).collect()
        } else {
            vec![None]
        };
        for service in services {
            for v in &variants {
                // The first arm that matches, as Rust's `match` picks.
                let arm = arms.iter().find(|a| {
                    a.variants.as_ref().is_none_or(|vs| vs.contains(v))
                        && a.service.as_deref().is_none_or(|s| Some(s) == service)
                });
                let arm = arm.unwrap_or_else(|| panic!("{ty}::{v} has no code"));
                out.entry(arm.code.clone())
                    .or_default()
                    .insert(format!("{ty}::{v}"));
            }
        }
    }
    out
}

fn own(code: &str) -> bool {
    code.split_once('.')
        .is_some_and(|(_, n)| n.len() == 4 && n.starts_with('9'))
}

#[test]
fn a_code_has_one_meaning_unless_the_cloud_gives_it_several() {
    let codes = codes();
    assert!(
        codes.len() > 100,
        "the tables were not read: {}",
        codes.len()
    );
    let allowed: BTreeMap<&str, BTreeSet<String>> = SHARED
        .iter()
        .map(|(c, vs, _)| (*c, vs.iter().map(|v| v.to_string()).collect()))
        .collect();
    let mut problems = Vec::new();
    for (code, users) in &codes {
        match allowed.get(code.as_str()) {
            _ if users.len() == 1 => {}
            Some(a) if a == users && !own(code) => {}
            Some(a) => problems.push(format!(
                "{code}: the allow-list says {a:?}, the code tables give it to {users:?}"
            )),
            None => problems.push(format!("{code} is given to {users:?}")),
        }
    }
    for (code, _, why) in SHARED {
        assert!(!why.is_empty());
        if codes.get(*code).is_none_or(|u| u.len() < 2) {
            problems.push(format!("{code} is allow-listed but not shared"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Every `Xxx.9ddd` in a text.
fn own_codes_in(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices(".9") {
        let digits = &b[i + 1..(i + 5).min(b.len())];
        let after = b.get(i + 5).copied().unwrap_or(b' ');
        if digits.len() != 4 || !digits.iter().all(u8::is_ascii_digit) || after.is_ascii_digit() {
            continue;
        }
        let start = b[..i]
            .iter()
            .rposition(|c| !c.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        if i - start >= 2 && b[start].is_ascii_uppercase() {
            out.insert(text[start..i + 5].to_owned());
        }
    }
    out
}

/// The non-test source of `src/`, where error codes (including those of
/// background tasks, which are no HTTP error) are written.
fn own_codes_in_source() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".rs") && !name.ends_with("tests.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let live = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.extend(own_codes_in(live));
            }
        }
    }
    out
}

#[test]
fn every_own_code_is_documented_and_no_other() {
    let in_source = own_codes_in_source();
    assert!(in_source.contains("KMS.9001"), "{in_source:?}");
    let doc = std::fs::read_to_string(root().join("docs/error-codes.md")).unwrap();
    let in_doc = own_codes_in(&doc);
    let undocumented: Vec<_> = in_source.difference(&in_doc).collect();
    let stale: Vec<_> = in_doc.difference(&in_source).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "used but not in docs/error-codes.md: {undocumented:?}; listed there but unused: {stale:?}"
    );
}

#[test]
fn the_scanner_finds_own_codes_only() {
    let found = own_codes_in("`KMS.9001`, CSMS.9101; KMS.0308, v0.9000, KMS.90011, Endpoint.9002");
    let want: BTreeSet<String> = ["KMS.9001", "CSMS.9101", "Endpoint.9002"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, want);
}
