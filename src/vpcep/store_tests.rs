#![allow(clippy::unwrap_used)]
//! The kept service and endpoint counts against the records, on both engines.
use super::*;
use crate::store::Db;

fn service(project: &str, id: &str) -> ServiceRecord {
    ServiceRecord {
        id: id.into(),
        project_id: project.into(),
        domain_id: "d".into(),
        name: String::new(),
        server_type: "VM".into(),
        service_type: "interface".into(),
        vpc_id: "v".into(),
        port_id: None,
        ip: None,
        ports: Vec::new(),
        approval_enabled: true,
        tcp_proxy: "close".into(),
        description: String::new(),
        pool_id: String::new(),
        tags: BTreeMap::new(),
        permissions: Vec::new(),
        server_resources: Vec::new(),
        professional: false,
        created_ms: 0,
        updated_ms: 0,
    }
}

fn endpoint(project: &str, id: &str, marker: i64) -> EndpointRecord {
    EndpointRecord {
        id: id.into(),
        project_id: project.into(),
        domain_id: "d2".into(),
        service_id: "s".into(),
        service_project_id: "p".into(),
        service_name: String::new(),
        service_type: "interface".into(),
        vpc_id: "v".into(),
        subnet_id: None,
        ip: None,
        pool: None,
        marker_id: marker,
        status: EndpointStatus::Accepted,
        description: String::new(),
        connection_description: String::new(),
        enable_dns: false,
        whitelist: Vec::new(),
        enable_whitelist: false,
        routetables: Vec::new(),
        policy_statement: None,
        policy_document: None,
        tags: BTreeMap::new(),
        professional: false,
        error: None,
        created_ms: 0,
        updated_ms: 0,
    }
}

fn counts_follow_writes(db: &Db) {
    db.tx_blocking(|tx| {
        let check = |tx: &mut dyn Tx| -> Result<(), VpcepError> {
            for p in ["vp1", "vp2"] {
                assert_eq!(count_services(tx, p)?, list_services(tx, p)?.len(), "{p}");
                assert_eq!(count_endpoints(tx, p)?, list_endpoints(tx, p)?.len(), "{p}");
            }
            Ok(())
        };
        for i in 0..4 {
            save_service(tx, &service("vp1", &format!("s{i}")))?;
            insert_endpoint(tx, &endpoint("vp1", &format!("e{i}"), i))?;
            check(tx)?;
        }
        save_service(tx, &service("vp2", "s9"))?;
        // Saving a record again (an update) does not count it again.
        save_service(tx, &service("vp1", "s0"))?;
        save_endpoint(tx, &endpoint("vp1", "e0", 0))?;
        check(tx)?;
        assert_eq!(
            (count_services(tx, "vp1")?, count_endpoints(tx, "vp1")?),
            (4, 4)
        );
        delete_service(tx, &service("vp1", "s1"))?;
        delete_endpoint(tx, &endpoint("vp1", "e2", 2))?;
        // Deleting what is gone changes nothing.
        delete_service(tx, &service("vp1", "s1"))?;
        delete_endpoint(tx, &endpoint("vp1", "e2", 2))?;
        check(tx)?;
        assert_eq!(
            (count_services(tx, "vp1")?, count_endpoints(tx, "vp1")?),
            (3, 3)
        );
        assert_eq!(
            (count_services(tx, "vp2")?, count_endpoints(tx, "vp2")?),
            (1, 0)
        );
        Ok::<_, VpcepError>(())
    })
    .unwrap();
}

#[test]
fn service_and_endpoint_counts_follow_writes() {
    let dir = tempfile::tempdir().unwrap();
    counts_follow_writes(&Db::open(dir.path(), None).unwrap());
}

#[test]
fn service_and_endpoint_counts_follow_writes_on_postgres() {
    let Some(url) = crate::store::testing::fresh_database("vpcep_counts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    counts_follow_writes(&Db::open(dir.path(), Some(&url)).unwrap());
}

/// Records stored before they were counted are counted once at start-up.
#[test]
fn older_records_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), None).unwrap();
    db.tx_blocking(|tx| {
        tx.put_json(SERVICES, "vq/s1", &service("vq", "s1"))?;
        tx.put_json(ENDPOINTS, "vq/e1", &endpoint("vq", "e1", 1))?;
        tx.put_json(ENDPOINTS, "vq/e2", &endpoint("vq", "e2", 2))?;
        assert_eq!(count_existing(tx)?, 3);
        assert_eq!(
            (count_services(tx, "vq")?, count_endpoints(tx, "vq")?),
            (1, 2)
        );
        assert_eq!(count_existing(tx)?, 0, "done once");
        Ok::<_, VpcepError>(())
    })
    .unwrap();
}
