//! `GET /api/v1/console/customers`: a caller's earlier jobs and address while the phone or account
//! number is typed.

use super::*;

#[tokio::test]
async fn typing_a_phone_or_account_finds_the_customers_earlier_jobs() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let wang = json!({"name": "王秀英", "phone": "138 0013-8000", "address": "幸福里小区3号楼2单元501", "account_no": "RL-100234"});
    let first = job_id(
        &o.create_job(&staff, json!({"fault": "暖气不热", "customer": wang}))
            .await,
    );
    let second = job_id(
        &o.create_job(&staff, json!({"fault": "阀门漏水", "customer": wang}))
            .await,
    );
    o.create_job(
        &staff,
        json!({"fault": "别人家", "customer": {"name": "李建国", "phone": "13912345678", "address": "和平路18号", "account_no": "RL-200001"}}),
    )
    .await;

    let lookup = |q: &'static str| {
        let staff = staff.clone();
        let o = &o;
        async move {
            o.get_json(&format!("/api/v1/console/customers?{q}"), &staff)
                .await
        }
    };
    let (status, found) = lookup("phone=13800138000").await;
    assert_eq!(status, StatusCode::OK, "lookup: {found}");
    let ids: Vec<Uuid> = found["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["job_id"].as_str().expect("id").parse().expect("uuid"))
        .collect();
    assert_eq!(
        ids,
        vec![second, first],
        "the caller's jobs, newest first, and nobody else's"
    );
    assert_eq!(
        found["customer"]["address"], "幸福里小区3号楼2单元501",
        "the address to fill in"
    );
    let (_, typed) = lookup("phone=138%200013").await;
    assert_eq!(
        typed["jobs"].as_array().map(Vec::len),
        Some(2),
        "the first digits as typed (a space ignored) already find them: {typed}"
    );
    let (_, by_account) = lookup("account=RL-1002").await;
    assert_eq!(
        by_account["customer"]["name"], "王秀英",
        "the account number finds the same customer"
    );
    let (_, nobody) = lookup("phone=13700000000").await;
    assert_eq!(
        nobody,
        json!({"customer": null, "jobs": []}),
        "an unknown number finds nothing"
    );
    let (status, short) = lookup("phone=138").await;
    assert_eq!(
        (status, short["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("lookup_too_short")),
        "three digits would match half the city"
    );
    let (status, both) = lookup("phone=13800138000&account=RL-100234").await;
    assert_eq!(
        (status, both["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("lookup_key")),
        "one key at a time"
    );
}
