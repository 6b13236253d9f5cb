//! Every error code the office can answer with is in the closed vocabulary, with words for people
//! in both languages. The office's source is read as text: any `ErrorCode::…` it names (and the
//! event faults it relays in push results) must be a declared code with non-empty zh-CN and English
//! texts, and the OpenAPI document lists exactly the vocabulary.

use heatcrew_protocol::{ErrorCode, Lang};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use utoipa::PartialSchema;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The variant names after `ErrorCode::` in a source text (not SQLite's `rusqlite::ErrorCode`).
fn named_codes(text: &str) -> BTreeSet<String> {
    text.match_indices("ErrorCode::")
        .filter(|(i, _)| !text[..*i].ends_with("rusqlite::") && !text[..*i].ends_with("ffi::"))
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect()
}

#[test]
fn every_code_the_office_emits_is_declared_with_both_texts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    // The chain faults the ledger relays as push refusals are named in the protocol crate.
    files.push(root.join("../protocol/src/event.rs"));
    let mut named = BTreeSet::new();
    for f in &files {
        named.extend(named_codes(
            &std::fs::read_to_string(f).expect("read source"),
        ));
    }
    // Not codes: the vocabulary's own constant.
    named.remove("ALL");
    assert!(
        named.len() >= 50,
        "the office names dozens of codes; finding {} means the scan is broken: {named:?}",
        named.len()
    );
    let declared: Vec<(String, ErrorCode)> = ErrorCode::ALL
        .iter()
        .map(|c| (format!("{c:?}"), *c))
        .collect();
    for name in &named {
        let (_, code) = declared
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("ErrorCode::{name} is named in the office but not declared"));
        for lang in [Lang::Zh, Lang::En] {
            assert!(
                !code.message(lang).trim().is_empty(),
                "{} has a {lang:?} text",
                code.as_str()
            );
        }
        assert_ne!(
            *code,
            ErrorCode::Unknown,
            "the office never sends `unknown`"
        );
    }
}

#[test]
fn the_openapi_error_body_lists_the_vocabulary() {
    let schema = serde_json::to_value(heatcrew_office::error::ErrorBodySchema::schema())
        .expect("schema as json");
    let listed: Vec<String> = schema["properties"]["code"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("code is an enum: {schema}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect();
    let want: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(listed, want, "the document lists every code, in order");
}
