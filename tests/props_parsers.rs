//! Property tests: the pure parsers that see request data never panic, and
//! what they accept still holds the rule they document. The bounded run is
//! small (see `docs/fuzzing.md`); `PROPTEST_CASES=100000` runs longer.

use dewstack::auth::sig::{self, SignedRequest};
use dewstack::common::paging;
use dewstack::csms::domain as csms;
use dewstack::vpcep::{domain as vpcep, error::VpcepError, permission};
use proptest::prelude::*;

/// Short strings weighted towards what breaks byte-index parsing: multi-byte
/// characters, digits, unit letters, separators, percent escapes.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[0-9dhms天é😀 +-]{0,12}",
        "[A-Za-z0-9%=&;,/ .~_-]{0,60}",
        "(%[0-9A-Fa-f]{0,2}|[a-z/]){0,20}",
        Just(String::new()),
        Just("9".repeat(400)),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        Just("SDK-HMAC-SHA256"),
        Just("SDK-HMAC-SM3"),
        Just("V11-HMAC-SHA256"),
        Just("SDK-ECDSA-P256-SHA256"),
        Just("SDK-SM2-SM3"),
        Just("X"),
    ];
    let part = prop_oneof![
        hostile().prop_map(|v| format!("Access={v}")),
        hostile().prop_map(|v| format!("Credential={v}")),
        hostile().prop_map(|v| format!("SignedHeaders={v}")),
        hostile().prop_map(|v| format!("Signature={v}")),
        hostile(),
    ];
    (alg, prop::collection::vec(part, 0..6), "[ ,]{0,3}")
        .prop_map(|(a, parts, sep)| format!("{a} {}{sep}", parts.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn authorization_header_parser_never_panics(value in prop_oneof![header_value(), ".*"]) {
        let _ = sig::parse_authorization(&value);
    }

    #[test]
    fn canonical_request_and_verify_never_panic(
        method in "[A-Za-z]{0,8}|.{0,8}",
        path in hostile(),
        query in proptest::option::of(hostile()),
        headers in prop::collection::vec(("[a-z-]{1,12}", hostile()), 0..6),
        date in prop_oneof![Just("20231114T221320Z".to_owned()), "[0-9TZ]{0,20}", hostile()],
        body in prop::collection::vec(any::<u8>(), 0..64),
        auth in header_value(),
    ) {
        let lookup = |name: &str| -> Option<&str> {
            if name == "x-sdk-date" {
                return Some(date.as_str());
            }
            headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
        };
        let req = SignedRequest {
            method: &method,
            raw_path: &path,
            raw_query: query.as_deref(),
            header: &lookup,
            body: &body,
        };
        let _ = sig::canonical_uri(&path);
        let _ = sig::canonical_query(query.as_deref());
        let _ = sig::parse_sdk_date(&date);
        if let Ok(parsed) = sig::parse_authorization(&auth) {
            let _ = sig::canonical_request(&req, &parsed);
            let scope = sig::ExpectedScope {
                region: dewstack::testing::REGION,
                services: &["kms"],
                global: false,
            };
            let _ = sig::verify(&req, &parsed, "secret", dewstack::testing::fixed_time(), &scope);
        }
    }

    #[test]
    fn paging_parsers_never_panic(
        limit in proptest::option::of(hostile()),
        offset in proptest::option::of(hostile()),
        max in 1usize..2000,
        len in 0usize..50,
        at in any::<usize>(),
        take in any::<usize>(),
    ) {
        if let Ok(n) = paging::parse_limit(limit.as_deref(), 1, max) {
            prop_assert!((1..=max).contains(&n));
        }
        let _ = paging::parse_offset(offset.as_deref());
        let p = paging::page((0..len).collect::<Vec<_>>(), at, take);
        prop_assert!(p.items.len() <= len);
    }

    #[test]
    fn csms_parsers_never_panic(raw in hostile(), days in any::<i64>()) {
        if let Ok(secs) = csms::parse_rotation_period(&raw) {
            prop_assert!((6 * 3_600..=365 * 86_400).contains(&secs));
        }
        if let Ok(d) = csms::parse_recovery_days(Some(days)) {
            prop_assert!((7..=30).contains(&d));
        }
        let _ = csms::parse_name(Some(&raw), "name");
        let _ = csms::parse_description(Some(&raw));
        let _ = csms::parse_secret_type(Some(&raw));
        let _ = csms::parse_value(Some(&raw), None);
        let _ = csms::parse_value(None, Some(&raw));
        let _ = csms::parse_event_state(Some(&raw));
        let list = [raw.clone()];
        let _ = csms::parse_event_types(Some(&list[..]));
        let _ = csms::parse_subscriptions(Some(&list[..]));
    }

    #[test]
    fn vpcep_parsers_never_panic(
        raw in hostile(),
        ports in prop::collection::vec(
            (proptest::option::of(any::<i64>()), proptest::option::of(any::<i64>()),
             proptest::option::of(hostile())),
            0..4,
        ),
        ms in any::<i64>(),
    ) {
        let _ = vpcep::parse_uuid(Some(&raw), VpcepError::InvalidPolicy);
        let _ = vpcep::parse_description(Some(&raw));
        let _ = vpcep::parse_service_name(Some(&raw));
        let _ = vpcep::parse_server_type(Some(&raw));
        let _ = vpcep::parse_service_type(Some(&raw));
        let _ = vpcep::parse_tcp_proxy(Some(&raw));
        let _ = vpcep::parse_service_ip(Some(&raw));
        let _ = vpcep::parse_ports(&ports);
        let _ = vpcep::format_time(ms);
        let _ = vpcep::fuzzy_match(&raw, "a");
        for kind in [permission::PermissionType::DomainId, permission::PermissionType::OrgPath] {
            let _ = permission::parse(&raw, kind);
        }
        let _ = permission::permits("owner", [raw.as_str()], &raw);
        let _ = permission::is_public([raw.as_str()]);
    }

    #[test]
    fn kms_key_id_parser_never_panics(raw in hostile()) {
        if let Ok(id) = dewstack::kms::parse_key_id(Some(&raw)) {
            prop_assert_eq!(id.len(), 36);
        }
    }
}

/// Regression (issue item 1): the unit is the last *character*; a value ending
/// in a multi-byte character used to panic on a byte index.
#[test]
fn rotation_period_with_a_multibyte_unit_is_an_error() {
    for raw in ["6天", "天", "1d天", "6h😀", "é"] {
        assert!(csms::parse_rotation_period(raw).is_err(), "{raw:?}");
    }
    assert_eq!(csms::parse_rotation_period("6h").ok(), Some(21_600));
}
