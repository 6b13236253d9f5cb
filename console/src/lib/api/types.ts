// GENERATED from the Rust types by ts-rs (crates/office/tests/bindings.rs): do not edit.
// Regenerate after changing a Rust type: UPDATE_BINDINGS=1 cargo test -p heatcrew-office --test bindings
// Wire types of the office API as the console uses them: snake_case fields, RFC 3339
// timestamps, UUID ids.

/**
 * Who acknowledged an alert, and when (office clock).
 */
export type AlertAck = {
  by: AlertPerson,
  at: string,
};

/**
 * A person as the alert names them.
 */
export type AlertPerson = {
  id: string,
  display_name: string,
  badge_no: string,
};

export type AssignRequest = {
  assignee: string,
};

export type AttachmentView = {
  sha256: string,
  mime: string,
  bytes: number,
  /**
   * The file arrived and its hash matched.
   */
  received: boolean,
};

/**
 * An entry as stored.
 */
export type AuditEntry = {
  seq: number,
  at: string,
  kind: AuditKind,
  actor_id: string | null,
  username: string,
  address: string,
  subject: string,
  detail: Record<string, unknown>,
};

/**
 * What happened. Stored and filtered by its snake_case name.
 */
export type AuditKind =
  | "sign_in"
  | "sign_in_failed"
  | "device_enrolled"
  | "device_moved"
  | "device_shared"
  | "device_revoked"
  | "sign_out"
  | "session_ended"
  | "user_created"
  | "password_changed"
  | "user_deactivated"
  | "user_activated"
  | "totp_enabled"
  | "export"
  | "bundle_download"
  | "document_download"
  | "company_profile_changed"
  | "kpi_target_changed"
  | "complaint_received"
  | "complaint_handed_over"
  | "complaint_replied"
  | "complaint_called_back"
  | "job_created"
  | "job_assigned"
  | "job_scheduled"
  | "job_cancelled"
  | "field_job_accepted"
  | "patrol_plan_changed"
  | "notice_reinspector_set"
  | "notice_outcome_recorded"
  | "defect_status_changed"
  | "alert_acknowledged"
  | "outage_published"
  | "outage_cleared";

export type AuditPage = {
  entries: Array<AuditEntry>,
  /**
   * Pass as `before` for the next (older) page; absent on the last page.
   */
  next_before: number | null,
};

/**
 * One job on the board.
 */
export type BoardJob = {
  job: Job,
  created_at: string,
  state: BoardState,
  /**
   * Steps of the job's checklist recorded (completed or skipped)…
   */
  steps_done: number,
  /**
   * …of the steps that apply to it (0 when this office does not know its template).
   */
  steps_total: number,
  /**
   * The first step not yet recorded, while the job is open.
   */
  next_step: StepTitle | null,
  /**
   * The 4-hour resolution clock at `BoardView::now`, on the office's corrected clock.
   */
  sla: Sla,
  late: LateFlag | null,
  /**
   * Office-corrected time of the `arrive` step.
   */
  arrived_at: string | null,
  assignee_name: string | null,
  assignee_badge: string | null,
  /**
   * Opened by a device in the field rather than by dispatch.
   */
  field_created: boolean,
  /**
   * Field-created and not yet accepted by a dispatcher (`POST /console/jobs/{id}/accept`):
   * shown with a mark and left out of the KPIs.
   */
  awaiting_acceptance: boolean,
  /**
   * The customer is to be given another appointment: the visit closed as not home / no
   * entry, or the customer asked for one (the console shows it in the tray).
   */
  reschedule_requested: boolean,
  /**
   * The customer's preferred window, from their last reschedule request.
   */
  preferred_window: Window | null,
  /**
   * A record broke a checklist rule when the office re-checked it (`crate::kpi::conformance`):
   * the card is flagged and the job never counts as a conforming closure.
   */
  non_conforming: boolean,
};

/**
 * Where a job stands on the board.
 */
export type BoardState =
  | "unassigned"
  | "assigned"
  | "arrived"
  | "in_progress"
  | "closed"
  | "follow_up"
  | "cancelled"
  | "no_entry";

/**
 * The board of one day.
 */
export type BoardView = {
  date: string,
  /**
   * The day's bounds in UTC (`date` in the caller's UTC offset).
   */
  from: string,
  to: string,
  /**
   * The office clock the clocks were computed at.
   */
  now: string,
  /**
   * The lanes: active field users, by role then name.
   */
  field_users: Array<UserInfo>,
  /**
   * The day's jobs (by appointment, else report time), then open undated ones.
   */
  jobs: Array<BoardJob>,
};

export type Callback = {
  satisfaction: Satisfaction,
  note: string,
  by: StaffRef,
  at: string,
};

export type CallbackRequest = {
  satisfaction: Satisfaction,
  /**
   * What the customer said, up to 1000 characters.
   */
  note: string,
};

export type CancelRequest = {
  reason: string,
};

/**
 * A cell's colour: the worst judged state in it.
 */
export type CellState = "none" | "on_time" | "late" | "missed" | "pending";

/**
 * Whether a device's signed hash chain holds, as the office's verify finds it.
 */
export type ChainState = "verified" | "broken" | "tip_mismatch" | "bad_key";

/**
 * The evidence status of one device that recorded on the job.
 */
export type ChainStatus = {
  device_id: string,
  /**
   * The office's short code for the device (`D0001`).
   */
  device_code: string,
  device_name: string,
  state: ChainState,
  /**
   * Events of the device checked.
   */
  events: number,
  bad_seq: number | null,
  bad_event_id: string | null,
  /**
   * What is wrong, in words (empty when verified).
   */
  message: string,
};

/**
 * How it reached the office.
 */
export type Channel = "phone" | "hotline" | "visit" | "letter" | "online" | "other";

/**
 * A checkpoint on a patrol route.
 */
export type Checkpoint = {
  id: string,
  name: string,
  kind: CheckpointKind,
  readings: Array<ReadingSpec>,
  /**
   * Overrides the interval that follows from `kind`.
   */
  interval_minutes: number | null,
  /**
   * The SHA-256 (hex) of the code posted at the station ([`Checkpoint::code_digest`]):
   * the device checks a scanned or typed code against it offline, without holding the code.
   */
  code_sha256?: string,
};

/**
 * Counts of judged rounds (pending ones are left out).
 */
export type CheckpointFigures = {
  on_time: number,
  late: number,
  missed: number,
  /**
   * Not yet judged (shown, never counted in a rate).
   */
  pending: number,
};

/**
 * A place on a patrol round.
 */
export type CheckpointKind = "head_station" | "substation" | "pipeline_segment";

export type CheckpointStatus = {
  id: string,
  name: string,
  interval_minutes: number,
  visits: number,
  /**
   * Rounds visited only in the grace after their end (a quarter interval).
   */
  late: number,
  /**
   * Rounds that ended, grace and all, with no visit.
   */
  missed: number,
  last_visit: string | null,
  /**
   * Presence confirmed with the station's code, checked again here against the office's own
   * digest: only these are evidence of presence.
   */
  confirmed_by_code: number,
  /**
   * Confirmations whose code does not match the station's (a device that skipped its check).
   */
  code_mismatches: number,
  /**
   * The last confirmation by code (corrected time).
   */
  last_confirmed: string | null,
};

/**
 * The heating company's details the field app shows: in the standard phrases
 * (「您好，我是{company}维修人员{name}」) and on the contact card left with the customer.
 */
export type CompanyProfile = {
  /**
   * The company's name as the staff say it (XX热力公司).
   */
  name: string,
  /**
   * The service hotline (供热服务热线) left with every customer.
   */
  hotline: string,
};

/**
 * One complaint, its trail (oldest first) and the office's clock.
 */
export type ComplaintDetail = {
  now: string,
  complaint: ComplaintRow,
  trail: Array<AuditEntry>,
};

/**
 * The figures of a period (module docs).
 */
export type ComplaintFigures = {
  from: string,
  to: string,
  /**
   * The moment the figures were taken at (office clock).
   */
  now: string,
  complaints_received: number,
  complaints_answered_in_time: Ratio,
  reports_received: number,
  reports_answered_in_time: Ratio,
  overdue_open: number,
  /**
   * Received in the period, neither answered nor due yet.
   */
  pending: number,
};

/**
 * Complaint (投诉, 5 days) or report (举报, 7 days).
 */
export type ComplaintKind = "complaint" | "report";

export type ComplaintList = {
  /**
   * The office's clock: countdowns are `due_at - now`.
   */
  now: string,
  complaints: Array<ComplaintRow>,
};

/**
 * A complaint with where it stands at the office's `now`.
 */
export type ComplaintRow = {
  state: ComplaintState,
  /**
   * Answered before the deadline (`null` while unanswered).
   */
  answered_in_time: boolean | null,
  id: string,
  /**
   * What people quote: TS2026-00007 (投诉) or JB2026-00008 (举报).
   */
  number: string,
  kind: ComplaintKind,
  channel: Channel,
  /**
   * Empty: anonymous (a report may be).
   */
  caller_name: string,
  caller_phone: string,
  subject: string,
  text: string,
  job_id: string | null,
  customer: Customer | null,
  received_at: string,
  /**
   * [`due_at`] of `received_at`: answered in time means replied before this.
   */
  due_at: string,
  /**
   * 首问: who took it first.
   */
  received_by: StaffRef,
  owner: Owner,
  reply: Reply | null,
  callback: Callback | null,
  created_at: string,
};

/**
 * Where a complaint stands at a given moment (computed, never stored).
 */
export type ComplaintState = "open" | "overdue" | "answered" | "closed";

/**
 * An urgent alert as the console shows it: what happened, where, who reported it and when.
 */
export type ConsoleAlert = {
  /**
   * The urgent event's id.
   */
  id: string,
  /**
   * The event kind: `accident_reported`, or `defect_reported` for a critical defect.
   */
  kind: string,
  job_id: string,
  job_title: string,
  /**
   * Where: the customer's address or the site, else what the reporter wrote.
   */
  place: string,
  lat: number | null,
  lon: number | null,
  description: string,
  measures_taken: string,
  injuries: boolean,
  reporter: AlertPerson,
  /**
   * The device's clock when it was recorded.
   */
  reported_at: string,
  /**
   * The office's clock when it arrived.
   */
  raised_at: string,
  acknowledged: AlertAck | null,
};

/**
 * The console's job page.
 */
export type ConsoleJob = {
  detail: JobDetail,
  status: BoardJob,
  timeline: Array<TimelineEntry>,
  chains: Array<ChainStatus>,
  /**
   * The job's checklist steps with their titles, so a photo or signature names its step by
   * title rather than by id (empty when this office does not know the template).
   */
  steps: Array<StepTitle>,
  /**
   * The opinion form's questions and answers, to word a customer's `opinion_given`.
   */
  opinion_questions: Array<OpinionQuestion>,
  /**
   * Each correction beside the record it names ([`crate::corrections`]).
   */
  corrections: Array<CorrectionPair>,
  /**
   * What office staff did to the job, oldest first: opened, assigned, scheduled, cancelled,
   * accepted, its documents and evidence taken out (the audit log's entries about it).
   */
  office_actions: Array<OfficeAction>,
};

/**
 * A user as the console lists them.
 */
export type ConsoleUser = {
  /**
   * False once deactivated: cannot sign in.
   */
  active: boolean,
  id: string,
  username: string,
  display_name: string,
  role: Role,
  /**
   * The service badge number worn on the left chest (统一编号的服务证).
   */
  badge_no: string,
};

/**
 * A correction and the record it corrects.
 */
export type CorrectionPair = {
  /**
   * The correction as recorded: its payload holds `corrects`, `reason` and `replacement`
   * (refused ones too, with the office's reason: a correction of the rating is `rating_locked`).
   */
  correction: TimelineEntry,
  /**
   * The record it names, as first recorded; `None` if the office holds no such record.
   */
  original: TimelineEntry | null,
};

/**
 * A complaint or report as taken at the console.
 */
export type CreateComplaintRequest = {
  /**
   * Chosen by the console once per form: a submit retried after a lost answer stores it once.
   */
  id: string | null,
  kind: ComplaintKind,
  channel: Channel,
  /**
   * Up to 40 characters; empty for an anonymous report (a complaint needs a phone number).
   */
  caller_name: string,
  /**
   * Up to 30 characters, at least 5 digits; required for a complaint (to answer and call back).
   */
  caller_phone: string,
  /**
   * 1–100 characters.
   */
  subject: string,
  /**
   * What the caller said, 1–4000 characters.
   */
  text: string,
  /**
   * A job it concerns (must exist).
   */
  job_id: string | null,
  /**
   * The customer it concerns (from the customer lookup); taken from the job when absent.
   */
  customer: Customer | null,
  /**
   * When it reached the office (a letter's arrival); default now. Up to 30 days back, never
   * ahead. The deadline counts from it.
   */
  received_at: string | null,
};

/**
 * A work order, typically from a phone report (客户电话报修: name, phone, address, fault, time).
 */
export type CreateJobRequest = {
  /**
   * A client-chosen job id makes the call idempotent: repeating it (a retry after a lost
   * response) returns the job already created instead of a second one.
   */
  id: string | null,
  /**
   * `home_repair` (default), `heat_theft_inspection`, `patrol_round`, `acceptance_inspection`, `emergency_repair`.
   */
  kind: JobKind,
  /**
   * The fault as reported, e.g. 暖气不热; becomes the job title.
   */
  fault: string,
  customer: Customer | null,
  site: string | null,
  /**
   * When the customer called; the 4-hour clock runs from here. Defaults to now for repairs.
   */
  reported_at: string | null,
  window: Window | null,
  assignee: string | null,
  street_work: boolean,
  /**
   * Patrol rounds: take the checkpoints from this route…
   */
  route_id: string | null,
  /**
   * …or give them here.
   */
  checkpoints: Array<Checkpoint>,
};

export type CreateOutageRequest = {
  area: string,
  reason: string,
  starts_at: string,
  /**
   * 预计恢复供热时间.
   */
  expected_restore_at: string,
};

export type CreateUserRequest = {
  username: string,
  password: string,
  /**
   * `repair_technician`, `inspector`, `patrol`, `dispatcher`, `admin`.
   */
  role: Role,
  display_name: string,
  /**
   * Service badge number (统一编号的服务证).
   */
  badge_no: string,
};

export type Crew = {
  id: string,
  name: string,
  members: Array<string>,
};

/**
 * A heat customer (热用户).
 */
export type Customer = {
  name: string,
  phone: string,
  address: string,
  /**
   * 用户编号 / account number.
   */
  account_no: string,
};

/**
 * An earlier job of a customer, with the customer as recorded on it.
 */
export type CustomerJob = {
  job_id: string,
  kind: JobKind,
  title: string,
  customer: Customer,
  reported_at: string | null,
  created_at: string,
  status: JobStatus,
};

/**
 * What the lookup found: the newest matching customer (to fill the form) and their jobs.
 */
export type CustomerLookup = {
  customer: Customer | null,
  jobs: Array<CustomerJob>,
};

/**
 * A defect in the register.
 */
export type DefectRecord = {
  /**
   * The `defect_reported` event's id.
   */
  id: string,
  /**
   * The id the device gave the defect.
   */
  defect_id: string,
  /**
   * The patrol round it was reported on.
   */
  job_id: string,
  reported_by: string,
  /**
   * Corrected device time.
   */
  reported_at: string,
  checkpoint: string | null,
  category: string,
  severity: Severity,
  description: string,
  status: DefectStatus,
  repair_job_id: string | null,
  status_note: string | null,
  status_by: string | null,
  status_at: string | null,
};

export type DefectStatus = "open" | "repair_ordered" | "fixed" | "dismissed";

export type DefectStatusRequest = {
  /**
   * `open`, `fixed` or `dismissed` (a repair is ordered with `/repair`).
   */
  status: DefectStatus,
  /**
   * Required to dismiss; at most 2,000 characters.
   */
  note: string | null,
};

/**
 * A defect with who reported it.
 */
export type DefectView = {
  reported_by_person: PersonRef | null,
  /**
   * The checkpoint's name on the round (when the defect names one).
   */
  checkpoint_name: string | null,
  /**
   * The `defect_reported` event's id.
   */
  id: string,
  /**
   * The id the device gave the defect.
   */
  defect_id: string,
  /**
   * The patrol round it was reported on.
   */
  job_id: string,
  reported_by: string,
  /**
   * Corrected device time.
   */
  reported_at: string,
  checkpoint: string | null,
  category: string,
  severity: Severity,
  description: string,
  status: DefectStatus,
  repair_job_id: string | null,
  status_note: string | null,
  status_by: string | null,
  status_at: string | null,
};

/**
 * A device as enrolled at this office.
 */
export type DeviceRecord = {
  id: string,
  /**
   * Ed25519 public key, hex.
   */
  public_key: string,
  /**
   * Short code unique at this office (`D0001`), used in offline-issued notice numbers.
   */
  code: string,
  name: string,
  /**
   * The user the device is bound to: its first, or the one an admin moved it to. Nobody else
   * signs in on it unless it is `shared`.
   */
  user_id: string,
  /**
   * Marked by an admin as a crew's shared phone: any active field user may sign in on it.
   */
  shared: boolean,
  enrolled_at: string,
  last_seq: number,
  /**
   * Server clock minus device clock, from the last request that carried the device's time.
   */
  clock_offset_ms: number | null,
  /**
   * How often the offset moved by more than the configured threshold between two requests.
   */
  clock_jumps: number,
  /**
   * When the device last pushed, pulled or signed in (`None` before its first since 0012).
   */
  last_sync_at: string | null,
  /**
   * The app version its last sync said it runs (`api::device_info`: at most 64 printable
   * characters, else "unknown").
   */
  app_version: string | null,
};

/**
 * A printable document's SHA-256 as the office made it for a job.
 */
export type DocumentDigest = {
  /**
   * `service_record` or `notice:<number>`.
   */
  document: string,
  sha256: string,
  bytes: number,
  first_made_at: string,
};

/**
 * Every error response: a stable code to branch on and a message for people.
 */
export type ErrorBody = {
  /**
   * A code from the closed vocabulary; one this build does not know reads as `unknown`.
   */
  code: ErrorCode,
  message: string,
  /**
   * For `sequence_gap` (409): the `device_seq` the office expects next.
   */
  expected_seq?: number,
};

/**
 * A stable error code (see the module docs). Serialized as its snake_case string.
 */
export type ErrorCode =
  | "bad_request"
  | "bad_json"
  | "not_found"
  | "method_not_allowed"
  | "too_large"
  | "unsupported_media_type"
  | "forbidden"
  | "internal"
  | "missing_token"
  | "bad_token"
  | "token_revoked"
  | "token_expired"
  | "bad_credentials"
  | "bad_public_key"
  | "bad_refresh_token"
  | "refresh_reused"
  | "user_deactivated"
  | "bad_offset"
  | "bad_date"
  | "lookup_too_short"
  | "lookup_key"
  | "cannot_deactivate_self"
  | "unknown_alert"
  | "alert_already_acknowledged"
  | "device_key_mismatch"
  | "no_device"
  | "proof_required"
  | "bad_proof"
  | "challenge_unknown"
  | "challenge_wrong_device"
  | "challenge_expired"
  | "chain_head_required"
  | "chain_head_mismatch"
  | "unknown_sign_in"
  | "sign_out_conflict"
  | "signed_out"
  | "device_other_user"
  | "too_many_attempts"
  | "login_busy"
  | "refresh_wrong_device"
  | "session_expired"
  | "totp_required"
  | "bad_totp"
  | "totp_setup_required"
  | "totp_not_pending"
  | "totp_used"
  | "bad_device_time"
  | "unknown_audit_kind"
  | "unknown_user"
  | "username_taken"
  | "bad_username"
  | "weak_password"
  | "crew_exists"
  | "route_exists"
  | "bad_window"
  | "missing_fault"
  | "missing_customer"
  | "missing_checkpoints"
  | "job_exists"
  | "job_cancelled"
  | "not_field_created"
  | "too_many_events"
  | "sequence_gap"
  | "bad_payload"
  | "forbidden_job"
  | "unknown_job"
  | "out_of_sequence"
  | "conflicting_duplicate"
  | "chain_blocked"
  | "edited"
  | "bad_signature"
  | "broken_chain"
  | "wrong_device"
  | "malformed"
  | "out_of_range"
  | "field_job_not_allowed"
  | "job_not_yours_anymore"
  | "bad_digest"
  | "not_referenced"
  | "size_conflict"
  | "unknown_attachment"
  | "missing_offset"
  | "offset_mismatch"
  | "beyond_size"
  | "hash_mismatch"
  | "not_received"
  | "offline"
  | "office_unavailable"
  | "unauthorized"
  | "protocol_mismatch"
  | "http_error"
  | "no_offset"
  | "bad_challenge"
  | "office_ca"
  | "bad_receipt"
  | "receipt_mismatch"
  | "bad_tree_head"
  | "no_office_key"
  | "log_rewritten"
  | "not_signed_in"
  | "unsynced_records"
  | "disk_full"
  | "storage"
  | "database_too_new"
  | "store_corrupt"
  | "bad_data"
  | "file_missing"
  | "device_key_missing"
  | "device_key_exposed"
  | "device_key_conflict"
  | "device_key_malformed"
  | "device_key_unavailable"
  | "database_key_missing"
  | "database_key_wrong"
  | "unknown_template"
  | "job_not_active"
  | "step_out_of_order"
  | "unknown_step"
  | "step_already_done"
  | "step_not_skippable"
  | "skip_reason_missing"
  | "evidence_missing"
  | "invalid_value"
  | "wrong_step_for_record"
  | "already_signed"
  | "decline_reason_missing"
  | "rating_out_of_range"
  | "rating_locked"
  | "record_not_allowed"
  | "cannot_close"
  | "bad_correction"
  | "deadline_in_past"
  | "follow_up_before_deadline"
  | "wrong_checkpoint_code"
  | "checkpoint_has_no_code"
  | "readiness_incomplete"
  | "empty_file"
  | "not_an_image"
  | "unsupported_format"
  | "truncated"
  | "corrupt"
  | "dimensions_too_large"
  | "signature_empty"
  | "read_failed"
  | "encode_failed"
  | "decoder_panicked"
  | "complaint_field"
  | "unknown_complaint"
  | "complaint_exists"
  | "not_complaint_owner"
  | "handover_target"
  | "handover_inactive_user"
  | "complaint_already_replied"
  | "complaint_not_replied"
  | "complaint_closed"
  | "unknown";

/**
 * A page of records, newest closing first.
 */
export type FeedbackPage = {
  records: Array<FeedbackRecord>,
  /**
   * How many records match the query in all.
   */
  total: number,
  /**
   * Pass as `after` for the next page; none on the last.
   */
  next: string | null,
};

/**
 * One closed visit as the feedback record reads it.
 */
export type FeedbackRecord = {
  job_id: string,
  /**
   * `home_repair`, `emergency_repair`, `heat_theft_inspection`, `acceptance_inspection`.
   */
  job_kind: string,
  title: string,
  /**
   * Who closed the visit (recorded the `job_closed`).
   */
  staff_id: string | null,
  staff_name: string,
  staff_badge: string,
  customer_name: string,
  /**
   * Digits only.
   */
  customer_phone: string,
  customer_account: string,
  address: string,
  /**
   * When the customer reported the fault (dispatch's time).
   */
  reported_at: string | null,
  /**
   * The `arrive` step, office-corrected.
   */
  arrived_at: string | null,
  /**
   * The closing with result `resolved`, office-corrected (none for other results).
   */
  resolved_at: string | null,
  /**
   * The last `job_closed`, office-corrected.
   */
  closed_at: string,
  /**
   * `resolved`, `follow_up_needed` or `no_entry`.
   */
  result: string,
  /**
   * The technician's closing summary.
   */
  summary: string,
  /**
   * The customer's stars (1–5), if given.
   */
  rating: number | null,
  comment: string,
  /**
   * The opinion form's answers as stored (question key → option value).
   */
  opinions: { [key in string]?: string },
};

/**
 * One figure: B ÷ A against its target. The answer of every KPI source (jobs here; complaints,
 * notices and patrol plans plug in with their own keys).
 */
export type Figure = {
  key: string,
  /**
   * B.
   */
  numerator: number,
  /**
   * A.
   */
  denominator: number,
  /**
   * B ÷ A; `null` when A is 0 (nothing to measure, not 0 % and not 100 %).
   */
  value: number | null,
  /**
   * The target `value` should reach (at least); `null` for figures shown without one.
   */
  target: number | null,
  /**
   * `ratio` (a share, shown as a percentage) or `stars` (a mean of 1–5).
   */
  unit: string,
  /**
   * `value >= target` (or `value <= target` for a ceiling, `at_most`); `null` without a value
   * or a target.
   */
  met: boolean | null,
  /**
   * The target is a ceiling (complaint rate, late and missed patrol rounds): lower is better.
   */
  at_most: boolean,
};

/**
 * One finding of the inspection (违约或窃热行为).
 */
export type FindingLine = {
  /**
   * `FindingCategory` in snake_case (`unauthorized_connection`, …).
   */
  category: string,
  description: string,
};

/**
 * A reading outside its checkpoint's normal range.
 */
export type FlaggedReading = {
  job_id: string,
  event_id: string,
  user_id: string,
  checkpoint: string,
  checkpoint_name: string,
  key: string,
  label_zh: string,
  label_en: string,
  value: number,
  unit: string,
  normal_min: number | null,
  normal_max: number | null,
  at: string,
};

export type GridCell = {
  figures: CheckpointFigures,
  /**
   * Readings outside the normal range in this cell.
   */
  flagged: number,
  state: CellState,
};

export type GridResolution = "day" | "hour";

export type GridRow = {
  checkpoint_id: string,
  name: string,
  /**
   * `head_station`, `substation`, `pipeline_segment`.
   */
  kind: string,
  interval_minutes: number,
  cells: Array<GridCell>,
  totals: CheckpointFigures,
};

/**
 * Hand a complaint over to a person (an active dispatcher or admin) or to a department.
 */
export type HandoverRequest = {
  to_user: string | null,
  /**
   * 1–40 characters (e.g. 维修部, 稽查科).
   */
  to_department: string | null,
  /**
   * Why and what was agreed, 1–1000 characters.
   */
  note: string,
};

/**
 * A job as dispatched to a device.
 */
export type Job = {
  id: string,
  kind: JobKind,
  template: TemplateRef,
  /**
   * Short human title, e.g. the fault as reported ("暖气不热").
   */
  title: string,
  customer: Customer | null,
  /**
   * Where the work is, when there is no customer (a substation, a street).
   */
  site: string | null,
  /**
   * When the fault was reported; the 4-hour SLA runs from here.
   */
  reported_at: string | null,
  window: Window | null,
  /**
   * The user the job is assigned to.
   */
  assignee: string | null,
  /**
   * Street work that affects traffic: safety signs must be hung.
   */
  street_work: boolean,
  /**
   * Patrol rounds: the checkpoints to visit.
   */
  checkpoints: Array<Checkpoint>,
  status: JobStatus,
  /**
   * The local time zone of a patrol round job, minutes east of UTC: where its days start and its
   * rounds are cut (`None`: [`DEFAULT_UTC_OFFSET_MINUTES`], China).
   */
  utc_offset_minutes?: number | null,
  /**
   * Bumped by the office on each change, so a device can tell newer from older.
   */
  revision: number,
};

/**
 * A job as the office reads it back.
 */
export type JobDetail = {
  job: Job,
  created_at: string,
  cancel_reason: string | null,
  /**
   * Opened by a device in the field rather than by dispatch.
   */
  field_created: boolean,
  /**
   * Field-created and not yet accepted by a dispatcher: left out of the KPIs.
   */
  awaiting_acceptance: boolean,
  steps: Array<RecordedStep>,
  photos: Array<PhotoView>,
  signatures: Array<SignatureView>,
  /**
   * `rating_given` and `opinion_given` records (the customer's stars, comment and, for the
   * opinion form, the answers).
   */
  ratings: Array<RecordView>,
  /**
   * `notice_issued` records (整改通知书).
   */
  notices: Array<RecordView>,
  /**
   * `reading_recorded` records (运行日志).
   */
  readings: Array<RecordView>,
  /**
   * `defect_reported` records.
   */
  defects: Array<RecordView>,
  /**
   * Findings, damage, accidents, corrections, closings and kinds this office does not know.
   */
  other_records: Array<RecordView>,
  closed: RecordView | null,
  /**
   * Not home / no entry at the door (`no_entry_recorded`: reason, witness, door photo).
   */
  no_entry: RecordView | null,
  /**
   * The customer's requests for another appointment (`reschedule_requested`), oldest first.
   */
  reschedule_requests: Array<RecordView>,
  /**
   * The office is asked to reschedule: closed as no entry, or the customer asked.
   */
  reschedule_requested: boolean,
  /**
   * Events refused for this job (kept in the device ledger, not applied).
   */
  rejected: Array<RejectedView>,
  sla: SlaView | null,
  patrol: PatrolView | null,
};

/**
 * What kind of work a job is. Each kind has a checklist template (versioned data in `heatcrew-core`).
 */
export type JobKind =
  | "home_repair"
  | "heat_theft_inspection"
  | "patrol_round"
  | "acceptance_inspection"
  | "emergency_repair";

/**
 * Whether the office still wants the job done.
 */
export type JobStatus = "open" | "cancelled";

/**
 * The KPIs of a period.
 */
export type KpiAnswer = {
  from: string,
  to: string,
  /**
   * The office clock the figures were computed at (a repair's 4 hours may still be running).
   */
  now: string,
  figures: Array<Figure>,
  groups: Array<KpiGroup>,
  trend: Array<TrendDay>,
};

/**
 * The figures of one group (a crew, a person, a job kind).
 */
export type KpiGroup = {
  key: string,
  label: string,
  figures: Array<Figure>,
};

/**
 * A job behind a figure.
 */
export type KpiJob = {
  job_id: string,
  title: string,
  kind: string,
  person: string | null,
  person_name: string | null,
  anchor_at: string,
  reported_at: string | null,
  arrived_at: string | null,
  closed_at: string | null,
  /**
   * `resolved`, `follow_up_needed`, `no_entry`; `null` while open.
   */
  resolution: string | null,
  rating: number | null,
  conforming: boolean,
  /**
   * In B (counts for the figure); else in A only (counts against it).
   */
  in_numerator: boolean,
};

/**
 * Arrival against the appointment window.
 */
export type LateFlag = "arrived_late" | "not_arrived";

/**
 * One server-sent event's data (JSON).
 */
export type LiveEvent =
  | { "kind": "job_changed", job_id: string, }
  | { "kind": "attachment_received", sha256: string, }
  | { "kind": "alert_raised", alert: ConsoleAlert, }
  | { "kind": "alert_acknowledged", alert: ConsoleAlert, }
  | { "kind": "complaint_changed", complaint_id: string, }
  | { "kind": "resync" };

/**
 * A text in the two languages the app speaks: Chinese first, English second.
 */
export type Localized = {
  zh: string,
  en: string,
};

/**
 * Tokens and who they belong to.
 */
export type LoginResponse = {
  access_token: string,
  access_expires_at: string,
  refresh_token: string,
  user: UserInfo,
  /**
   * A short code unique to this device at this office; part of offline-issued notice numbers.
   */
  device_code: string,
  /**
   * The highest `device_seq` the office holds for this device (0 if none).
   */
  last_seq: number,
  server_time: string,
  /**
   * The office's Ed25519 key (hex) that signs receipts and tree heads; the device keeps it.
   */
  office_public_key: string | null,
};

export type MoveDeviceRequest = {
  /**
   * The user the device is bound to from now on.
   */
  user_id: string,
};

export type MovedDevice = {
  device: DeviceRecord,
  /**
   * Sessions on the device that ended (its previous user's).
   */
  revoked: number,
};

/**
 * A plan as a dispatcher asks for it.
 */
export type NewPlan = {
  name: string,
  route_id: string,
  shifts: Array<Shift>,
  intervals: { [key in string]?: number },
  active_from: string | null,
  active_until: string | null,
  utc_offset_minutes: number | null,
};

/**
 * Which notices a list shows.
 */
export type NoticeFilter = "all" | "open" | "overdue" | "due_this_week";

/**
 * The register: the notices asked for, with how many are open, overdue and due this week.
 */
export type NoticeList = {
  notices: Array<NoticeView>,
  total: number,
  open: number,
  overdue: number,
  due_this_week: number,
};

/**
 * How a re-inspection ended.
 */
export type NoticeOutcome = "complied" | "not_complied" | "new_notice";

/**
 * Where a notice stands.
 */
export type NoticeStatus =
  | "open"
  | "awaiting_reinspection"
  | "complied"
  | "not_complied"
  | "new_notice";

/**
 * A notice in the register.
 */
export type NoticeView = {
  status: NoticeStatus,
  /**
   * The start of the day after the deadline, office time: overdue from then on.
   */
  due_at: string,
  /**
   * When the re-inspection is opened: `due_at`, or the start of the follow-up day the inspector
   * set if later.
   */
  reinspection_at: string,
  overdue: boolean,
  days_overdue: number,
  customer: Customer | null,
  site: string | null,
  findings: Array<FindingLine>,
  issued_by_person: PersonRef | null,
  /**
   * Who re-inspects (chosen, else the issuer).
   */
  reinspector_person: PersonRef | null,
  /**
   * The `notice_issued` event's id.
   */
  id: string,
  /**
   * `ZG-<device code>-<yyyymmdd>-<nnn>`, unique across devices (docs/domain.md).
   */
  number: string,
  /**
   * The inspection job it was issued on.
   */
  job_id: string,
  issued_by: string,
  /**
   * Device time corrected by the device's clock offset when the office imported it.
   */
  issued_at: string,
  deadline: string,
  requirements: string,
  /**
   * Chosen by a dispatcher; `None`: the issuing inspector re-inspects.
   */
  reinspector: string | null,
  reinspection_job_id: string | null,
  reinspection_created_at: string | null,
  outcome: NoticeOutcome | null,
  outcome_note: string | null,
  /**
   * The dispatcher who recorded the outcome; `None` when it was read from the re-inspection job.
   */
  outcome_by: string | null,
  outcome_at: string | null,
  /**
   * The notice issued at the re-inspection (outcome `new_notice`).
   */
  next_notice: string | null,
  /**
   * The follow-up inspection the inspector set (复查日期, on or after the deadline): the
   * re-inspection opens that day. `None`: the day after the deadline ([`reinspection_at`]).
   */
  follow_up_on: string | null,
};

/**
 * Something office staff did to the job, from the audit log (who, when, what; not from where).
 */
export type OfficeAction = {
  seq: number,
  at: string,
  kind: AuditKind,
  /**
   * Who, by username and by name (empty if the user is unknown to this office).
   */
  username: string,
  user_name: string,
  /**
   * For `job_created` and `job_assigned`: the assignee's name (empty otherwise).
   */
  assignee_name: string,
  /**
   * The entry's detail: the window set, the reason given, the document taken out.
   */
  detail: Record<string, unknown>,
};

/**
 * One answer the customer may choose.
 */
export type OpinionOption = {
  value: string,
  label: Localized,
  /**
   * An answer the office should look at (late, poor attitude, a gift asked for or taken).
   */
  concern: boolean,
};

/**
 * One question of the form.
 */
export type OpinionQuestion = {
  key: string,
  text: Localized,
  options: Array<OpinionOption>,
};

/**
 * A planned or unplanned heating outage that crews at the door should know about (停热通知).
 */
export type OutageNotice = {
  id: string,
  area: string,
  reason: string,
  starts_at: string,
  /**
   * 预计恢复供热时间.
   */
  expected_restore_at: string,
};

export type OutcomeRequest = {
  outcome: NoticeOutcome,
  /**
   * What the re-inspection found (required unless complied; at most 2,000 characters).
   */
  note: string | null,
  /**
   * For `new_notice`: the notice issued in its place (in the register).
   */
  next_notice: string | null,
};

/**
 * Who owns it now: a person or a department, never both.
 */
export type Owner = {
  person: StaffRef | null,
  department: string | null,
};

export type PatrolGrid = {
  plan: PatrolPlan,
  route_name: string,
  resolution: GridResolution,
  /**
   * Column labels: `YYYY-MM-DD` per day, or `HH:00` per hour.
   */
  columns: Array<string>,
  rows: Array<GridRow>,
  totals: CheckpointFigures,
  /**
   * The readings outside their normal range in the grid's period.
   */
  flagged: Array<FlaggedReading>,
};

/**
 * A route on a recurring schedule.
 */
export type PatrolPlan = {
  id: string,
  name: string,
  route_id: string,
  shifts: Array<Shift>,
  /**
   * Checkpoint id → minutes between rounds, overriding the route (1 … 1440).
   */
  intervals: { [key in string]?: number },
  /**
   * The operating season (运行期间), local dates, both ends included; `None`: open-ended.
   */
  active_from: string | null,
  active_until: string | null,
  /**
   * The plan's time zone, minutes east of UTC (480 for China).
   */
  utc_offset_minutes: number,
  created_at: string,
  /**
   * When an edit replaced this plan ([`PatrolStore::revise_plan`]): its shifts starting from
   * then are neither opened nor expected; the days before keep the schedule they ran on.
   */
  retired_at: string | null,
  /**
   * The plan this one revised.
   */
  replaces: string | null,
};

/**
 * Late and missed checkpoint visits of a patrol round.
 */
export type PatrolView = {
  checkpoints: Array<CheckpointStatus>,
  late: number,
  missed: number,
};

/**
 * A person as a notice names them.
 */
export type PersonRef = {
  id: string,
  name: string,
  badge_no: string,
};

export type PhotoView = {
  step: string,
  caption: string,
  photo: AttachmentView,
  event_id: string,
  device_id: string,
  device_seq: number,
  user_id: string,
  recorded_at: string,
  /**
   * `recorded_at` plus the device's clock offset at the office (server minus device).
   */
  corrected_at: string,
};

/**
 * B ÷ A as counts.
 */
export type Ratio = {
  numerator: number,
  denominator: number,
};

/**
 * A reading to take at a checkpoint, e.g. supply temperature in °C.
 */
export type ReadingSpec = {
  key: string,
  label_zh: string,
  label_en: string,
  unit: string,
  /**
   * Values outside this range are flagged on the device (not refused: the reading is what it is).
   */
  normal_min: number | null,
  normal_max: number | null,
};

export type RecordView = {
  kind: string,
  payload: unknown,
  /**
   * Attachments this record references, with whether each arrived.
   */
  attachments: Array<AttachmentView>,
  event_id: string,
  device_id: string,
  device_seq: number,
  user_id: string,
  recorded_at: string,
  /**
   * `recorded_at` plus the device's clock offset at the office (server minus device).
   */
  corrected_at: string,
};

/**
 * A checklist step as the device recorded it: completed with its evidence, or skipped with a reason.
 */
export type RecordedStep = {
  step: string,
  /**
   * `completed` or `skipped`.
   */
  status: string,
  skip_reason?: string,
  evidence: unknown,
  event_id: string,
  device_id: string,
  device_seq: number,
  user_id: string,
  recorded_at: string,
  /**
   * `recorded_at` plus the device's clock offset at the office (server minus device).
   */
  corrected_at: string,
};

export type ReinspectorRequest = {
  user_id: string,
};

export type RejectedView = {
  kind: string,
  code: string,
  reason: string,
  event_id: string,
  device_id: string,
  device_seq: number,
  user_id: string,
  recorded_at: string,
  /**
   * `recorded_at` plus the device's clock offset at the office (server minus device).
   */
  corrected_at: string,
};

/**
 * The repair ordered for a defect.
 */
export type RepairOrdered = {
  defect: DefectRecord,
  job_id: string,
  /**
   * False when the defect already had its repair job (that one is answered).
   */
  created: boolean,
};

export type RepairRequest = {
  /**
   * Who repairs; none: dispatch assigns it from the board.
   */
  assignee: string | null,
};

export type Reply = {
  text: string,
  by: StaffRef,
  at: string,
};

export type ReplyRequest = {
  /**
   * The answer given to the caller, 1–4000 characters.
   */
  text: string,
};

export type ResetPasswordRequest = {
  password: string,
};

export type RevokedSessions = {
  revoked: number,
};

/**
 * Staff roles. Scope (which jobs a user may read and write) follows from the role and assignments.
 */
export type Role = "repair_technician" | "inspector" | "patrol" | "dispatcher" | "admin";

/**
 * A patrol route: the checkpoints a patrol round visits.
 */
export type Route = {
  id: string,
  name: string,
  area: string,
  checkpoints: Array<Checkpoint>,
};

/**
 * What the customer said on the callback (回访).
 */
export type Satisfaction = "satisfied" | "fairly_satisfied" | "dissatisfied";

export type ScheduleRequest = {
  start: string,
  end: string,
};

/**
 * An admin sets a figure's target; `null` goes back to the default.
 */
export type SetTarget = {
  key: string,
  target: number | null,
};

/**
 * How bad a patrol defect is.
 */
export type Severity = "minor" | "major" | "critical";

export type ShareDeviceRequest = {
  /**
   * True: a crew's shared phone, any field user may sign in on it. False: only its user.
   */
  shared: boolean,
};

/**
 * A daily shift of a plan.
 */
export type Shift = {
  /**
   * Local start time (`08:00:00`).
   */
  starts_at: string,
  /**
   * 1 to 24.
   */
  hours: number,
  /**
   * The patrol on this shift: the round's assignee.
   */
  assignee: string,
};

export type SignatureView = {
  step: string,
  /**
   * `customer`, `witness`, `technician`; or `declined`.
   */
  signer: string,
  signer_name: string,
  image?: AttachmentView,
  /**
   * For a declined signature: `refused` or `absent`, the reason and the witness.
   */
  declined?: unknown,
  event_id: string,
  device_id: string,
  device_seq: number,
  user_id: string,
  recorded_at: string,
  /**
   * `recorded_at` plus the device's clock offset at the office (server minus device).
   */
  corrected_at: string,
};

export type Sla =
  | { "state": "none" }
  | { "state": "on_track", due_at: string, }
  | { "state": "at_risk", due_at: string, }
  | { "state": "breached", due_at: string, }
  | { "state": "met", due_at: string, resolved_at: string, }
  | { "state": "met_late", due_at: string, resolved_at: string, };

export type SlaView = {
  reported_at: string,
  deadline: string,
  /**
   * Corrected time of the `job_closed` with resolution `resolved` (the rules' fold: the last
   * closing counts).
   */
  resolved_at: string | null,
  /**
   * `None` while still open and within the deadline.
   */
  within_sla: boolean | null,
};

/**
 * Office staff sign in without a device key (they do not record field events).
 */
export type StaffLoginRequest = {
  username: string,
  password: string,
  /**
   * The six-digit code of the user's authenticator app, once they set up a second factor.
   */
  totp?: string,
};

/**
 * A staff member as a complaint names them.
 */
export type StaffRef = {
  id: string,
  display_name: string,
  badge_no: string,
};

/**
 * A checklist step by its id and its title in both languages.
 */
export type StepTitle = {
  id: string,
  title: Localized,
};

/**
 * A figure's target as in force.
 */
export type TargetView = {
  key: string,
  /**
   * `ratio` (0–1) or `stars` (1–5).
   */
  unit: string,
  target: number | null,
  /**
   * What it is without an admin's setting.
   */
  default_target: number | null,
  /**
   * A ceiling (lower is better) rather than a floor.
   */
  at_most: boolean,
};

/**
 * Which checklist template (and which version of it) a job follows.
 */
export type TemplateRef = {
  id: string,
  version: number,
};

/**
 * One record on the job's timeline.
 */
export type TimelineEntry = {
  event_id: string,
  device_id: string,
  device_seq: number,
  /**
   * The event kind (`step_completed`, `photo_added`, …).
   */
  kind: string,
  /**
   * The checklist step it belongs to, if any.
   */
  step: string | null,
  /**
   * What happened, in both languages: the step's title from the job's template, or the kind.
   */
  title: Localized,
  /**
   * The standard phrase of the step (统一服务用语), if it has one.
   */
  phrase: Localized | null,
  payload: unknown,
  user_id: string,
  /**
   * Who recorded it, by name and badge (empty if the user is unknown to this office).
   */
  user_name: string,
  user_badge: string,
  /**
   * The device's clock.
   */
  recorded_at: string,
  /**
   * The device's clock corrected by its offset at the office.
   */
  corrected_at: string,
  /**
   * False for a record the office refused (kept in the ledger, not applied).
   */
  accepted: boolean,
  reject_reason: string | null,
};

export type TotpConfirm = {
  /**
   * The six digits the authenticator app shows now.
   */
  code: string,
};

export type TotpSetup = {
  /**
   * The secret, base32 (type it into an authenticator app).
   */
  secret: string,
  /**
   * The same as an `otpauth://totp/…` link.
   */
  otpauth_url: string,
  /**
   * That link as a QR code for the authenticator app's camera: a PNG, base64 (no `data:` prefix).
   */
  qr_png_base64: string,
};

/**
 * The figures of one local day (the jobs anchored on it).
 */
export type TrendDay = {
  date: string,
  figures: Array<Figure>,
};

export type UserInfo = {
  id: string,
  username: string,
  display_name: string,
  role: Role,
  /**
   * The service badge number worn on the left chest (统一编号的服务证).
   */
  badge_no: string,
};

/**
 * A rule an accepted event broke.
 */
export type Violation = {
  event_id: string,
  device_id: string,
  device_seq: number,
  /**
   * The event's kind, e.g. `signature_captured`.
   */
  kind: string,
  /**
   * The rule's stable code (`step_out_of_order`, `cannot_close`, `evidence_missing`, …).
   */
  code: string,
  message_zh: string,
  message_en: string,
};

/**
 * The time window agreed with the customer (预约时间).
 */
export type Window = {
  start: string,
  end: string,
};
