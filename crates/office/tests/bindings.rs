//! The office console's wire types in TypeScript (`console/src/lib/api/types.ts`) are generated from
//! the Rust types by ts-rs, as the field UI's are (crates/core/tests/bindings.rs), so the console
//! cannot drift from what the office sends. This test renders them in memory and fails when the
//! checked-in file differs; with `UPDATE_BINDINGS=1` it rewrites the file.

use heatcrew_office::api::admin::{
    CreateUserRequest, MoveDeviceRequest, MovedDevice, RevokedSessions, ShareDeviceRequest,
};
use heatcrew_office::api::auth::StaffLoginRequest;
use heatcrew_office::api::console::alerts::ConsoleAlert;
use heatcrew_office::api::console::audit::AuditPage;
use heatcrew_office::api::console::complaints::{ComplaintDetail, ComplaintList};
use heatcrew_office::api::console::customers::CustomerLookup;
use heatcrew_office::api::console::users::{ConsoleUser, ResetPasswordRequest};
use heatcrew_office::api::jobs::{AssignRequest, CancelRequest, CreateJobRequest, ScheduleRequest};
use heatcrew_office::api::kpi::{SetTarget, TargetView};
use heatcrew_office::api::live::LiveEvent;
use heatcrew_office::api::network::CreateOutageRequest;
use heatcrew_office::api::totp::{TotpConfirm, TotpSetup};
use heatcrew_office::board::BoardView;
use heatcrew_office::complaints::figures::ComplaintFigures;
use heatcrew_office::complaints::input::{
    CallbackRequest, CreateComplaintRequest, HandoverRequest, ReplyRequest,
};
use heatcrew_office::feedback::{DocumentDigest, FeedbackPage};
use heatcrew_office::job_view::ConsoleJob;
use heatcrew_office::kpi::conformance::Violation;
use heatcrew_office::kpi::{KpiAnswer, KpiJob};
use heatcrew_office::readback::JobDetail;
use heatcrew_office::store::{Crew, DeviceRecord, Route};
use heatcrew_protocol::sync::{CompanyProfile, ErrorBody, LoginResponse, UserInfo};
use heatcrew_protocol::{Job, OutageNotice};
use heatcrew_testkit::ts::{self, Declarations};
use ts_rs::TypeVisitor;
// Notice register, patrol plans, compliance grid and defects (issue 13.6–7).
use heatcrew_office::api::console::notices::{NoticeList, OutcomeRequest, ReinspectorRequest};
use heatcrew_office::api::console::patrols::{
    DefectStatusRequest, DefectView, RepairOrdered, RepairRequest,
};
use heatcrew_office::notices::register::NoticeFilter;
use heatcrew_office::patrols::grid::PatrolGrid;
use heatcrew_office::patrols::{NewPlan, PatrolPlan};

const TYPES_TS: &str = "console/src/lib/api/types.ts";
const REGENERATE: &str = "UPDATE_BINDINGS=1 cargo test -p heatcrew-office --test bindings";

/// What the console sends and receives; every type these embed is generated too.
fn roots(c: &mut Declarations) {
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
    c.visit::<AuditPage>();
    c.visit::<MovedDevice>();
    c.visit::<TotpSetup>();
    c.visit::<CompanyProfile>();
    c.visit::<FeedbackPage>();
    c.visit::<DocumentDigest>();
    c.visit::<ComplaintList>();
    c.visit::<ComplaintDetail>();
    c.visit::<ComplaintFigures>();
    // Requests.
    c.visit::<StaffLoginRequest>();
    c.visit::<CreateJobRequest>();
    c.visit::<AssignRequest>();
    c.visit::<ScheduleRequest>();
    c.visit::<CancelRequest>();
    c.visit::<CreateUserRequest>();
    c.visit::<CreateOutageRequest>();
    c.visit::<ResetPasswordRequest>();
    c.visit::<MoveDeviceRequest>();
    c.visit::<ShareDeviceRequest>();
    c.visit::<TotpConfirm>();
    c.visit::<KpiAnswer>();
    c.visit::<KpiJob>();
    c.visit::<TargetView>();
    c.visit::<SetTarget>();
    c.visit::<Violation>();
    c.visit::<CreateComplaintRequest>();
    c.visit::<HandoverRequest>();
    c.visit::<ReplyRequest>();
    c.visit::<CallbackRequest>();
    // Notice register, patrol plans, compliance grid and defects.
    c.visit::<NoticeList>();
    c.visit::<NoticeFilter>();
    c.visit::<PatrolPlan>();
    c.visit::<PatrolGrid>();
    c.visit::<DefectView>();
    c.visit::<RepairOrdered>();
    c.visit::<OutcomeRequest>();
    c.visit::<ReinspectorRequest>();
    c.visit::<NewPlan>();
    c.visit::<RepairRequest>();
    c.visit::<DefectStatusRequest>();
}

/// The whole generated file.
fn render() -> String {
    let header = format!(
        "// GENERATED from the Rust types by ts-rs (crates/office/tests/bindings.rs): do not edit.\n\
         // Regenerate after changing a Rust type: {REGENERATE}\n\
         // Wire types of the office API as the console uses them: snake_case fields, RFC 3339\n\
         // timestamps, UUID ids.\n"
    );
    ts::render(&header, roots)
}

#[test]
fn console_typescript_bindings_match_the_rust_types() {
    ts::check_generated(TYPES_TS, &render(), REGENERATE);
}
