//! The customer's opinion form in customer mode, and a correction, on the real app under Xvfb
//! against the demo office (whose company profile the sign-in pulls): the phrases name the company
//! and the technician, the customer fills in the form on the handed-over phone, it is locked once
//! given (the screen offers nothing to change and the core refuses a second form), and a corrected
//! repair text reaches the office beside its original.

use super::*;
use heatcrew_testkit::staff_token_at;

/// The console's job page as the office computes it (`GET /api/v1/console/jobs/{id}`).
async fn console_job(office_url: &str, id: &str) -> Value {
    let token = staff_token_at(office_url, "zhaomin", PASSWORD).await;
    reqwest::Client::new()
        .get(format!("{office_url}/api/v1/console/jobs/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the office answers")
        .json()
        .await
        .expect("the job page")
}

/// Invoke a command straight through the IPC bridge, as a tampered screen would; the answer's
/// error code, or `accepted`.
async fn invoke_code(app: &App, command: &str, args: Value) -> String {
    let script = format!(
        "return window.__TAURI_INTERNALS__.invoke({command:?}, {args}).then(() => 'accepted', (e) => e.code)"
    );
    app.js(&script)
        .await
        .expect("the script runs")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_customer_fills_in_the_opinion_form_in_customer_mode_and_it_stays_locked() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(3);
    let office_url = w.office.url();
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("zhangwei", "home_repair").await;
        let phrase = app
            .text("step-phrase")
            .await
            .expect("the appointment phrase");
        assert!(
            phrase.contains("滨河热力公司") && phrase.contains("张伟") && !phrase.contains("××"),
            "the standard phrase names the company and the technician, no blanks: {phrase}"
        );
        walk_repair_steps(&app, &photos, "signature")
            .await
            .expect("to the signature");
        app.draw_signature().await.expect("draw");
        app.click("signature-save").await.expect("save signature");
        app.css("[data-signature=\"signed\"]")
            .await
            .expect("signed");
        app.confirm_step().await.expect("past the signature");
        assert_eq!(app.step().await.unwrap(), "rating");
        assert!(
            app.all("[data-testid=\"rating-star\"]")
                .await
                .unwrap()
                .is_empty(),
            "the technician's screen offers no stars to tap: the form is the customer's"
        );
        app.shot("opinion-hand-over").await.unwrap();
        app.click("customer-mode-start")
            .await
            .expect("hand the phone over");
        app.el("customer-mode")
            .await
            .expect("customer mode fills the screen");
        app.answer_opinion(4).await.expect("the opinion form");
        app.fill("rating-comment", "师傅准时，鞋套也穿了")
            .await
            .unwrap();
        app.shot("opinion-customer-mode").await.unwrap();
        app.click("rating-submit")
            .await
            .expect("the customer submits");
        app.el("customer-mode-thanks").await.expect("thanked");
        app.click("customer-mode-done").await.expect("handed back");

        // Locked: the answers are shown, nothing to tap, and the core refuses another form.
        app.el("rating-locked").await.expect("shown locked");
        let answers = app.all("[data-testid=\"opinion-answer\"]").await.unwrap();
        let mut values = Vec::new();
        for a in &answers {
            values.push(a.attr("data-value").await.unwrap().unwrap_or_default());
        }
        assert_eq!(
            values,
            ["on_time", "good", "yes", "none"],
            "the customer's answers, read-only"
        );
        assert!(
            app.all("[data-testid=\"customer-mode-start\"], [data-testid=\"rating-submit\"]")
                .await
                .unwrap()
                .is_empty(),
            "no way back into the form"
        );
        app.shot("opinion-locked").await.unwrap();
        let again = json_opinion(&job_id, "poor");
        assert_eq!(
            invoke_code(&app, "give_opinion", again).await,
            "rating_locked",
            "the core refuses a second form even when the screen is bypassed"
        );
        app.confirm_step().await.expect("past the rating");
        assert_eq!(app.step().await.unwrap(), "contact_card");
        assert_eq!(
            app.text("contact-phone").await.unwrap(),
            "0531-96069",
            "the contact card shows the hotline the office set"
        );
        app.shot("contact-card").await.unwrap();
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .expect("synced");
        let page = console_job(&office_url, &job_id).await;
        let form = &page["detail"]["ratings"][0];
        assert_eq!(
            form["kind"], "opinion_given",
            "the office holds the opinion form: {form}"
        );
        assert_eq!(
            form["payload"]["answers"]["gifts"], "none",
            "with every answer: {form}"
        );
        assert_eq!(form["payload"]["stars"], 4);
        app.quit().await;
    });
}

fn json_opinion(job_id: &str, attitude: &str) -> Value {
    serde_json::json!({"jobId": job_id, "opinion": {"stars": 1, "comment": "",
        "answers": {"punctuality": "late", "attitude": attitude, "tidiness": "no", "gifts": "none"}}})
}

#[test]
fn a_corrected_repair_text_reaches_the_office_beside_its_original() {
    let Some(w) = World::new() else { return };
    let photos = w.photos(3);
    let office_url = w.office.url();
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("zhangwei", "home_repair").await;
        walk_repair_steps(&app, &photos, "clean_up")
            .await
            .expect("past the repair");
        // Back to the repair step, done: the technician noticed the fault was written wrongly.
        app.js(&format!(
            "location.hash = '#/job/{job_id}/step/diagnose_repair'; return true"
        ))
        .await
        .unwrap();
        app.click("correct-record")
            .await
            .expect("open the correction");
        let field = app
            .css("[data-testid=\"evidence-text\"][data-field=\"fault_found\"] textarea")
            .await
            .expect("the fault text, prefilled");
        assert_eq!(
            field.prop("value").await.unwrap().as_deref(),
            Some("散热器进水阀门堵塞，水流不通"),
            "the form starts from what was recorded"
        );
        field.clear().await.unwrap();
        field.send_keys("温控阀阀芯卡死").await.unwrap();
        app.click("correction-save").await.unwrap();
        app.css("[data-testid=\"correction-reason\"][aria-invalid=\"true\"]")
            .await
            .expect("no reason: refused on the screen");
        app.fill("correction-reason", "故障原因写错，复查后更正")
            .await
            .unwrap();
        app.shot("correction").await.unwrap();
        app.click("correction-save").await.expect("save");
        app.until("the correction listed", Duration::from_secs(20), || async {
            Ok(app
                .text("correction-item")
                .await?
                .contains("温控阀阀芯卡死")
                .then_some(()))
        })
        .await
        .expect("listed on the step");
        app.shot("correction-saved").await.unwrap();
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .expect("synced");

        let page = console_job(&office_url, &job_id).await;
        let pairs = page["corrections"].as_array().expect("corrections");
        assert_eq!(pairs.len(), 1, "one correction: {pairs:#?}");
        let pair = &pairs[0];
        assert_eq!(pair["correction"]["accepted"], true, "accepted: {pair:#}");
        assert_eq!(
            pair["original"]["payload"]["evidence"]["text"]["fault_found"],
            "散热器进水阀门堵塞，水流不通",
            "the office shows the original as recorded"
        );
        assert_eq!(
            pair["correction"]["payload"]["replacement"]["text"]["fault_found"], "温控阀阀芯卡死",
            "beside the corrected text"
        );
        assert_eq!(
            pair["correction"]["payload"]["reason"],
            "故障原因写错，复查后更正"
        );
        app.quit().await;
    });
}
