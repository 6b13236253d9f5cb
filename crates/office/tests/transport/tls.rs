//! HTTPS end to end: the office serving TLS in process and as `heatcrew-office serve`, the device's
//! own sync client trusting a test CA, and what is refused.

use super::TestPki;
use heatcrew_core::Store;
use heatcrew_core::sync::{self, SyncError};
use heatcrew_office::{Config, Office};
use heatcrew_protocol::{ErrorCode, EventBody};
use heatcrew_testkit::{DEMO_PASSWORD, TestDevice};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_signs_in_pushes_and_pulls_over_https() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let office = Office::open(Config::new(dir.path().join("office.db"))).expect("open office");
    office.seed_demo().expect("demo");
    let running = office
        .spawn_with("127.0.0.1:0", Some(pki.tls()))
        .await
        .expect("serve https");
    let url = running.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // A device that does not trust the certificate refuses the office: nothing is sent in clear
    // and no password goes to an impostor.
    let scratch = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Mutex::new(
        Store::open(scratch.path().join("d.db")).expect("device store"),
    ));
    let refused = sync::login(&store, &url, "zhangwei", DEMO_PASSWORD).await;
    match refused {
        Err(SyncError::Offline(m)) => assert!(
            m.contains("certificate") || m.contains("UnknownIssuer"),
            "the failure names the certificate: {m}"
        ),
        other => panic!("an untrusted certificate must fail the sign-in: {other:?}"),
    }
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::get(format!("http://{}/healthz", running.addr)).await;
    assert!(
        plain.is_err() || !plain.expect("answer").status().is_success(),
        "plain HTTP is not served on the TLS port"
    );

    // Trusting the test CA (what HEATCREW_OFFICE_CA does), the device signs in, pulls its jobs,
    // records and pushes.
    assert_eq!(
        sync::trust_office_ca(pki.ca_pem.as_bytes()).expect("the CA is PEM"),
        1
    );
    let device = TestDevice::sign_in(&url, "zhangwei", DEMO_PASSWORD).await;
    let pulled = device
        .syncer
        .sync_once()
        .await
        .expect("first sync over https");
    assert!(
        pulled.changes_pulled > 0,
        "the day's jobs arrive: {pulled:?}"
    );
    let job = {
        let mut s = device.lock();
        let jobs = s.jobs().expect("jobs");
        assert!(!jobs.is_empty(), "zhangwei has demo jobs");
        let mut recorded = None;
        for j in jobs {
            let step = EventBody::StepCompleted {
                step: "appointment".into(),
                evidence: Default::default(),
            };
            if s.record(j.job.id, step).is_ok() {
                recorded = Some(j.job.id);
                break;
            }
        }
        recorded.expect("one demo job takes its first step")
    };
    let pushed = device.syncer.sync_once().await.expect("sync over https");
    assert_eq!(pushed.pushed, 1, "the record went over https: {pushed:?}");

    // The office holds it: read back over https by a dispatcher.
    let http = pki.client();
    let login: Value = http
        .post(format!("{url}/api/v1/auth/staff-login"))
        .json(&json!({"username": "zhaomin", "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("staff login over https")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token");
    let resp = http
        .get(format!("{url}/api/v1/jobs/{job}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("read back");
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some(heatcrew_office::api::headers::HSTS),
        "an office serving TLS says so for a year"
    );
    let detail: Value = resp.json().await.expect("json");
    assert!(
        detail.to_string().contains("\"appointment\""),
        "the step recorded on the phone is at the office: {detail}"
    );
    running.stop().await;
}

#[tokio::test]
async fn an_unusable_ca_is_a_clear_device_error() {
    let err = sync::trust_office_ca(b"-----BEGIN NOTHING-----\n").expect_err("no certificate");
    assert_eq!(err.code(), ErrorCode::OfficeCa, "{err}");
    assert!(
        err.message(heatcrew_rules::Lang::En)
            .contains("certificate file"),
        "{}",
        err.message(heatcrew_rules::Lang::En)
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[tokio::test]
async fn serve_over_tls_answers_https_and_stops_on_sigterm() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = write(dir.path(), "cert.pem", &pki.cert_pem);
    let key = write(dir.path(), "key.pem", &pki.key_pem);
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let mut child = tokio::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("office.db"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn office");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut url = None;
    while let Some(line) = lines.next_line().await.expect("read stdout") {
        if let Some(u) = line.strip_prefix("listening on ") {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.expect("serve prints `listening on URL`");
    assert!(url.starts_with("https://"), "{url}");
    let resp = pki
        .client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("https answer");
    assert!(resp.status().is_success());
    assert!(resp.headers().contains_key("strict-transport-security"));
    let pid = child.id().expect("pid").to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the office stops within 20 s of SIGTERM")
        .expect("exit status");
    assert!(status.success(), "a graceful stop exits 0: {status}");
}

#[test]
fn serve_refuses_certificate_files_it_cannot_use() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = write(dir.path(), "cert.pem", &pki.cert_pem);
    let wrong_key = write(dir.path(), "other-key.pem", &other.key_pem);
    let not_pem = write(dir.path(), "junk.pem", "hello");
    let bin = env!("CARGO_BIN_EXE_heatcrew-office");
    let serve = |extra: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.path().join("office.db"))
            .args(extra)
            .env_remove("HEATCREW_TLS_CERT")
            .env_remove("HEATCREW_TLS_KEY")
            .output()
            .expect("run serve");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!out.status.success(), "refused: {stdout}");
        assert!(
            !stdout.contains("listening"),
            "nothing was served: {stdout}"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let s = |p: &std::path::Path| p.as_os_str().to_owned();
    let flag = |f: &str| std::ffi::OsString::from(f);
    let cases: [(Vec<std::ffi::OsString>, &str); 4] = [
        (
            vec![
                flag("--tls-cert"),
                s(&cert),
                flag("--tls-key"),
                s(&wrong_key),
            ],
            "does not fit the certificate",
        ),
        (
            vec![
                flag("--tls-cert"),
                s(&not_pem),
                flag("--tls-key"),
                s(&wrong_key),
            ],
            "no CERTIFICATE",
        ),
        (
            vec![
                flag("--tls-cert"),
                s(&dir.path().join("missing.pem")),
                flag("--tls-key"),
                s(&wrong_key),
            ],
            "missing.pem",
        ),
        (vec![flag("--tls-cert"), s(&cert)], "--tls-key"),
    ];
    for (args, says) in cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let stderr = serve(&args);
        assert!(stderr.contains(says), "{args:?}: says {says:?}: {stderr}");
    }
}
