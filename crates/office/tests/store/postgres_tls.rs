//! TLS to PostgreSQL (`sslmode`, `sslrootcert`, `sslcert`, `sslkey` in the office's database
//! address, read as libpq reads them: `heatcrew_office::store::postgres::PgTarget`), against the
//! test cluster, which speaks TLS with a certificate for `localhost` and `127.0.0.1` from a CA of
//! its own (`HEATCREW_TEST_PG_CA`; `./dev pg` makes both) and lets the role `heatcrew_tls_client`
//! in only over TLS with a client certificate from that CA.
//!
//! What is checked is what an attacker between the office and its database would try: a server
//! that claims not to speak TLS (a downgrade) must not get the login under `require`; a
//! certificate from another CA, or for another host, must be refused under `verify-full`.

use heatcrew_office::storage::{DatabaseUrl, Storage};
use heatcrew_office::store::PgStore;
use heatcrew_office::store::postgres::{PgTarget, SslMode};
use heatcrew_testkit::pg::TestDb;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The cluster's CA file, or `None` (skip) when no cluster is configured.
fn cluster_ca() -> Option<PathBuf> {
    match std::env::var("HEATCREW_TEST_PG_CA") {
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) if std::env::var("HEATCREW_PG_REQUIRED").as_deref() == Ok("1") => {
            panic!(
                "HEATCREW_PG_REQUIRED=1 but HEATCREW_TEST_PG_CA is not set: start the cluster with `./dev pg`"
            )
        }
        Err(_) => {
            eprintln!("skipped: no TLS test cluster (HEATCREW_TEST_PG_CA, set by `./dev pg`)");
            None
        }
    }
}

/// The error connecting to `url` gives; a connection made is a failure.
fn refused(url: &str, why: &str) -> postgres::Error {
    match PgTarget::parse(url).expect("parse").connect() {
        Ok(_) => panic!("connected, but {why}"),
        Err(e) => e,
    }
}

fn with_query(url: &str, query: &str) -> String {
    format!("{url}?{query}")
}

/// Whether the connection `client` holds is encrypted, and by which TLS version.
fn tls_of(client: &mut postgres::Client) -> (bool, Option<String>) {
    let row = client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl");
    (row.get(0), row.get(1))
}

#[test]
fn verify_full_with_the_servers_ca_connects_the_office_over_tls() {
    let Some(ca) = cluster_ca() else { return };
    let Some(db) = TestDb::create() else { return };
    let url = with_query(
        &db.url,
        &format!(
            "application_name=office-tls&sslmode=verify-full&sslrootcert={}",
            ca.display()
        ),
    );
    // The way `serve --database` opens it: parse (loading the CA), reach, open the pool, migrate.
    let address = DatabaseUrl::parse(&url).expect("a valid address with TLS options");
    let store = Storage::Postgres(address).open().expect("open over TLS");
    store.set_meta("k", "v").expect("write over TLS");

    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("admin");
    let (connections, encrypted): (i64, i64) = {
        let row = admin
            .query_one(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE s.ssl)
                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = current_database() AND a.application_name = 'office-tls'",
                &[],
            )
            .expect("the office's connections");
        (row.get(0), row.get(1))
    };
    assert!(connections > 0, "the office holds connections");
    assert_eq!(encrypted, connections, "every one of them is TLS");

    let target = PgTarget::parse(&url).expect("parse");
    assert_eq!(target.mode, SslMode::VerifyFull);
    let (ssl, version) = tls_of(&mut target.connect().expect("connect"));
    assert!(ssl, "encrypted");
    assert_eq!(version.as_deref(), Some("TLSv1.3"));
}

#[test]
fn sslmode_disable_stays_plain_and_prefer_encrypts_without_checking() {
    let Some(_ca) = cluster_ca() else { return };
    let Some(db) = TestDb::create() else { return };
    let plain = PgTarget::parse(&with_query(&db.url, "sslmode=disable")).expect("parse");
    assert!(
        !tls_of(&mut plain.connect().expect("plain")).0,
        "not encrypted"
    );
    // libpq's default: TLS when offered, the certificate not checked (no CA given).
    let preferred = PgTarget::parse(&db.url).expect("parse");
    assert_eq!(preferred.mode, SslMode::Prefer);
    assert!(tls_of(&mut preferred.connect().expect("prefer")).0);
    let required = PgTarget::parse(&with_query(&db.url, "sslmode=require")).expect("parse");
    assert!(tls_of(&mut required.connect().expect("require")).0);
    drop(PgStore::open(&db.url).expect("the default address still opens the store"));
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let Some(_ca) = cluster_ca() else { return };
    let Some(db) = TestDb::create() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let other_ca = dir.path().join("other-ca.pem");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("a CA");
    std::fs::write(&other_ca, other.cert.pem()).expect("write");
    for mode in ["verify-ca", "verify-full", "require"] {
        // `require` with a CA file is verify-ca, as in libpq.
        let url = with_query(
            &db.url,
            &format!("sslmode={mode}&sslrootcert={}", other_ca.display()),
        );
        let err = refused(
            &url,
            "a server whose certificate chains to another CA is refused",
        );
        assert!(
            format!("{err:?}").contains("UnknownIssuer"),
            "{mode}: the error says why: {err:?}"
        );
        // `serve --database` refuses it at once, saying why (its first connection is checked
        // alone, before the pool's 30 s wait).
        let address = DatabaseUrl::parse(&url).expect("valid");
        let err = Storage::Postgres(address).open().err().expect("refused");
        assert!(
            format!("{err:#}").contains("UnknownIssuer"),
            "{mode}: {err:#}"
        );
    }
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host_and_verify_ca_does_not_compare_names() {
    let Some(ca) = cluster_ca() else { return };
    let Some(db) = TestDb::create() else { return };
    // The same server reached as `db.invalid` (hostaddr gives the address): its certificate names
    // localhost and 127.0.0.1 only, as a server an attacker redirected the name to would.
    let renamed = db.url.replacen("@127.0.0.1:", "@db.invalid:", 1);
    assert_ne!(renamed, db.url, "the test cluster is on 127.0.0.1");
    let full = with_query(
        &renamed,
        &format!(
            "hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
            ca.display()
        ),
    );
    let err = refused(&full, "the certificate does not name db.invalid");
    assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");

    let ca_only = full.replace("verify-full", "verify-ca");
    let mut client = PgTarget::parse(&ca_only)
        .expect("parse")
        .connect()
        .expect("verify-ca checks the chain only");
    assert!(tls_of(&mut client).0);
}

/// A server that answers "no TLS here" to the client's request, as an attacker downgrading the
/// connection would; gives back every byte the client sent after that answer.
fn downgrading_server() -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).expect("SSLRequest");
        assert_eq!(
            request,
            [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
            "the client asks for TLS first"
        );
        socket.write_all(b"N").expect("answer");
        let mut after = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    after.extend_from_slice(&buf[..n]);
                    if after.windows(14).any(|w| w == b"downgrade_user") {
                        break; // the startup message, with the user name, came in plain
                    }
                }
            }
        }
        after
    });
    (port, handle)
}

#[test]
fn require_never_sends_the_login_to_a_server_that_refuses_tls() {
    let Some(_ca) = cluster_ca() else { return };
    let (port, server) = downgrading_server();
    let url = format!("postgres://downgrade_user:secret@127.0.0.1:{port}/db?sslmode=require");
    let err = refused(&url, "no TLS, no connection");
    assert!(
        err.to_string().contains("TLS") || format!("{err:?}").contains("Tls"),
        "the error says TLS was required: {err:?}"
    );
    let sent = server.join().expect("server");
    assert!(
        !sent.windows(14).any(|w| w == b"downgrade_user"),
        "nothing of the login went out in plain: {sent:?}"
    );

    // The same server with `prefer` gets the startup message in plain: the test can tell.
    let (port, server) = downgrading_server();
    let url = format!("postgres://downgrade_user:secret@127.0.0.1:{port}/db");
    let _ = PgTarget::parse(&url).expect("parse").connect();
    let sent = server.join().expect("server");
    assert!(sent.windows(14).any(|w| w == b"downgrade_user"));
}

/// A client certificate for `user` signed by the test cluster's CA (its key is beside it).
fn client_certificate(ca: &Path, user: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key = ca.with_file_name("ca.key");
    let (key, csr, cert) = (
        dir.join("client.key"),
        dir.join("client.csr"),
        dir.join("client.crt"),
    );
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        &format!("/CN={user}"),
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
    ]);
    let serial = format!("0x{}", uuid::Uuid::new_v4().simple());
    // X.509 v3 with a client's key usage (a v1 certificate is refused by rustls).
    let ext = dir.join("client.ext");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .expect("write");
    run(&[
        "x509",
        "-req",
        "-in",
        csr.to_str().unwrap(),
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-set_serial",
        &serial,
        "-days",
        "1",
        "-out",
        cert.to_str().unwrap(),
        "-extfile",
        ext.to_str().unwrap(),
    ]);
    (cert, key)
}

#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(ca) = cluster_ca() else { return };
    let Some(db) = TestDb::create() else { return };
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("admin");
    admin
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE heatcrew_tls_client LOGIN;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        )
        .expect("the role the cluster admits by certificate only");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = client_certificate(&ca, "heatcrew_tls_client", dir.path());
    let as_client = db.url.replacen("postgres@", "heatcrew_tls_client@", 1);

    let url = with_query(
        &as_client,
        &format!(
            "sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
            ca.display(),
            cert.display(),
            key.display()
        ),
    );
    let mut client = PgTarget::parse(&url)
        .expect("parse")
        .connect()
        .expect("the certificate logs in");
    let dn: Option<String> = client
        .query_one(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("client_dn")
        .get(0);
    assert_eq!(dn.as_deref(), Some("/CN=heatcrew_tls_client"));

    let without = with_query(
        &as_client,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    refused(&without, "no certificate, no login");

    let err = PgTarget::parse(&format!("{url}x")).expect_err("a key file that is not there");
    assert!(err.contains("sslkey="), "{err}");
}
