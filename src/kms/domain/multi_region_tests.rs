#![allow(clippy::unwrap_used)]
use super::*;

fn peer(region: &str, project: &str) -> Peer {
    Peer {
        region: region.into(),
        project_id: project.into(),
    }
}

fn source<'a>(group: Option<&'a MultiRegion>, project: &'a str, region: &'a str) -> Source<'a> {
    Source {
        project,
        region,
        default_key: false,
        in_key_store: false,
        state: KeyState::Enabled,
        group,
    }
}

#[test]
fn a_single_key_becomes_the_primary_of_its_first_replica() {
    let g = replicate(&source(None, "pn", "north"), peer("south", "ps")).unwrap();
    assert_eq!(g.primary, peer("north", "pn"));
    assert_eq!(g.replicas, [peer("south", "ps")]);
    assert_eq!(key_type(None, "pn"), "SINGLE");
    assert_eq!(key_type(Some(&g), "pn"), "PRIMARY");
    assert_eq!(key_type(Some(&g), "ps"), "REPLICA");
    let g2 = replicate(&source(Some(&g), "pn", "north"), peer("east", "pe")).unwrap();
    assert_eq!(g2.replicas.len(), 2);
}

#[test]
fn replication_refusals() {
    let g = replicate(&source(None, "pn", "north"), peer("south", "ps")).unwrap();
    let code = |s: &Source, p: Peer| replicate(s, p).unwrap_err().status_and_code().1;
    // Not in its own region, one per region.
    assert_eq!(
        code(&source(None, "pn", "north"), peer("north", "px")),
        "KMS.1102"
    );
    assert_eq!(
        code(&source(Some(&g), "pn", "north"), peer("south", "px")),
        "KMS.9302"
    );
    // A replica is not copied again.
    assert_eq!(
        code(&source(Some(&g), "ps", "south"), peer("east", "pe")),
        "KMS.9301"
    );
    let mut s = source(None, "pn", "north");
    s.default_key = true;
    assert_eq!(code(&s, peer("south", "ps")), "KMS.0211");
    // Material imported and not yet imported.
    let mut s = source(None, "pn", "north");
    s.state = KeyState::PendingImport;
    assert_eq!(code(&s, peer("south", "ps")), "KMS.1301");
    let mut s = source(None, "pn", "north");
    s.in_key_store = true;
    assert_eq!(code(&s, peer("south", "ps")), "KMS.9301");
    let mut s = source(None, "pn", "north");
    s.state = KeyState::PendingDeletion;
    assert_eq!(code(&s, peer("south", "ps")), "KMS.0210");
    s.state = KeyState::Disabled;
    assert!(replicate(&s, peer("south", "ps")).is_ok());
}

#[test]
fn moving_the_primary_swaps_it_with_the_replica_of_that_region() {
    let g = replicate(&source(None, "pn", "north"), peer("south", "ps")).unwrap();
    let g = replicate(&source(Some(&g), "pn", "north"), peer("east", "pe")).unwrap();
    let moved = move_primary(Some(&g), "pn", "east", Some(KeyState::Disabled)).unwrap();
    assert_eq!(moved.primary, peer("east", "pe"));
    assert_eq!(moved.replicas, [peer("north", "pn"), peer("south", "ps")]);
    let code = |r: Result<MultiRegion, KmsError>| r.unwrap_err().status_and_code().1;
    assert_eq!(code(move_primary(None, "pn", "east", None)), "KMS.9303");
    assert_eq!(code(move_primary(Some(&g), "ps", "east", None)), "KMS.9303");
    assert_eq!(code(move_primary(Some(&g), "pn", "west", None)), "KMS.1102");
    assert_eq!(
        code(move_primary(Some(&g), "pn", "north", None)),
        "KMS.1102"
    );
    let pending = Some(KeyState::PendingDeletion);
    assert_eq!(
        code(move_primary(Some(&g), "pn", "east", pending)),
        "KMS.0210"
    );
}

#[test]
fn deletion_and_rotation_rules() {
    let g = replicate(&source(None, "pn", "north"), peer("south", "ps")).unwrap();
    assert_eq!(
        check_deletable(Some(&g), "pn")
            .unwrap_err()
            .status_and_code()
            .1,
        "KMS.9304"
    );
    assert!(check_deletable(Some(&g), "ps").is_ok());
    assert!(check_deletable(None, "pn").is_ok());
    assert_eq!(
        check_rotatable(Some(&g), "ps")
            .unwrap_err()
            .status_and_code()
            .1,
        "KMS.9305"
    );
    assert!(check_rotatable(Some(&g), "pn").is_ok());
    assert!(check_rotatable(None, "pn").is_ok());
}

#[test]
fn leaving_the_group() {
    let g = replicate(&source(None, "pn", "north"), peer("south", "ps")).unwrap();
    let g = replicate(&source(Some(&g), "pn", "north"), peer("east", "pe")).unwrap();
    let left = without(&g, "ps");
    assert_eq!(left.primary, peer("north", "pn"));
    assert_eq!(left.replicas, [peer("east", "pe")]);
    // A primary alone stays a primary.
    let alone = without(&left, "pe");
    assert!(alone.replicas.is_empty());
    assert_eq!(key_type(Some(&alone), "pn"), "PRIMARY");
    // The primary gone: its first replica takes over.
    let taken = without(&g, "pn");
    assert_eq!(taken.primary, peer("south", "ps"));
    assert_eq!(taken.replicas, [peer("east", "pe")]);
}
