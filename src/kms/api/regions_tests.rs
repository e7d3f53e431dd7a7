#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn paging() {
    assert_eq!(parse_region_paging(None, None).unwrap(), (10, 0));
    assert_eq!(parse_region_paging(Some("1"), Some("1")).unwrap(), (1, 1));
    assert!(parse_region_paging(Some("0"), None).is_err());
    assert!(parse_region_paging(Some("x"), None).is_err());
    assert!(parse_region_paging(None, Some("-1")).is_err());
}

#[test]
fn target_regions() {
    let served = ["cn-north-4".to_owned(), "cn-south-1".to_owned()];
    let code = |r: Option<&str>| {
        target_region(&served[..1], r, "replica_region")
            .unwrap_err()
            .status_and_code()
    };
    assert_eq!(code(None).1, "KMS.0204");
    assert_eq!(code(Some(" ")).1, "KMS.0204");
    assert_eq!(
        code(Some("cn-south-1")),
        (axum::http::StatusCode::BAD_REQUEST, "KMS.1102")
    );
    assert_eq!(
        target_region(&served, Some("cn-south-1"), "replica_region").unwrap(),
        "cn-south-1"
    );
}

/// The records of one key across two projects, on a real (temporary) database.
mod records {
    use super::*;
    use crate::clock::FixedClock;
    use crate::kms::crypto::material;
    use crate::kms::domain::rotation;
    use crate::kms::domain::{KeySpec, NewKey, Origin};
    use crate::store::Db;
    use crate::testing::{DOMAIN_ID, PROJECT_ID};
    use std::sync::Arc;

    const SOUTH: &str = "0123456789abcdef0123456789abcdef";

    async fn primary(app: &AppState) -> KeyRecord {
        let new = NewKey {
            alias: "mr".into(),
            description: String::new(),
            spec: KeySpec::Aes256,
            usage: KeySpec::Aes256.default_usage(),
            origin: Origin::Kms,
            enterprise_project_id: "0".into(),
            keystore_id: "0".into(),
        };
        let key = crate::kms::api::provision::new_record(app, DOMAIN_ID, PROJECT_ID, new, false)
            .await
            .unwrap();
        let k = key.clone();
        app.db.tx(move |tx| store::insert(tx, &k)).await.unwrap();
        key
    }

    async fn rotate(app: &AppState, project: &str, id: &str) {
        let (keyring, rng) = (app.keyring.clone(), app.rng.clone());
        let (project, id) = (project.to_owned(), id.to_owned());
        app.db
            .tx(move |tx| {
                let mut k = store::load(tx, &project, &id)?;
                let sealed = material::seal_fresh(&keyring, &rng, &k.key_id, k.key_spec)?;
                rotation::add_version(&mut k, sealed, 1);
                store::save(tx, &k)
            })
            .await
            .unwrap();
    }

    async fn load(app: &AppState, project: &str, id: &str) -> Option<KeyRecord> {
        let (project, id) = (project.to_owned(), id.to_owned());
        app.db
            .read(move |tx| store::find(tx, &project, &id))
            .await
            .unwrap()
    }

    async fn older(app: &AppState, project: &str, id: &str) -> Vec<Vec<u8>> {
        let (project, id) = (project.to_owned(), id.to_owned());
        app.db
            .read(move |tx| versions::list(tx, &project, &id))
            .await
            .unwrap()
            .into_iter()
            .map(|(_, v)| v.sealed)
            .collect()
    }

    #[tokio::test]
    async fn a_replica_holds_every_version_follows_rotations_and_leaves_when_purged() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), None).unwrap();
        let app =
            crate::testing::state(db, Arc::new(FixedClock::new(crate::testing::fixed_time())));
        let key = primary(&app).await;
        let id = key.key_id.clone();
        rotate(&app, PROJECT_ID, &id).await;
        let source = load(&app, PROJECT_ID, &id).await.unwrap();
        let replica = Replica {
            peer: Peer {
                region: "south".into(),
                project_id: SOUTH.into(),
            },
            alias: "mr-south".into(),
            description: "dr".into(),
            tags: Default::default(),
            now_ms: 5,
        };
        let group = rules::replicate(
            &Source {
                project: PROJECT_ID,
                region: "north",
                default_key: false,
                in_key_store: false,
                state: source.key_state,
                group: None,
            },
            replica.peer.clone(),
        )
        .unwrap();
        let (s, r, g) = (source.clone(), replica.clone(), group.clone());
        app.db
            .tx(move |tx| insert_replica(tx, &s, &r, &g, 100))
            .await
            .unwrap();
        let copy = load(&app, SOUTH, &id).await.unwrap();
        assert_eq!(copy.version_count, 2);
        assert_eq!(
            copy.current.as_ref().unwrap().sealed,
            source.current.as_ref().unwrap().sealed
        );
        assert_eq!(
            older(&app, SOUTH, &id).await,
            older(&app, PROJECT_ID, &id).await
        );
        assert_eq!(copy.key_alias, "mr-south");
        let src = load(&app, PROJECT_ID, &id).await.unwrap();
        assert_eq!(src.multi_region, Some(group.clone()));
        let owner = app.db.read({
            let id = id.clone();
            move |tx| store::owner_project(tx, &id)
        });
        assert_eq!(owner.await.unwrap().as_deref(), Some(PROJECT_ID));
        // A second replica in the same project is refused even past the rules.
        let (s, r, g) = (source.clone(), replica.clone(), group.clone());
        let again = app
            .db
            .tx(move |tx| insert_replica(tx, &s, &r, &g, 100))
            .await;
        assert_eq!(again.unwrap_err().status_and_code().1, "KMS.9302");

        // The primary's rotation reaches the replica in the same transaction.
        rotate(&app, PROJECT_ID, &id).await;
        let (p, c) = (
            load(&app, PROJECT_ID, &id).await.unwrap(),
            load(&app, SOUTH, &id).await.unwrap(),
        );
        assert_eq!(c.version_count, 3);
        assert_eq!(c.current.unwrap().sealed, p.current.unwrap().sealed);
        assert_eq!(
            older(&app, SOUTH, &id).await,
            older(&app, PROJECT_ID, &id).await
        );

        // Moving the primary swaps the roles; then the old primary is purged.
        let i = id.clone();
        app.db
            .tx(move |tx| move_primary(tx, PROJECT_ID, &i, "south"))
            .await
            .unwrap();
        let south = load(&app, SOUTH, &id).await.unwrap();
        assert_eq!(
            rules::key_type(south.multi_region.as_ref(), SOUTH),
            "PRIMARY"
        );
        let north = load(&app, PROJECT_ID, &id).await.unwrap();
        assert_eq!(
            rules::key_type(north.multi_region.as_ref(), PROJECT_ID),
            "REPLICA"
        );
        app.db.tx(move |tx| store::purge(tx, &north)).await.unwrap();
        let alone = load(&app, SOUTH, &id).await.unwrap().multi_region.unwrap();
        assert!(alone.replicas.is_empty());
        let owner = app.db.read(move |tx| store::owner_project(tx, &id));
        assert_eq!(owner.await.unwrap().as_deref(), Some(SOUTH));
    }
}
