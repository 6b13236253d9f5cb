//! The office console's wire types in TypeScript (`console/src/lib/api/types.ts`) are generated from
//! the Rust types by ts-rs, as the field UI's are (crates/core/tests/bindings.rs), so the console
//! cannot drift from what the office sends. This test renders them in memory and fails when the
//! checked-in file differs; with `UPDATE_BINDINGS=1` it rewrites the file.

use heatcrew_office::api::admin::{CreateUserRequest, RevokedSessions};
use heatcrew_office::api::auth::StaffLoginRequest;
use heatcrew_office::api::console::alerts::ConsoleAlert;
use heatcrew_office::api::console::customers::CustomerLookup;
use heatcrew_office::api::console::users::{ConsoleUser, ResetPasswordRequest};
use heatcrew_office::api::jobs::{AssignRequest, CancelRequest, CreateJobRequest, ScheduleRequest};
use heatcrew_office::api::live::LiveEvent;
use heatcrew_office::api::network::CreateOutageRequest;
use heatcrew_office::board::BoardView;
use heatcrew_office::job_view::ConsoleJob;
use heatcrew_office::readback::JobDetail;
use heatcrew_office::store::{Crew, DeviceRecord, Route};
use heatcrew_protocol::sync::{ErrorBody, LoginResponse, UserInfo};
use heatcrew_protocol::{Job, OutageNotice};
use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::Path;
use ts_rs::{TS, TypeVisitor};

const TYPES_TS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../console/src/lib/api/types.ts"
);
const REGENERATE: &str = "UPDATE_BINDINGS=1 cargo test -p heatcrew-office --test bindings";

/// What the console sends and receives; every type these embed is generated too.
fn roots(c: &mut Collect) {
    // Answers.
    c.visit::<LoginResponse>();
    c.visit::<ErrorBody>();
    c.visit::<Job>();
    c.visit::<JobDetail>();
    c.visit::<UserInfo>();
    c.visit::<Crew>();
    c.visit::<Route>();
    c.visit::<DeviceRecord>();
    c.visit::<RevokedSessions>();
    c.visit::<OutageNotice>();
    c.visit::<LiveEvent>();
    c.visit::<BoardView>();
    c.visit::<ConsoleJob>();
    c.visit::<CustomerLookup>();
    c.visit::<ConsoleUser>();
    c.visit::<ConsoleAlert>();
    // Requests.
    c.visit::<StaffLoginRequest>();
    c.visit::<CreateJobRequest>();
    c.visit::<AssignRequest>();
    c.visit::<ScheduleRequest>();
    c.visit::<CancelRequest>();
    c.visit::<CreateUserRequest>();
    c.visit::<CreateOutageRequest>();
    c.visit::<ResetPasswordRequest>();
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
        "// GENERATED from the Rust types by ts-rs (crates/office/tests/bindings.rs): do not edit.\n\
         // Regenerate after changing a Rust type: {REGENERATE}\n\
         // Wire types of the office API as the console uses them: snake_case fields, RFC 3339\n\
         // timestamps, UUID ids.\n"
    );
    for (_, decl) in c.decls.values() {
        out.push('\n');
        out.push_str(decl);
        out.push('\n');
    }
    out
}

#[test]
fn console_typescript_bindings_match_the_rust_types() {
    let want = render();
    let path = Path::new(TYPES_TS);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(path, &want).expect("write console/src/lib/api/types.ts");
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
            "console/src/lib/api/types.ts is out of date with the Rust types (first difference at line {}).\n\
             Regenerate it with:\n\n    {REGENERATE}\n\n\
             then run `cd console && npm run check` and commit the file.\n\
             checked in: {:?}\n\
             generated:  {:?}",
            line + 1,
            got.lines().nth(line).unwrap_or("<end of file>"),
            want.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}
