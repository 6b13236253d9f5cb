//! What every system test of a simulated field day asserts at its end, whatever it put the devices
//! and the office through (offline spells, a faulty network, SIGKILLed office processes).

use heatcrew_sim::SimResult;

/// Nothing lost, nothing stored twice, every chain valid, every event and photo at the office, and
/// something was recorded at all (so the rest cannot pass on an empty day).
pub fn assert_exact(r: &SimResult, what: &str) {
    assert_eq!(r.lost, 0, "{what}: nothing recorded is lost: {r:?}");
    assert_eq!(r.duplicated, 0, "{what}: nothing is stored twice: {r:?}");
    assert!(r.chains_valid, "{what}: every device chain verifies: {r:?}");
    assert_eq!(
        r.events_on_office, r.events_recorded,
        "{what}: the office holds every event: {r:?}"
    );
    assert_eq!(
        r.attachments_on_office, r.attachments_recorded,
        "{what}: and every photo: {r:?}"
    );
    assert!(
        r.events_recorded > 0,
        "{what}: the devices recorded something: {r:?}"
    );
}
