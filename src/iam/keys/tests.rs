#![allow(clippy::unwrap_used)]
use super::*;

fn live(ak: &str, disable_ms: Option<i64>) -> LiveKey {
    LiveKey {
        ak: ak.into(),
        disable_ms,
    }
}

#[test]
fn a_rotation_retires_the_old_key_after_the_grace() {
    let plan = plan_retirements(&[live("OLD", None)], "OLD", 1_000).unwrap();
    assert_eq!(plan.old_until, 1_000 + GRACE_MS);
    assert!(plan.cut_now.is_empty());
}

#[test]
fn a_key_still_in_its_grace_is_cut_off_so_the_user_keeps_two() {
    let keys = [live("A", Some(5_000)), live("B", None)];
    let plan = plan_retirements(&keys, "B", 1_000).unwrap();
    assert_eq!(plan.cut_now, vec!["A".to_string()]);
    assert_eq!(plan.old_until, 1_000 + GRACE_MS);
}

#[test]
fn a_second_live_key_makes_the_new_one_a_third() {
    let keys = [live("A", None), live("B", None)];
    assert_eq!(
        plan_retirements(&keys, "B", 1_000),
        Err(RotationRefused::Quota)
    );
}

#[test]
fn only_a_live_key_can_be_rotated() {
    assert_eq!(
        plan_retirements(&[live("A", Some(500))], "A", 1_000),
        Err(RotationRefused::NotLive)
    );
    assert_eq!(
        plan_retirements(&[live("A", None)], "X", 1_000),
        Err(RotationRefused::NotLive)
    );
    // A dead key does not count against the two.
    let keys = [live("A", Some(500)), live("B", None)];
    assert!(plan_retirements(&keys, "B", 1_000)
        .unwrap()
        .cut_now
        .is_empty());
}

#[test]
fn an_earlier_retirement_is_not_postponed() {
    let plan = plan_retirements(&[live("A", Some(2_000))], "A", 1_000).unwrap();
    assert_eq!(plan.old_until, 2_000);
}

#[test]
fn the_debug_output_shows_no_secret() {
    let ring = KeyRing::new(
        &crate::common::crypto::RootKey::from_bytes([3u8; 32]),
        Rng::seeded(1),
    );
    let key = new_key(&ring, &Rng::seeded(2));
    assert_eq!(key.access_key.len(), 20);
    assert_eq!(key.secret_key.len(), 40);
    assert!(!format!("{key:?}").contains(key.secret_key.as_str()));
    assert!(!key.sealed.contains(key.secret_key.as_str()));
    assert_eq!(
        ring.open(&key.access_key, &key.sealed).unwrap().as_str(),
        key.secret_key.as_str()
    );
    // The seal is bound to its AK.
    assert!(ring.open("OTHERAK", &key.sealed).is_none());
}
