//! Phone hardware, used (issue 15 points 8–10) on the real app under Xvfb: presence at a patrol
//! station confirmed by the code posted there (a wrong code refused, the right one recorded, the
//! office checking it again), and the day's shift readiness before the first repair job, whose
//! first screen also tells of the outage at the customer's address.

use super::{PASSWORD, World};
use heatcrew_sim::DispatchApi;
use serde_json::Value;
use std::time::Duration;

/// The station codes as the office prints them, by checkpoint id.
async fn station_code(w: &World, checkpoint: &str) -> String {
    let api = DispatchApi::sign_in(
        &w.office.url(),
        "zhaomin",
        PASSWORD,
        Duration::from_secs(30),
    )
    .await
    .expect("dispatcher signs in");
    let codes = api.checkpoint_codes().await.expect("the station codes");
    codes
        .as_array()
        .and_then(|all| all.iter().find(|c| c["checkpoint_id"] == checkpoint))
        .and_then(|c| c["code"].as_str())
        .unwrap_or_else(|| panic!("no code for {checkpoint}: {codes:#}"))
        .to_owned()
}

fn checkpoint<'a>(job: &'a Value, id: &str) -> &'a Value {
    job["patrol"]["checkpoints"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("checkpoint {id} in the office's view: {job:#}"))
}

#[test]
fn patrol_checkpoint_confirmed_by_its_code() {
    let Some(w) = World::new() else { return };
    w.rt.block_on(async {
        let code = station_code(&w, "hs-east").await;
        let (app, job_id) = w.open_first("chenjun", "patrol_round").await;
        assert_eq!(
            app.step().await.unwrap(),
            "shift_ready",
            "a patrol's own readiness step"
        );
        app.click("step-confirm").await.unwrap();
        app.until(
            "the round's checkpoints step",
            Duration::from_secs(45),
            || async { Ok((app.step().await? == "checkpoints").then_some(())) },
        )
        .await
        .unwrap();
        app.click_css("[data-testid=\"checkpoint-item\"][data-checkpoint-id=\"hs-east\"] a")
            .await
            .unwrap();
        assert_eq!(
            app.attr("checkpoint-presence", "data-confirmed")
                .await
                .unwrap()
                .as_deref(),
            Some("false"),
            "not confirmed before a code"
        );

        // Someone else's station code (or a guess) is refused, clearly, and nothing is recorded.
        let wrong = station_code(&w, "ss-xingfu").await;
        app.fill("checkpoint-code", &wrong).await.unwrap();
        app.click("checkpoint-confirm").await.unwrap();
        let refusal = app
            .css("[role=\"alert\"][data-code=\"wrong_checkpoint_code\"]")
            .await
            .expect("a wrong code is refused with its own code");
        let said = refusal.text().await.unwrap();
        assert!(
            said.contains("站点码不对"),
            "the refusal says what is wrong: {said}"
        );
        app.shot("checkpoint-wrong-code").await.unwrap();
        assert_eq!(
            app.attr("checkpoint-presence", "data-confirmed")
                .await
                .unwrap()
                .as_deref(),
            Some("false"),
            "a wrong code confirms nothing"
        );

        // The code as typed from the plate: lower case and a space are fine.
        let typed = code.to_lowercase().replace('-', " ");
        app.fill("checkpoint-code", &typed).await.unwrap();
        app.click("checkpoint-confirm").await.unwrap();
        let confirmed = app
            .el("checkpoint-confirmed")
            .await
            .expect("presence confirmed");
        assert_eq!(
            confirmed.attr("data-method").await.unwrap().as_deref(),
            Some("typed"),
            "typed on the desktop"
        );
        app.shot("checkpoint-confirmed").await.unwrap();
        app.click_css("a.back").await.unwrap();
        app.el("checkpoint-by-code")
            .await
            .expect("the round shows the station as confirmed by code");
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&job_id).await;
        let east = checkpoint(&job, "hs-east");
        assert_eq!(
            east["confirmed_by_code"], 1,
            "the office checked the code: {east:#}"
        );
        assert_eq!(
            east["code_mismatches"], 0,
            "and no wrong one reached it: {east:#}"
        );
        assert!(
            east["last_confirmed"].is_string(),
            "with the time: {east:#}"
        );
        assert_eq!(
            checkpoint(&job, "ss-xingfu")["confirmed_by_code"],
            0,
            "a station not visited is not confirmed"
        );
        app.quit().await;
    });
}

#[test]
fn shift_readiness_before_the_first_repair_job_and_the_outage_at_the_door() {
    let Some(w) = World::new() else { return };
    w.rt.block_on(async {
        // wangfang's first visit today is in 滨河小区7号楼, inside the demo outage (滨河小区1-8号楼).
        let app = super::App::launch(&w.parts, &w.device_db("wangfang"))
            .await
            .expect("the app starts");
        app.sign_in(&w.office.url(), "wangfang", PASSWORD)
            .await
            .expect("sign in");
        let mut jobs = Vec::new();
        for e in app
            .all("[data-testid=\"job-item\"][data-kind=\"home_repair\"]")
            .await
            .unwrap()
        {
            jobs.push(e.attr("data-job-id").await.unwrap().expect("job id"));
        }
        assert_eq!(jobs.len(), 2, "wangfang has two visits today");

        app.tap_job(&jobs[0]).await.unwrap();
        let items = app
            .el("readiness")
            .await
            .expect("the day's first job asks for readiness first");
        assert!(items.is_displayed().await.unwrap());
        assert_eq!(
            app.all("[data-testid=\"readiness-item\"]")
                .await
                .unwrap()
                .len(),
            4,
            "uniform, badge, tools, protective equipment"
        );
        app.shot("readiness").await.unwrap();
        // Not every check ticked: still on the readiness screen.
        app.click("readiness-confirm").await.unwrap();
        assert!(
            app.all("[data-testid=\"step-title\"]")
                .await
                .unwrap()
                .is_empty(),
            "no step before readiness"
        );
        app.give_readiness().await.unwrap();

        let outage = app
            .el("outage-at-door")
            .await
            .expect("the outage at this address is on the first screen");
        let said = app.text("outage-phrase").await.unwrap();
        assert!(
            said.contains("恢复供热") && said.contains("很抱歉"),
            "the standard words: {said}"
        );
        assert!(
            outage.attr("data-restore").await.unwrap().is_some(),
            "with the restoration time"
        );
        app.shot("outage-at-door").await.unwrap();

        // The second job of the day: no readiness again, and no outage (幸福小区8号楼).
        app.click_css("a.back").await.unwrap();
        app.el("job-list").await.unwrap();
        app.tap_job(&jobs[1]).await.unwrap();
        app.el("step-title").await.expect("straight to the visit");
        assert!(
            app.all("[data-testid=\"readiness\"]")
                .await
                .unwrap()
                .is_empty(),
            "once per day"
        );
        assert!(
            app.all("[data-testid=\"outage-at-door\"]")
                .await
                .unwrap()
                .is_empty(),
            "no outage there"
        );
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .unwrap();

        let job = w.office_job(&jobs[0]).await;
        let text = job.to_string();
        assert!(
            text.contains("shift_readiness_confirmed"),
            "the readiness reached the office: {job:#}"
        );
        for check in ["uniform", "badge", "tools", "ppe"] {
            assert!(text.contains(check), "{check} was checked: {job:#}");
        }
        app.quit().await;
    });
}
