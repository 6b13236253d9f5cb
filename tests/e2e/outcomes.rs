//! The outcomes a real day has besides the visit that goes to plan (issue 15, points 1 and 11), on
//! the real app: nobody home at the door (reason, door photo, witness) closes the visit and the
//! office reads it back as "reschedule requested"; every step's primary action is in reach on the
//! phone's screen, the closing result is a deliberate choice and its confirmation is on screen.

use super::{PASSWORD, World, walk_repair_steps};
use heatcrew_system_tests::app::App;
use std::time::Duration;

/// Where an element is on the screen now: `[top, bottom, viewport height]` in CSS pixels.
async fn rect(app: &App, testid: &str) -> [f64; 3] {
    let v = app
        .js(&format!(
            "const r = document.querySelector('[data-testid=\"{testid}\"]').getBoundingClientRect();
             return [r.top, r.bottom, window.innerHeight];"
        ))
        .await
        .unwrap_or_else(|e| panic!("measure {testid}: {e:?}"));
    let n = |i: usize| v[i].as_f64().unwrap_or(f64::NAN);
    [n(0), n(1), n(2)]
}

/// The element is fully on screen without scrolling.
async fn in_reach(app: &App, testid: &str) -> bool {
    let [top, bottom, height] = rect(app, testid).await;
    top >= 0.0 && bottom <= height + 0.5
}

/// Nobody home: the technician records the reason, a photo of the door and the neighbour who saw
/// it; the visit closes with that outcome; the office reads back the door record (photo arrived)
/// and that the customer waits for a new appointment.
#[test]
fn not_home_at_the_door_closes_the_visit_and_the_office_is_asked_to_reschedule() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(1);
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("zhangwei", "home_repair").await;
        walk_repair_steps(&app, &photos, "knock_consent")
            .await
            .expect("to the door");
        app.el("outcome-not-home")
            .await
            .expect("at the door the technician can record nobody home");
        app.shot("outcome-door").await.unwrap();
        app.click("outcome-not-home").await.unwrap();

        app.click("outcome-save").await.unwrap();
        assert!(
            app.all("[data-testid=\"job-closed\"]")
                .await
                .unwrap()
                .is_empty(),
            "without a reason and a door photo nothing is saved"
        );
        app.fill("outcome-reason", "敲门无人应答，电话未接")
            .await
            .unwrap();
        let door = app.el("door-photo").await.unwrap();
        door.send_keys(&photos[0].display().to_string())
            .await
            .expect("choose the door photo");
        app.el("photo-thumb").await.expect("the door photo is kept");
        app.fill("witness-name", "李物业").await.unwrap();
        app.fill("witness-phone", "13900000000").await.unwrap();
        app.shot("outcome-not-home").await.unwrap();
        app.click("outcome-save").await.unwrap();
        let closed = app.el("job-closed").await.expect("the visit is closed");
        assert_eq!(
            closed.attr("data-resolution").await.unwrap().as_deref(),
            Some("no_entry"),
            "closed as no entry"
        );
        assert!(
            in_reach(&app, "job-closed").await,
            "the confirmation is on screen: {:?}",
            rect(&app, "job-closed").await
        );
        app.shot("outcome-closed").await.unwrap();

        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .expect("the door record reaches the office");
        // The door photo goes after its record; wait for it too.
        let mut job = w.office_job(&job_id).await;
        for _ in 0..60 {
            if job["no_entry"]["attachments"][0]["received"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            job = w.office_job(&job_id).await;
        }
        assert_eq!(
            job["reschedule_requested"], true,
            "the office is asked to reschedule: {job:#}"
        );
        let door = &job["no_entry"];
        assert_eq!(door["payload"]["outcome"], "not_home", "{door:#}");
        assert_eq!(
            door["payload"]["reason"], "敲门无人应答，电话未接",
            "{door:#}"
        );
        assert_eq!(door["payload"]["witness"]["name"], "李物业", "{door:#}");
        assert_eq!(
            door["attachments"][0]["received"], true,
            "the door photo arrived: {door:#}"
        );
        assert_eq!(
            job["closed"]["payload"]["resolution"], "no_entry",
            "{job:#}"
        );
        let steps: Vec<&str> = job["steps"]
            .as_array()
            .map(|s| s.iter().filter_map(|x| x["step"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            !steps.contains(&"diagnose_repair") && !steps.contains(&"clean_up"),
            "no repair or clean-up was faked: {steps:?}"
        );
        app.quit().await;
    });
}

/// A gloved thumb on the phone: each step's confirm is on screen when the step opens (the repair
/// step with its photos included), "clear and re-sign" is well below the pad, the result of the
/// visit must be chosen, and after closing the confirmation is what the screen shows.
#[test]
fn every_steps_primary_action_is_in_reach_and_closing_is_a_choice() {
    reach_walk(None);
}

/// The same walk on a small phone, 360×800 CSS px (the size the audit drove a whole visit at).
#[test]
fn every_steps_primary_action_is_in_reach_at_360_by_800() {
    reach_walk(Some((360, 800)));
}

fn reach_walk(size: Option<(u32, u32)>) {
    let Some(w) = World::new() else { return };
    let photos = w.photos(3);
    let tag = size.map(|(x, y)| format!("-{x}x{y}")).unwrap_or_default();
    w.rt.block_on(async {
        let app = App::launch(&w.parts, &w.device_db("zhangwei"))
            .await
            .expect("the app starts");
        if let Some((width, height)) = size {
            app.client
                .set_window_size(width, height)
                .await
                .expect("the window takes the phone's size");
            let inner = app
                .js("return [window.innerWidth, window.innerHeight];")
                .await
                .unwrap();
            let (iw, ih) = (
                inner[0].as_u64().unwrap_or(0),
                inner[1].as_u64().unwrap_or(0),
            );
            assert!(
                iw <= u64::from(width) && ih <= u64::from(height) && iw > 0,
                "the page is no larger than the phone: {iw}×{ih}"
            );
        }
        app.sign_in(&w.office.url(), "zhangwei", PASSWORD)
            .await
            .expect("sign in");
        let job_id = app.job_of_kind("home_repair").await.expect("a repair job");
        app.open_job(&job_id).await.expect("open the visit");
        for stop in ["diagnose_repair", "clean_up", "signature"] {
            walk_repair_steps(&app, &photos, stop)
                .await
                .unwrap_or_else(|e| panic!("to {stop}: {e:?}"));
            app.js("window.scrollTo(0, 0); return true;").await.unwrap();
            assert!(
                in_reach(&app, "step-confirm").await,
                "{stop}: the confirm button is on screen when the step opens: {:?}",
                rect(&app, "step-confirm").await
            );
            let wide = app
                .js("return [document.documentElement.scrollWidth, window.innerWidth];")
                .await
                .unwrap();
            assert!(
                wide[0].as_f64() <= wide[1].as_f64().map(|w| w + 1.0),
                "{stop}: nothing sticks out sideways on a narrow phone: {wide}"
            );
            app.shot(&format!("reach-{stop}{tag}")).await.unwrap();
        }
        let [_, pad_bottom, _] = rect(&app, "signature-pad").await;
        let [clear_top, _, _] = rect(&app, "signature-clear").await;
        assert!(
            clear_top - pad_bottom >= 16.0,
            "clear and re-sign is {} px under the pad, not a slip of the glove",
            clear_top - pad_bottom
        );
        app.draw_signature().await.expect("draw");
        app.click("signature-save").await.expect("save signature");
        app.css("[data-signature=\"signed\"]")
            .await
            .expect("signed");
        app.confirm_step().await.expect("past the signature");
        // The opinion form, in customer mode (tests/e2e/opinion.rs).
        app.click("customer-mode-start").await.unwrap();
        app.answer_opinion(4).await.expect("the opinion form");
        app.fill("rating-comment", "好").await.unwrap();
        app.click("rating-submit").await.unwrap();
        app.click("customer-mode-done").await.unwrap();
        app.js("window.scrollTo(0, 0); return true;").await.unwrap();
        assert!(
            in_reach(&app, "step-confirm").await,
            "rating: the confirm button is on screen: {:?}",
            rect(&app, "step-confirm").await
        );
        app.confirm_step().await.expect("past the rating");
        app.confirm_step().await.expect("past the contact card");

        app.el("close-result").await.expect("the result options");
        app.click("visit-complete").await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            app.all("[data-testid=\"job-closed\"]")
                .await
                .unwrap()
                .is_empty(),
            "one tap without a chosen result closes nothing"
        );
        app.click_css("[data-testid=\"close-result\"][data-value=\"follow_up_needed\"]")
            .await
            .unwrap();
        app.shot(&format!("close-choice{tag}")).await.unwrap();
        app.click("visit-complete").await.unwrap();
        let closed = app.el("job-closed").await.expect("closed");
        assert_eq!(
            closed.attr("data-resolution").await.unwrap().as_deref(),
            Some("follow_up_needed"),
            "closed with the chosen result"
        );
        assert!(
            in_reach(&app, "job-closed").await,
            "the confirmation is on screen after closing: {:?}",
            rect(&app, "job-closed").await
        );
        app.shot(&format!("close-done{tag}")).await.unwrap();
        app.open_outbox().await.unwrap();
        let steps = app
            .all("[data-testid=\"outbox-step\"]")
            .await
            .unwrap()
            .len();
        assert!(
            steps > 5,
            "outbox entries say which step they are ({steps})"
        );
        app.shot(&format!("outbox-steps{tag}")).await.unwrap();
        app.quit().await;
    });
}
