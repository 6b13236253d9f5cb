//! The audit log: what is recorded, who may read it, its filters and keyset pages, and that nobody
//! can change or delete an entry younger than six months, not even with the database file open.

use super::*;

#[tokio::test]
async fn the_audit_log_records_reads_pages_and_filters_for_admins_only() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let dispatcher = o.staff("dispatch").await;
    let (status, _) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "dispatch", "password": "nope nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = o
        .post_json(
            "/api/v1/auth/staff-login",
            None,
            &json!({"username": "nobody", "password": "nope nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let dev = o.device("tech_a").await;
    let (status, _) = o
        .post_json(
            &format!("/api/v1/devices/{}/revoke", dev.id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let tech_b = o.user_id("tech_b");
    let (status, _) = o
        .post_json(
            &format!("/api/v1/users/{tech_b}/password"),
            Some(&admin),
            &json!({"password": "a new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = o
        .post_json("/api/v1/users", Some(&admin), &json!({"username": "newbie", "password": "long enough", "role": "patrol", "display_name": "N"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let job = o.create_job(&dispatcher, None).await;
    let bundle = o
        .http
        .get(o.endpoint(&format!("/api/v1/jobs/{}/bundle", job.id)))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .expect("bundle");
    assert_eq!(bundle.status(), StatusCode::OK);
    let (status, _) = o.get_json("/api/v1/export", &dispatcher).await;
    assert!(
        status.is_success() || status == StatusCode::OK,
        "export: {status}"
    );

    // Only admins read it.
    for token in [&dispatcher, &dev.login.access_token] {
        let (status, _) = o.get_json("/api/v1/console/audit", token).await;
        assert_ne!(status, StatusCode::OK, "only admins read the audit log");
    }
    let (status, page) = o.get_json("/api/v1/console/audit?limit=500", &admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().expect("entries").clone();
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in [
        "sign_in",
        "sign_in_failed",
        "device_enrolled",
        "device_revoked",
        "password_changed",
        "user_created",
        "bundle_download",
        "export",
    ] {
        assert!(kinds.contains(&kind), "{kind} is recorded: {kinds:?}");
    }
    let failed: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|e| e["username"] == "nobody" && e["detail"]["reason"] == "unknown_user")
    );
    assert!(
        failed.iter().all(|e| e["address"] == "127.0.0.1"),
        "with the client address: {failed:?}"
    );
    let seqs: Vec<u64> = entries.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );

    // Keyset pages of 3 give the same entries, each once.
    let mut paged = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let q = before.map_or(String::new(), |b| format!("&before={b}"));
        let (_, page) = o
            .get_json(&format!("/api/v1/console/audit?limit=3{q}"), &admin)
            .await;
        paged.extend(
            page["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .filter_map(|e| e["seq"].as_u64()),
        );
        match page["next_before"].as_u64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(paged, seqs, "pages cover the log exactly");

    // Filters.
    let (_, page) = o
        .get_json("/api/v1/console/audit?kind=sign_in_failed", &admin)
        .await;
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(2));
    let (_, page) = o
        .get_json(
            &format!("/api/v1/console/audit?user={}", o.user_id("admin")),
            &admin,
        )
        .await;
    assert!(
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["username"] == "admin"),
        "{page}"
    );
    let (_, page) = o
        .get_json("/api/v1/console/audit?user=nobody", &admin)
        .await;
    assert_eq!(
        page["entries"].as_array().map(Vec::len),
        Some(1),
        "by username too: {page}"
    );
    let today = Utc::now().date_naive();
    let (_, page) = o
        .get_json(
            &format!("/api/v1/console/audit?from={today}&to={today}&limit=500"),
            &admin,
        )
        .await;
    assert_eq!(
        page["entries"].as_array().map(Vec::len),
        Some(entries.len()),
        "today holds all"
    );
    let tomorrow = today.succ_opt().expect("date");
    let (_, page) = o
        .get_json(&format!("/api/v1/console/audit?from={tomorrow}"), &admin)
        .await;
    assert_eq!(
        page["entries"].as_array().map(Vec::len),
        Some(0),
        "tomorrow holds none"
    );
    let (status, body) = o
        .get_json("/api/v1/console/audit?kind=coffee", &admin)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_audit_kind"))
    );
    let (status, body) = o
        .get_json("/api/v1/console/audit?from=yesterday", &admin)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_date"))
    );
}

#[tokio::test]
async fn audit_entries_cannot_be_changed_or_deleted_before_six_months() {
    let o = TestOffice::start().await;
    let _ = o.staff("admin").await;
    let db = rusqlite::Connection::open(o.db()).expect("open the office database directly");
    let count = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
            .expect("count")
    };
    let before = count(&db);
    assert!(before >= 1, "the sign-in is recorded");
    let update = db.execute("UPDATE audit_log SET username = 'someone else'", []);
    assert!(
        update.is_err_and(|e| e.to_string().contains("append-only")),
        "no entry is ever changed"
    );
    let delete = db.execute("DELETE FROM audit_log", []);
    assert!(
        delete.is_err_and(|e| e.to_string().contains("183 days")),
        "nor deleted while young"
    );
    let old =
        (Utc::now() - Duration::days(200)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let young =
        (Utc::now() - Duration::days(150)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for at in [&old, &young] {
        db.execute(
            "INSERT INTO audit_log (at, kind) VALUES (?1, 'sign_in')",
            [at],
        )
        .expect("insert");
    }
    assert!(
        db.execute("DELETE FROM audit_log WHERE at = ?1", [&young])
            .is_err(),
        "150 days is too young"
    );
    assert_eq!(
        db.execute("DELETE FROM audit_log WHERE at = ?1", [&old])
            .expect("an entry past six months may go"),
        1
    );
    assert_eq!(count(&db), before + 1, "everything younger stays");
}

/// Who opened, assigned, scheduled or cancelled a work order (a manager answering for a
/// cancelled repair asks): one entry per action that took effect, none for a retry or a refusal.
#[tokio::test]
async fn dispatch_actions_are_audited_with_who_and_what() {
    let o = TestOffice::start().await;
    let admin = o.staff("admin").await;
    let dispatcher = o.staff("dispatch").await;
    let tech_a = o.user_id("tech_a");
    let id = Uuid::now_v7();
    let order = json!({"id": id, "fault": "暖气不热",
        "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区3号楼2单元501室"}});
    for _ in 0..2 {
        let (status, body) = o.post_json("/api/v1/jobs", Some(&dispatcher), &order).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "created, then the same again (a retry): {body}"
        );
    }
    let path = |what: &str| format!("/api/v1/jobs/{id}/{what}");
    let start = Utc::now() + Duration::hours(2);
    for (what, body) in [
        ("assign", json!({"assignee": tech_a})),
        (
            "schedule",
            json!({"start": start, "end": start + Duration::hours(2)}),
        ),
        ("cancel", json!({"reason": "客户来电：已自行修好"})),
    ] {
        let (status, answer) = o.post_json(&path(what), Some(&dispatcher), &body).await;
        assert_eq!(status, StatusCode::OK, "{what}: {answer}");
    }
    let unknown = Uuid::now_v7();
    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{unknown}/cancel"),
            Some(&dispatcher),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no such job: nothing happened"
    );

    let (_, page) = o.get_json("/api/v1/console/audit?limit=500", &admin).await;
    let dispatch: Vec<&Value> = page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("job_")))
        .collect();
    let kinds: Vec<&str> = dispatch
        .iter()
        .rev()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "job_created",
            "job_assigned",
            "job_scheduled",
            "job_cancelled"
        ],
        "one each, in order: {dispatch:?}"
    );
    for e in &dispatch {
        assert_eq!(e["username"], "dispatch");
        assert_eq!(e["subject"], id.to_string());
        assert_eq!(e["address"], "127.0.0.1");
    }
    assert_eq!(dispatch[0]["detail"]["reason"], "客户来电：已自行修好");
    assert_eq!(dispatch[2]["detail"]["assignee"], tech_a.to_string());
}
