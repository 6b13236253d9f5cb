//! The field app's wire types in TypeScript (`ui/src/lib/backend/types.ts`) are generated from the
//! Rust types by ts-rs, so the UI cannot drift from what the backend sends. This test renders them in
//! memory and fails when the checked-in file differs; with `UPDATE_BINDINGS=1` it rewrites the file.

use heatcrew_core::sync::SyncStatus;
use heatcrew_core::views::{
    AccidentInput, CorrectableRecord, CorrectionInput, DamageInput, DefectInput, FindingInput,
    JobView, NetworkDamageInput, NoEntryInput, OpinionInput, OutboxEntryView, RescheduleInput,
    SessionView, Today,
};
use heatcrew_protocol::{ErrorCode, Resolution, StepEvidence};
use heatcrew_rules::Lang;
use heatcrew_testkit::ts::{self, Declarations};
use ts_rs::TypeVisitor;

const TYPES_TS: &str = "ui/src/lib/backend/types.ts";
const ERROR_MESSAGES_TS: &str = "ui/src/lib/backend/errorMessages.ts";
const REGENERATE: &str = "UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings";

/// What the UI sends and receives; every type these embed is generated too.
fn roots(c: &mut Declarations) {
    // Answers of the commands and the `sync-status` event (CONTRACT.md).
    c.visit::<SessionView>();
    c.visit::<Today>();
    c.visit::<JobView>();
    c.visit::<OutboxEntryView>();
    c.visit::<CorrectableRecord>();
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
    c.visit::<OpinionInput>();
    c.visit::<CorrectionInput>();
    c.visit::<Resolution>();
    c.visit::<NoEntryInput>();
    c.visit::<RescheduleInput>();
}

/// The whole generated file.
fn render() -> String {
    let header = format!(
        "// GENERATED from the Rust types by ts-rs (crates/core/tests/bindings.rs): do not edit.\n\
         // Regenerate after changing a Rust type: {REGENERATE}\n\
         // Wire types between the UI and the Rust backend (CONTRACT.md): snake_case fields, RFC 3339\n\
         // timestamps, UUID ids. The UI's own argument shapes and aliases live in args.ts.\n"
    );
    ts::render(&header, roots)
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

#[test]
fn typescript_bindings_match_the_rust_types() {
    ts::check_generated(TYPES_TS, &render(), REGENERATE);
}

#[test]
fn the_error_texts_in_typescript_match_the_rust_ones() {
    ts::check_generated(ERROR_MESSAGES_TS, &render_error_messages(), REGENERATE);
}
