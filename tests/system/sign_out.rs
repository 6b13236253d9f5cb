//! Signing out on a phone ends the session at the office too: the tokens a tampered app copied
//! before the sign-out are refused afterwards. Offline, the phone forgets its tokens all the same.

use super::*;
use heatcrew_core::sync::{self, SignedOut};
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};

/// A new phone with tech_a signed in, and a copy of its session (what a tampered app keeps).
async fn signed_in(office: &TestOffice) -> (TempDir, Arc<Mutex<Store>>, sync::Session) {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("device.db")).expect("open the device store"),
    ));
    sync::login(&store, &office.url(), "tech_a", PASSWORD)
        .await
        .expect("tech_a signs in");
    let copy = store.lock().unwrap().session().unwrap().expect("a session");
    (dir, store, copy)
}

/// What the office answers a pull with `token`, and a refresh with `refresh`.
async fn office_answers(office: &TestOffice, copy: &sync::Session) -> (StatusCode, StatusCode) {
    let (pull, _) = office
        .get_json("/api/v1/sync/pull?cursor=0", &copy.access_token)
        .await;
    let (refresh, _) = office
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": copy.refresh_token}),
        )
        .await;
    (pull, refresh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_at_the_office() {
    let office = TestOffice::start().await;
    let (_dir, store, copy) = signed_in(&office).await;
    let (pull, _) = office
        .get_json("/api/v1/sync/pull?cursor=0", &copy.access_token)
        .await;
    assert_eq!(pull, StatusCode::OK, "the session works before");

    assert_eq!(sync::sign_out(&store).await.unwrap(), SignedOut::Revoked);
    assert!(
        store.lock().unwrap().session().unwrap().is_none(),
        "the phone forgot its tokens"
    );
    assert_eq!(
        office_answers(&office, &copy).await,
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED),
        "the copied access and refresh tokens are refused"
    );
    assert_eq!(
        sync::sign_out(&store).await.unwrap(),
        SignedOut::NotSignedIn
    );
}

/// An access token that expired on the phone is renewed once to revoke the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_with_an_expired_access_token_still_ends_the_session() {
    let office = TestOffice::start_with(heatcrew_testkit::Seed::TestAccounts, |c| {
        c.access_ttl = Duration::from_secs(1)
    })
    .await;
    let (_dir, store, copy) = signed_in(&office).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sync::sign_out(&store).await.unwrap(), SignedOut::Revoked);
    let (_, refresh) = office_answers(&office, &copy).await;
    assert_eq!(
        refresh,
        StatusCode::UNAUTHORIZED,
        "the copied refresh token is refused"
    );
}

/// Offline, signing out does not wait long or fail: the phone forgets its tokens, and the
/// office's session ends when it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_offline_forgets_the_tokens_on_the_phone() {
    let mut office = TestOffice::start().await;
    let (_dir, store, _copy) = signed_in(&office).await;
    office.stop().await;
    let outcome = sync::sign_out(&store).await.unwrap();
    assert!(matches!(outcome, SignedOut::NotTold(_)), "{outcome:?}");
    assert!(store.lock().unwrap().session().unwrap().is_none());
}
