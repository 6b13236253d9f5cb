//! Photos processed in the background (issue 15, point 11), on the real app: two phone-camera
//! photos (12 MP JPEGs) on the repair step answer at once, the technician confirms the step and is
//! on the next one while they are still being processed, and the office later receives both
//! photos with the step's record after them, every file arrived and matching its hash.

use super::*;

#[test]
fn a_visit_with_two_camera_photos_goes_on_while_they_are_processed() {
    let Some(w) = World::new() else { return };
    let small = w.photos(1);
    let camera: Vec<PathBuf> = (1..=2)
        .map(|n| {
            let path = w.dir.path().join(format!("camera-{n}.jpg"));
            std::fs::write(&path, demo::camera_photo(n)).expect("write the camera photo");
            path
        })
        .collect();
    w.rt.block_on(async {
        let (app, job_id) = w.open_first("zhangwei", "home_repair").await;
        walk_repair_steps(&app, &small, "diagnose_repair")
            .await
            .expect("to the repair step");
        app.fill("evidence-fault_found", "散热器进水阀门堵塞")
            .await
            .unwrap();
        app.fill("evidence-work_done", "拆洗阀门并放气").await.unwrap();
        app.fill("evidence-parts_used", "无").await.unwrap();

        // The wait the technician sees: from choosing the photo to its thumbnail on screen.
        let mut waits = Vec::new();
        for photo in &camera {
            let started = Instant::now();
            app.add_photo(photo).await.expect("the photo shows");
            waits.push(started.elapsed());
        }
        let processing = app
            .all("[data-testid=\"photo-thumb\"][data-state=\"processing\"]")
            .await
            .unwrap()
            .len();
        app.shot("photos-processing").await.unwrap();
        let started = Instant::now();
        app.confirm_step()
            .await
            .expect("the step is confirmed with its photos still processing");
        let confirm = started.elapsed();
        assert_eq!(
            app.step().await.unwrap(),
            "clean_up",
            "the visit went on to the next step"
        );
        // 12 MP photos take seconds to process in this build; the next step is on screen before
        // they are done, the record waiting for them (said on screen).
        let still = app
            .all("[data-testid=\"photos-processing\"]")
            .await
            .unwrap()
            .len();
        println!(
            "e2e photos: wait per 12 MP photo {:?} ms, {processing} still processing when both were shown; \
             confirm to next step {} ms; processing banner on the next step: {still}",
            waits.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
            confirm.as_millis()
        );
        assert!(
            processing >= 1 && still == 1,
            "the photos were still processing while the visit went on ({processing}, {still})"
        );

        // Recorded once processed: the banner goes, and the office gets them with the step after.
        app.until("the photos recorded", Duration::from_secs(180), || async {
            let left = app.all("[data-testid=\"photos-processing\"]").await?.len();
            Ok((left == 0).then_some(()))
        })
        .await
        .expect("processing ends");
        app.sync_until_acknowledged(Duration::from_secs(120))
            .await
            .expect("everything reaches the office");
        let job = w.office_job(&job_id).await;
        let seq = |v: &Value| v["device_seq"].as_u64().unwrap_or(u64::MAX);
        let photos: Vec<&Value> = job["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .filter(|p| p["step"] == "diagnose_repair")
            .collect();
        assert_eq!(photos.len(), 2, "both camera photos arrived: {photos:#?}");
        assert!(
            photos.iter().all(|p| p["photo"]["received"] == true),
            "each file arrived and matched the hash its event names: {photos:#?}"
        );
        let step = job["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["step"] == "diagnose_repair")
            .expect("the repair step's record");
        assert!(
            photos.iter().all(|p| seq(p) < seq(step)),
            "the step's record comes after its photos in the signed log: {photos:#?} {step:#}"
        );
        app.quit().await;
    });
}
