//! The field app's wire types in TypeScript (`ui/src/lib/backend/types.ts`) are generated from the
//! Rust types by ts-rs, so the UI cannot drift from what the backend sends. This test renders them in
//! memory and fails when the checked-in file differs; with `UPDATE_BINDINGS=1` it rewrites the file.

use heatcrew_core::sync::SyncStatus;
use heatcrew_core::views::{
    AccidentInput, DamageInput, DefectInput, FindingInput, JobView, NetworkDamageInput,
    OutboxEntryView, SessionView, Today,
};
use heatcrew_protocol::{ErrorCode, Resolution, StepEvidence};
use heatcrew_rules::Lang;
use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::Path;
use ts_rs::{TS, TypeVisitor};

const TYPES_TS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../ui/src/lib/backend/types.ts"
);
const ERROR_MESSAGES_TS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../ui/src/lib/backend/errorMessages.ts"
);
const REGENERATE: &str = "UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings";

/// What the UI sends and receives; every type these embed is generated too.
fn roots(c: &mut Collect) {
    // Answers of the commands and the `sync-status` event (CONTRACT.md).
    c.visit::<SessionView>();
    c.visit::<Today>();
    c.visit::<JobView>();
    c.visit::<OutboxEntryView>();
    c.visit::<SyncStatus>();
    // Every error the UI can be shown (the field app's errors carry one of these).
    c.visit::<ErrorCode>();
    // Arguments of the commands that have a Rust type.
    c.visit::<Lang>();
    c.visit::<StepEvidence>();
    c.visit::<DamageInput>();
    c.visit::<NetworkDamageInput>();
    c.visit::<FindingInput>();
    c.visit::<DefectInput>();
    c.visit::<AccidentInput>();
    c.visit::<Resolution>();
}

/// Every declarable type reachable from the roots, by TypeScript name (sorted, so the file is stable).
#[derive(Default)]
struct Collect {
    decls: BTreeMap<String, (TypeId, String)>,
}

impl TypeVisitor for Collect {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives, Option, Vec and maps have no declaration of their own: they are inlined.
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident();
        if let Some((id, _)) = self.decls.get(&name) {
            assert_eq!(
                *id,
                TypeId::of::<T>(),
                "two Rust types are both called `{name}` in TypeScript; give one a #[ts(rename = ...)]"
            );
            return;
        }
        let decl = format!(
            "{}export {}",
            T::docs().unwrap_or_default(),
            pretty(&T::decl())
        );
        self.decls.insert(name, (TypeId::of::<T>(), decl));
        T::visit_dependencies(self);
    }
}

/// ts-rs writes each declaration on one line (field docs included): give every field and every
/// variant of a long union a line of its own, so the file reads like the hand-written one did.
fn pretty(decl: &str) -> String {
    let Some((head, body)) = decl.split_once(" = ") else {
        return decl.to_owned();
    };
    let body = body.trim_end_matches(';');
    // One object (a union of objects also starts and ends with a brace, so count the variants).
    if let Some(inner) = body.strip_prefix('{').and_then(|b| b.strip_suffix('}'))
        && split_top(body, '|').len() == 1
    {
        let mut out = format!("{head} = {{\n");
        for field in split_top(inner, ',') {
            for line in field.lines().map(str::trim).filter(|l| !l.is_empty()) {
                // Field docs come as `/**`, ` * text`, ` */` lines; fields get their comma back.
                if line.starts_with("/**") {
                    out.push_str(&format!("  {line}\n"));
                } else if line.starts_with('*') {
                    out.push_str(&format!("   {line}\n"));
                } else {
                    out.push_str(&format!("  {line},\n"));
                }
            }
        }
        out.push_str("};");
        return out;
    }
    let variants = split_top(body, '|');
    if variants.len() > 1 && decl.len() > 90 {
        let mut out = format!("{head} =");
        for v in variants {
            out.push_str(&format!("\n  | {v}"));
        }
        out.push(';');
        return out;
    }
    format!("{head} = {body};")
}

/// `s` cut at `sep` where it is outside brackets, strings and comments; pieces trimmed, empty ones dropped.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut start, mut pieces) = (0i32, 0, Vec::new());
    let (mut in_string, mut in_comment) = (false, false);
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            _ if in_comment => in_comment = !(c == '/' && i > 0 && bytes[i - 1] == b'*'),
            '"' => in_string = !in_string,
            _ if in_string => {}
            '/' if bytes.get(i + 1) == Some(&b'*') => in_comment = true,
            '{' | '[' | '(' | '<' => depth += 1,
            '}' | ']' | ')' | '>' => depth -= 1,
            _ if c == sep && depth == 0 => {
                pieces.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&s[start..]);
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The whole generated file.
fn render() -> String {
    let mut c = Collect::default();
    roots(&mut c);
    let mut out = format!(
        "// GENERATED from the Rust types by ts-rs (crates/core/tests/bindings.rs): do not edit.\n\
         // Regenerate after changing a Rust type: {REGENERATE}\n\
         // Wire types between the UI and the Rust backend (CONTRACT.md): snake_case fields, RFC 3339\n\
         // timestamps, UUID ids. The UI's own argument shapes and aliases live in args.ts.\n"
    );
    for (_, decl) in c.decls.values() {
        out.push('\n');
        out.push_str(decl);
        out.push('\n');
    }
    out
}

/// Each error code's texts, from `ErrorCode::message`, so the UI words a code as the backend does.
fn render_error_messages() -> String {
    let mut out = format!(
        "// GENERATED from heatcrew_protocol::ErrorCode by crates/core/tests/bindings.rs: do not edit.\n\
         // Regenerate after changing a code or its text: {REGENERATE}\n\
         import type {{ ErrorCode, Lang }} from './types';\n\
         \n\
         /** What each error code means, in both languages the app speaks. */\n\
         export const ERROR_MESSAGES: Record<ErrorCode, Record<Lang, string>> = {{\n"
    );
    let quote = |s: &str| serde_json::to_string(s).expect("a string");
    for &code in ErrorCode::ALL {
        out.push_str(&format!(
            "  {}: {{\n    'zh-CN': {},\n    en: {},\n  }},\n",
            code.as_str(),
            quote(code.message(Lang::Zh)),
            quote(code.message(Lang::En)),
        ));
    }
    out.push_str("};\n");
    out
}

/// Compare a checked-in generated file with what the Rust types give now; rewrite it on request.
fn check_generated(path: &str, want: &str) {
    let path = Path::new(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(path, want).unwrap_or_else(|e| panic!("write {name}: {e}"));
        return;
    }
    let got = std::fs::read_to_string(path).unwrap_or_default();
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "ui/src/lib/backend/{name} is out of date with the Rust types (first difference at line {}).\n\
             Regenerate it with:\n\n    {REGENERATE}\n\n\
             then run `cd ui && npm run check` and commit the file.\n\
             checked in: {:?}\n\
             generated:  {:?}",
            line + 1,
            got.lines().nth(line).unwrap_or("<end of file>"),
            want.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn typescript_bindings_match_the_rust_types() {
    check_generated(TYPES_TS, &render());
}

#[test]
fn the_error_texts_in_typescript_match_the_rust_ones() {
    check_generated(ERROR_MESSAGES_TS, &render_error_messages());
}
