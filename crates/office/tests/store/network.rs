//! [`NetworkStore`]: patrol routes with the code posted at each station, and outage notices.

use crate::field::{at, job, t0, user};
use heatcrew_office::store::{
    AccountStore, JobStore, LedgerStore, NetworkStore, Route, StoreError,
};
use heatcrew_protocol::sync::{ChangeKind, Role};
use heatcrew_protocol::{Checkpoint, ErrorCode, OutageNotice};
use std::collections::HashMap;
use uuid::Uuid;

crate::both!(
    a_route_keeps_its_stations_each_with_one_code,
    a_jobs_checkpoints_get_their_stations_codes,
    routes_created_at_once_agree_on_a_new_stations_code,
    outages_are_listed_until_cleared,
    routes_are_listed_in_byte_order_of_their_names,
    outage_changes_reach_every_user,
);

fn station(id: &str) -> Checkpoint {
    serde_json::from_value(
        serde_json::json!({"id": id, "name": format!("站 {id}"), "kind": "substation"}),
    )
    .expect("a checkpoint")
}

fn route(name: &str, stations: &[&str]) -> Route {
    Route {
        id: Uuid::now_v7(),
        name: name.into(),
        area: "东区".into(),
        checkpoints: stations.iter().map(|s| station(s)).collect(),
    }
}

fn codes(s: &impl NetworkStore) -> HashMap<String, String> {
    s.checkpoint_codes()
        .expect("codes")
        .into_iter()
        .map(|c| (c.checkpoint_id, c.code))
        .collect()
}

fn a_route_keeps_its_stations_each_with_one_code(s: &impl NetworkStore) {
    let north = s
        .create_route(route("北线", &["S1", "S2"]), t0())
        .expect("create");
    let east = s
        .create_route(route("东线", &["S2", "S3"]), at(1))
        .expect("create");
    let codes = codes(s);
    assert_eq!(
        codes.len(),
        3,
        "one code per station, whatever the routes sharing it"
    );
    for cp in north.checkpoints.iter().chain(&east.checkpoints) {
        assert_eq!(
            cp.code_sha256.as_deref(),
            Some(Checkpoint::code_digest(&cp.id, &codes[&cp.id]).as_str()),
            "each checkpoint carries its station's code digest"
        );
    }
    assert_eq!(
        north.checkpoints[1].code_sha256,
        east.checkpoints[0].code_sha256
    );
    let back = s.route(north.id).expect("read").expect("stored");
    assert_eq!(
        back.checkpoints, north.checkpoints,
        "the route comes back as created"
    );
    let names: Vec<String> = s
        .list_routes()
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["东线", "北线"], "listed by name");
    let err = s
        .create_route(route("北线", &["S9"]), at(2))
        .expect_err("taken name");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: ErrorCode::RouteExists,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !self::codes(s).contains_key("S9"),
        "a refused route leaves no station behind"
    );
    assert!(s.route(Uuid::now_v7()).expect("read").is_none());
}

fn a_jobs_checkpoints_get_their_stations_codes<S: NetworkStore + JobStore>(s: &S) {
    let r = s
        .create_route(route("北线", &["S1"]), t0())
        .expect("create");
    let mut round = job("巡检", "", "", None);
    round.checkpoints = vec![station("S1"), station("S4")];
    let round = s.create_job(round, at(1)).expect("create");
    assert_eq!(
        round.checkpoints[0].code_sha256, r.checkpoints[0].code_sha256,
        "the station's code"
    );
    let codes = codes(s);
    assert_eq!(
        round.checkpoints[1].code_sha256.as_deref(),
        Some(Checkpoint::code_digest("S4", &codes["S4"]).as_str()),
        "a new station gets its code with the job"
    );
    let stored = s.job(round.id).expect("read").expect("stored").job;
    assert_eq!(
        stored.checkpoints, round.checkpoints,
        "stored with the digests"
    );
}

/// Office processes creating routes through the same new station at once: one code, which
/// every route carries.
fn routes_created_at_once_agree_on_a_new_stations_code<S: NetworkStore + Sync>(s: &S) {
    let routes: Vec<Route> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| scope.spawn(move || s.create_route(route(&format!("线{i}"), &["NEW"]), t0())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("create"))
            .collect()
    });
    let code = &codes(s)["NEW"];
    for r in &routes {
        assert_eq!(
            r.checkpoints[0].code_sha256.as_deref(),
            Some(Checkpoint::code_digest("NEW", code).as_str()),
            "every route carries the one stored code"
        );
    }
}

fn notice(area: &str) -> OutageNotice {
    OutageNotice {
        id: Uuid::now_v7(),
        area: area.into(),
        reason: "管线抢修".into(),
        starts_at: at(0),
        expected_restore_at: at(240),
    }
}

fn outages_are_listed_until_cleared(s: &impl NetworkStore) {
    let a = s.upsert_outage(notice("幸福里"), at(1)).expect("upsert");
    let b = s.upsert_outage(notice("和平路"), at(2)).expect("upsert");
    let mut a2 = a.clone();
    a2.reason = "阀门更换".into();
    s.upsert_outage(a2.clone(), at(3)).expect("update");
    assert_eq!(
        s.list_outages().expect("list"),
        [b.clone(), a2.clone()],
        "by last update"
    );
    s.clear_outage(b.id, at(4)).expect("clear");
    assert_eq!(s.list_outages().expect("list"), [a2.clone()]);
    let err = s.clear_outage(b.id, at(5)).expect_err("cleared already");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = s.clear_outage(Uuid::now_v7(), at(5)).expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    s.upsert_outage(b.clone(), at(6)).expect("again");
    assert_eq!(
        s.list_outages().expect("list"),
        [a2, b],
        "an outage announced again is active again"
    );
}

fn outage_changes_reach_every_user<S: NetworkStore + AccountStore + LedgerStore>(s: &S) {
    let tech = user(s, "tech", Role::RepairTechnician);
    let n = s.upsert_outage(notice("幸福里"), at(1)).expect("upsert");
    s.clear_outage(n.id, at(2)).expect("clear");
    let changes: Vec<ChangeKind> = s
        .pull(tech, 0, 10)
        .expect("pull")
        .0
        .into_iter()
        .map(|c| c.change)
        .collect();
    assert_eq!(
        changes,
        [
            ChangeKind::OutageUpserted { notice: n.clone() },
            ChangeKind::OutageCleared { id: n.id }
        ]
    );
}

/// SQLite sorts text by its bytes; the PostgreSQL suite's databases sort by ICU `en-US` rules
/// (`a b B e é Z 张`), which a store must not show: the list is in byte order on both.
fn routes_are_listed_in_byte_order_of_their_names(s: &impl NetworkStore) {
    let names = [
        "b线", "B线", "a线", "Z线", "é线", "e线", "张线", "Ab线", "aB线",
    ];
    for (i, n) in names.iter().enumerate() {
        s.create_route(route(n, &[]), at(i as i64)).expect("create");
    }
    let listed: Vec<String> = s
        .list_routes()
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    want.sort(); // str's order is byte order
    assert_eq!(
        listed, want,
        "upper case before lower case, accents and Chinese after ASCII"
    );
}
