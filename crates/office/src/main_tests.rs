//! The `heatcrew-office` command line's own tests (flags parsed as `main.rs` defines them).

use super::*;

fn serve(args: &[&str]) -> Result<Command, clap::Error> {
    let mut argv = vec!["heatcrew-office", "serve", "--db", "o.db"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).map(|c| c.command)
}

#[test]
fn the_pool_size_is_bounded() {
    let pool = |args: &[&str]| match serve(args) {
        Ok(Command::Serve { db_connections, .. }) => Ok(db_connections),
        Ok(_) => panic!("serve"),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(
        pool(&[]),
        Ok(heatcrew_office::store::postgres::DEFAULT_POOL_SIZE)
    );
    assert_eq!(pool(&["--db-connections", "40"]), Ok(40));
    for bad in ["0", "1", "1001", "many"] {
        let err = pool(&["--db-connections", bad]).expect_err(bad);
        assert!(err.contains("--db-connections"), "{bad}: {err}");
    }
}

#[test]
fn serve_requires_admin_totp_unless_told_and_takes_a_proxy_header_name() {
    let Ok(Command::Serve {
        admin_totp_optional,
        client_address_header,
        ..
    }) = serve(&[])
    else {
        panic!("plain serve parses");
    };
    assert!(
        !admin_totp_optional,
        "admins need a second factor by default"
    );
    assert_eq!(client_address_header, None, "the TCP peer by default");
    let Ok(Command::Serve { pdf_font, .. }) = serve(&["--pdf-font", "/fonts/x.ttf"]) else {
        panic!("serve with a font parses");
    };
    assert_eq!(pdf_font, PathBuf::from("/fonts/x.ttf"));
    let Ok(Command::Serve { pdf_font, .. }) = serve(&[]) else {
        panic!("plain serve parses");
    };
    assert_eq!(
        pdf_font,
        PathBuf::from(heatcrew_office::pdf::DEFAULT_FONT),
        "Debian's Noto Sans CJK by default"
    );
    let Ok(Command::Serve {
        admin_totp_optional,
        client_address_header,
        ..
    }) = serve(&[
        "--admin-totp-optional",
        "--client-address-header",
        "X-Forwarded-For",
    ])
    else {
        panic!("serve with both flags parses");
    };
    assert!(admin_totp_optional);
    assert_eq!(client_address_header.as_deref(), Some("x-forwarded-for"));
    assert!(
        serve(&["--client-address-header", "not a header"]).is_err(),
        "a name that is no HTTP header is refused at start"
    );
}
