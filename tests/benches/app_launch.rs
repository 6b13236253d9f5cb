//! Launch to an interactive job list: the real app (signed in, on its own device database) started
//! five times by tauri-driver under the current X display; prints each time and the median.
//!
//! Run: `cargo build -p heatcrew-app && xvfb-run -a -s "-screen 0 400x820x24" cargo bench -p
//! heatcrew-system-tests --bench app_launch` (set `HEATCREW_E2E_APP` for another binary, e.g. a
//! release build). Skips with the reason when the display, drivers or app are missing.

use heatcrew_system_tests::app::{App, Parts};
use heatcrew_testkit::{DEMO_PASSWORD, TestOffice};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() -> anyhow::Result<()> {
    let Some(parts) = Parts::find() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let office = TestOffice::demo().await;
        let url = office.url();

        // Sign in once, as a technician would at the start of the day.
        let db = dir.path().join("device.db");
        let app = App::launch(&parts, &db).await?;
        app.sign_in(&url, "zhangwei", DEMO_PASSWORD).await?;
        app.el("job-item").await?;
        app.quit().await;

        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let started = Instant::now();
            let app = App::launch(&parts, &db).await?;
            app.el("job-item").await?;
            times.push(started.elapsed().as_secs_f64());
            app.quit().await;
        }
        let shown: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
        times.sort_by(f64::total_cmp);
        println!(
            "launch to interactive job list (s): [{}] median {:.2} ({})",
            shown.join(", "),
            times[RUNS / 2],
            parts.app.display()
        );
        anyhow::Ok(())
    })
}
