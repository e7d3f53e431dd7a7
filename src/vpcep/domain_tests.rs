#![allow(clippy::unwrap_used)]
use super::*;
use EndpointStatus::*;

#[test]
fn new_endpoints_settle_by_approval() {
    assert_eq!(EndpointStatus::initial(true), PendingAcceptance);
    assert_eq!(EndpointStatus::initial(false), Accepted);
}

#[test]
fn accept_and_reject_transitions() {
    let receive = ConnectionAction::Receive;
    let reject = ConnectionAction::Reject;
    assert_eq!(receive.apply(PendingAcceptance).unwrap(), Accepted);
    assert_eq!(receive.apply(Rejected).unwrap(), Accepted);
    assert_eq!(receive.apply(Accepted).unwrap(), Accepted);
    assert_eq!(reject.apply(PendingAcceptance).unwrap(), Rejected);
    assert_eq!(reject.apply(Accepted).unwrap(), Rejected);
    assert_eq!(reject.apply(Rejected).unwrap(), Rejected);
    for action in [receive, reject] {
        assert!(matches!(
            action.apply(Creating),
            Err(VpcepError::EndpointCreating)
        ));
        assert!(matches!(
            action.apply(Deleting),
            Err(VpcepError::EndpointDeleting)
        ));
        assert!(matches!(
            action.apply(Failed),
            Err(VpcepError::EndpointFailed)
        ));
    }
}

#[test]
fn actions_and_status_filters() {
    assert_eq!(
        ConnectionAction::parse(Some("receive")).unwrap(),
        ConnectionAction::Receive
    );
    assert!(ConnectionAction::parse(Some("accept")).is_err());
    assert!(ConnectionAction::parse(None).is_err());
    for s in ALL_STATUSES {
        assert_eq!(EndpointStatus::parse_filter(s.as_str()).unwrap(), s);
    }
    assert!(matches!(
        EndpointStatus::parse_filter("ACCEPTED"),
        Err(VpcepError::InvalidStatus)
    ));
    assert!(Accepted.is_live() && Creating.is_live() && !Rejected.is_live());
}

#[test]
fn uuids() {
    let e = || VpcepError::InvalidEndpointId;
    assert_eq!(
        parse_uuid(Some("0DF78897-35b0-4a93-ad17-0bc0585f546b"), e()).unwrap(),
        "0df78897-35b0-4a93-ad17-0bc0585f546b"
    );
    for bad in [
        "",
        "0df78897",
        "0df78897-35b0-4a93-ad17-0bc0585f546",
        "0df78897-35b0-4a93-ad17-0bc0585f546bb",
        "zzz78897-35b0-4a93-ad17-0bc0585f546b",
        "0df7889735b04a93ad170bc0585f546b",
    ] {
        assert!(parse_uuid(Some(bad), e()).is_err(), "{bad}");
    }
    assert!(parse_uuid(None, e()).is_err());
}

#[test]
fn descriptions() {
    let seed = "终端节点节点1, 属于账户[0605767a3300d5762fb7c0186d9e1779]iaas_commonnet_odin_26";
    assert_eq!(parse_description(Some(seed)).unwrap(), seed);
    assert_eq!(parse_description(None).unwrap(), "");
    assert!(parse_description(Some(&"描".repeat(512))).is_ok());
    for bad in ["a<b", "a>b", "<script>"] {
        assert!(matches!(
            parse_description(Some(bad)),
            Err(VpcepError::InvalidDescription)
        ));
    }
    assert!(parse_description(Some(&"x".repeat(513))).is_err());
}

#[test]
fn service_names() {
    assert_eq!(parse_service_name(Some("my_svc-1")).unwrap(), "my_svc-1");
    assert_eq!(parse_service_name(None).unwrap(), "");
    assert!(parse_service_name(Some(&"a".repeat(17))).is_err());
    assert!(parse_service_name(Some("a.b")).is_err());
    assert!(parse_service_name(Some("名字")).is_err());
    assert_eq!(full_service_name("r1", "svc", "id"), "r1.svc.id");
    assert_eq!(full_service_name("r1", "", "id"), "r1.id");
}

#[test]
fn enums() {
    assert_eq!(parse_server_type(Some("LB")).unwrap(), "LB");
    assert!(matches!(
        parse_server_type(Some("vm")),
        Err(VpcepError::InvalidServerType)
    ));
    assert!(parse_server_type(None).is_err());
    assert_eq!(parse_service_type(None).unwrap(), "interface");
    assert!(parse_service_type(Some("other")).is_err());
    assert_eq!(parse_tcp_proxy(None).unwrap(), "close");
    assert!(parse_tcp_proxy(Some("yes")).is_err());
}

#[test]
fn port_mappings() {
    let p = |c: i64, s: i64| (Some(c), Some(s), None::<String>);
    let ok = parse_ports(&[p(8080, 80), p(8443, 443)]).unwrap();
    assert_eq!(ok[0].protocol, "TCP");
    assert!(matches!(parse_ports(&[]), Err(VpcepError::PortsEmpty)));
    assert!(matches!(
        parse_ports(&[p(0, 80)]),
        Err(VpcepError::InvalidServicePort)
    ));
    assert!(matches!(
        parse_ports(&[p(80, 65536)]),
        Err(VpcepError::InvalidServicePort)
    ));
    assert!(matches!(
        parse_ports(&[p(80, 1), p(80, 2)]),
        Err(VpcepError::InvalidServicePort)
    ));
    assert!(matches!(
        parse_ports(&[(Some(1), Some(2), Some("UDP".into()))]),
        Err(VpcepError::InvalidProtocol)
    ));
    assert!(matches!(
        parse_ports(&[(None, Some(2), None)]),
        Err(VpcepError::InvalidServicePort)
    ));
}

#[test]
fn service_ips() {
    assert_eq!(
        parse_service_ip(Some("127.0.0.1")).unwrap().as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        parse_service_ip(Some("Backend.example.com"))
            .unwrap()
            .as_deref(),
        Some("backend.example.com")
    );
    assert_eq!(parse_service_ip(Some("")).unwrap(), None);
    assert!(parse_service_ip(Some("1.2.3.4.5")).is_err());
    assert!(parse_service_ip(Some("a b")).is_err());
}

#[test]
fn times_print_like_the_cloud() {
    assert_eq!(format_time(1_649_902_148_123), "2022-04-14T02:09:08Z");
}

#[test]
fn list_queries() {
    let q = ListQuery::parse(None, None, None, None, 1000).unwrap();
    assert_eq!(
        (q.limit, q.offset, q.by_update, q.ascending),
        (10, 0, false, false)
    );
    assert!(matches!(
        ListQuery::parse(Some("1001"), None, None, None, 1000),
        Err(VpcepError::InvalidLimit)
    ));
    assert!(matches!(
        ListQuery::parse(Some("-1"), None, None, None, 1000),
        Err(VpcepError::InvalidLimit)
    ));
    assert!(matches!(
        ListQuery::parse(None, Some("x"), None, None, 1000),
        Err(VpcepError::InvalidOffset)
    ));
    assert!(matches!(
        ListQuery::parse(None, None, Some("name"), None, 1000),
        Err(VpcepError::InvalidSortKey)
    ));
    assert!(matches!(
        ListQuery::parse(None, None, None, Some("up"), 1000),
        Err(VpcepError::InvalidSortDir)
    ));
    let q = ListQuery::parse(Some("2"), Some("1"), Some("update_at"), Some("asc"), 1000).unwrap();
    // (created, updated, id)
    let items = vec![(1, 40, "a"), (2, 10, "b"), (3, 30, "c"), (4, 20, "d")];
    let page = q.apply(items, |t| (t.0, t.1, t.2.to_string()));
    assert_eq!(page.iter().map(|t| t.2).collect::<Vec<_>>(), vec!["d", "c"]);
    let q = ListQuery::parse(None, None, None, None, 1000).unwrap();
    let page = q.apply(vec![(1, 0, "a"), (2, 0, "b")], |t| {
        (t.0, t.1, t.2.to_string())
    });
    assert_eq!(page[0].2, "b", "newest first by default");
}

#[test]
fn fuzzy() {
    assert!(fuzzy_match("cn-north-4.MySvc.id", "mysvc"));
    assert!(!fuzzy_match("cn-north-4.other.id", "mysvc"));
}

#[test]
fn policies() {
    let ok =
        serde_json::json!({"Effect": "Allow", "Action": ["obs:*"], "Resource": ["obs:*:*:*:*/*"]});
    let (st, doc) = parse_policy(Some(vec![ok]), None).unwrap();
    assert!(st.unwrap().is_array() && doc.is_none());
    for bad in [
        serde_json::json!({"Effect": "Maybe"}),
        serde_json::json!({"Action": ["x"]}),
        serde_json::json!({"Effect": "Deny", "Action": "x"}),
        serde_json::json!("Allow"),
    ] {
        assert!(matches!(
            parse_policy(Some(vec![bad]), None),
            Err(VpcepError::InvalidPolicy)
        ));
    }
    assert!(parse_policy(None, Some(serde_json::json!([1]))).is_err());
    assert!(parse_policy(None, Some(serde_json::json!({"Version": "5.0"}))).is_ok());
}
