// GENERATED from the Rust types by ts-rs (crates/core/tests/bindings.rs): do not edit.
// Regenerate after changing a Rust type: UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings
// Wire types between the UI and the Rust backend (CONTRACT.md): snake_case fields, RFC 3339
// timestamps, UUID ids. The UI's own argument shapes and aliases live in args.ts.

/**
 * An urgent accident or hazard report (`report_accident`).
 */
export type AccidentInput = {
  description: string,
  measures_taken: string,
  position: Position,
  injuries: boolean,
};

export type Arrival =
  | { "state": "not_arrived" }
  | { "state": "early", arrived_at: string, }
  | { "state": "on_time", arrived_at: string, }
  | { "state": "late", arrived_at: string, };

/**
 * A photo or signature image, referenced by the SHA-256 of its stored bytes.
 */
export type AttachmentRef = {
  sha256: string,
  bytes: number,
  mime: string,
  width: number,
  height: number,
  /**
   * Capture time from the camera's EXIF, if it had one (evidence).
   */
  taken_at: string | null,
  /**
   * Capture position from EXIF, if any (evidence).
   */
  gps: Position | null,
};

/**
 * A place on a patrol round.
 */
export type CheckpointKind = "head_station" | "substation" | "pipeline_segment";

export type CheckpointState = "done" | "due" | "late" | "missed";

export type CheckpointView = {
  id: string,
  name: string,
  kind: CheckpointKind,
  state: CheckpointState,
  /**
   * The round to visit next (the running one, or the next once this one is visited): when it
   * opens and when it ends — the deadline to be on time. Rounds are cut as the office counts
   * them (`heatcrew_rules::rounds`).
   */
  opens_at: string,
  next_due_at: string,
  last_visit_at: string | null,
  /**
   * Rounds of this job judged missed so far.
   */
  missed_rounds: number,
  readings: Array<ReadingSpec>,
  /**
   * The office gave the station a code to confirm presence with.
   */
  has_code: boolean,
  /**
   * The last time presence here was confirmed by the station's code, and how.
   */
  confirmed_at: string | null,
  confirmed_by: CodeEntry | null,
};

/**
 * One choice of a [`Evidence::Choice`].
 */
export type ChoiceOption = {
  value: string,
  label: Localized,
};

/**
 * How a checkpoint's code got into the app.
 */
export type CodeEntry = "scanned" | "typed";

/**
 * A record of the job a technician may correct, with its values as first recorded and as they
 * stand after every correction.
 */
export type CorrectableRecord = {
  event_id: string,
  /**
   * `step_completed`, `reading_recorded` or `finding_recorded`.
   */
  kind: string,
  step: string | null,
  checkpoint: string | null,
  finding_id: string | null,
  recorded_at: string,
  /**
   * The values as recorded: the log keeps them whatever follows.
   */
  original: Replacement,
  /**
   * The values now: the original overridden by each correction in turn.
   */
  current: Replacement,
  corrections: Array<CorrectionView>,
};

/**
 * A correction of one of the job's records (`correct_record`): which record, why, and the
 * corrected values (none: a note of what was wrong).
 */
export type CorrectionInput = {
  corrects: string,
  reason: string,
  replacement: Replacement | null,
};

/**
 * A correction recorded on the job.
 */
export type CorrectionView = {
  /**
   * The correction's own event.
   */
  event_id: string | null,
  /**
   * The record it corrects (unchanged in the log).
   */
  corrects: string,
  reason: string,
  at: string,
  /**
   * The corrected values, if any (a correction may only say what was wrong).
   */
  replacement: Replacement | null,
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
 * A damage record as the form sends it (`record_damage`).
 */
export type DamageInput = {
  item: string,
  description: string,
  remedy: Remedy,
  remedy_detail: string,
  photos: Array<AttachmentRef>,
  /**
   * The customer's co-signature, or (refused / absent) `signature_refused` with the reason.
   */
  customer_signature?: AttachmentRef,
  signature_refused?: SignatureRefusal,
};

export type DamageView = {
  id: string,
  item: string,
  description: string,
  /**
   * `restore_original` | `equivalent` | `compensation`, or `customer_caused` for network damage.
   */
  remedy: string,
  remedy_detail: string,
  photos: Array<AttachmentRef>,
  /**
   * Co-signed by the customer; otherwise `signature_refused` says why not.
   */
  signed: boolean,
  signature_refused: SignatureRefusal | null,
};

/**
 * Why there is no customer signature: a normal outcome, never a dead end.
 */
export type DeclineKind = "refused" | "absent";

/**
 * A patrol defect (`report_defect`).
 */
export type DefectInput = {
  checkpoint: string | null,
  category: string,
  severity: Severity,
  position: Position,
  description: string,
  photos: Array<AttachmentRef>,
};

export type DefectView = {
  id: string,
  checkpoint: string | null,
  category: string,
  severity: Severity,
  description: string,
  position: Position,
  photos: Array<AttachmentRef>,
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
 * What a step needs before it counts as done.
 */
export type EvidenceSpec =
  | { "type": "photos", min: number, label: Localized, }
  | { "type": "text", key: string, label: Localized, required: boolean, multiline: boolean, }
  | { "type": "choice", key: string, label: Localized, required: boolean, options: Array<ChoiceOption>, }
  | { "type": "readings", specs: Array<ReadingSpec>, }
  | { "type": "signature", signer: Signer, }
  | { "type": "rating" }
  | { "type": "contact_card", phone: string, label: Localized, }
  | { "type": "confirm", label: Localized, }
  | { "type": "notice" }
  | { "type": "checkpoints" };

/**
 * What an inspector found (违约或窃热行为).
 */
export type FindingCategory =
  | "unauthorized_connection"
  | "tampered_seal"
  | "tampered_meter"
  | "valve_opened_without_permission"
  | "added_radiators"
  | "other";

/**
 * A heat-theft finding (`record_finding`).
 */
export type FindingInput = {
  category: FindingCategory,
  description: string,
  states: { [key in string]?: string },
  photos: Array<AttachmentRef>,
};

export type FindingView = {
  id: string,
  category: string,
  description: string,
  states: { [key in string]?: string },
  photos: Array<AttachmentRef>,
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
 * One row of the job list.
 */
export type JobSummary = {
  id: string,
  kind: JobKind,
  title: string,
  customer: Customer | null,
  site: string | null,
  window: Window | null,
  reported_at: string | null,
  sla: Sla,
  arrival: Arrival,
  steps_done: number,
  steps_total: number,
  closed: boolean,
  cancelled: boolean,
  revoked: boolean,
  /**
   * Records of this job not yet acknowledged by the office.
   */
  pending_records: number,
  /**
   * Emergency work and accident reports, shown first and pushed first.
   */
  urgent: boolean,
  /**
   * Photos and signatures of this job not yet at the office, and their bytes still to go: a
   * record the office acknowledged is not all there until these are 0 ("photos pending").
   */
  photos_pending: number,
  photo_bytes_pending: number,
  /**
   * The office's acknowledgements of this job's urgent records, for the job card (the job page
   * has them in [`JobView::office_acks`] too).
   */
  office_acks: Array<OfficeAckView>,
};

/**
 * A job with everything the visit screens need.
 */
export type JobView = {
  summary: JobSummary,
  steps: Array<StepView>,
  current_step: string | null,
  signature: SignatureView | null,
  rating: RatingView | null,
  damages: Array<DamageView>,
  findings: Array<FindingView>,
  notices: Array<NoticeView>,
  checkpoints: Array<CheckpointView>,
  defects: Array<DefectView>,
  can_close: boolean,
  close_blockers: Array<Localized>,
  /**
   * The office's acknowledgements of this job's urgent records (an accident report): who at
   * the office took the alert, and when; empty until a pull brings one.
   */
  office_acks: Array<OfficeAckView>,
  /**
   * How the job closed (`resolved`, `follow_up_needed`, `no_entry`), once it has.
   */
  closed_as: Resolution | null,
  /**
   * Not home / no entry may be recorded now: a visit to a home, open, not yet entered.
   */
  can_record_no_entry: boolean,
  no_entry: NoEntryView | null,
  /**
   * The last reschedule request, if the customer made one.
   */
  reschedule: RescheduleView | null,
  /**
   * The customer's opinion form (维修意见征询表): its questions, when the job has a rating
   * step; empty otherwise.
   */
  opinion_form: Array<OpinionQuestion>,
  /**
   * Corrections recorded on this job, oldest first; the originals stay as they were.
   */
  corrections: Array<CorrectionView>,
  /**
   * The day's shift readiness, when this job waits for it (the first repair or inspection
   * of the day): the checks to confirm before the first step. `None` once done today.
   */
  readiness: ReadinessView | null,
  /**
   * Outage notices in force that cover the customer's address, soonest restoration first.
   */
  outages: Array<OutageNotice>,
  /**
   * Photos taken and still being processed, or that could not be (take them again), oldest
   * first. The steps above already count them; `steps[].photos` holds only processed ones.
   */
  processing_photos: Array<ProcessingPhotoView>,
  /**
   * Actions on this job waiting for those photos before they are recorded.
   */
  held_records: number,
};

/**
 * The UI language: Chinese first (the crews' language), English second.
 */
export type Lang = "zh-CN" | "en";

/**
 * A text in the two languages the app speaks: Chinese first, English second.
 */
export type Localized = {
  zh: string,
  en: string,
};

/**
 * Damage to the network caused by the customer (`record_network_damage`).
 */
export type NetworkDamageInput = {
  equipment: string,
  cause: string,
  photos: Array<AttachmentRef>,
  /**
   * The customer's co-signature, or (refused / absent) `signature_refused` with the reason.
   */
  customer_signature?: AttachmentRef,
  signature_refused?: SignatureRefusal,
};

/**
 * Not home / no entry at the door (`close_not_home`): recorded, then the visit closes.
 */
export type NoEntryInput = {
  outcome: NoEntryKind,
  reason: string,
  door_photo: AttachmentRef,
  witness: Witness | null,
  /**
   * The customer's preferred window, if they gave one (a note on the door, a call).
   */
  reschedule: RescheduleInput | null,
};

/**
 * Why the technician could not get in, recorded at the door before entry.
 */
export type NoEntryKind = "not_home" | "entry_refused";

/**
 * Not home / no entry, as recorded at the door.
 */
export type NoEntryView = {
  outcome: NoEntryKind,
  reason: string,
  door_photo: AttachmentRef,
  witness: Witness | null,
  at: string,
};

/**
 * Why a record has no coordinates: said, so that a missing position is never mistaken for a lost one.
 */
export type NoFix = "denied" | "unavailable" | "timeout" | "unsupported";

export type NoticeView = {
  number: string,
  deadline: string,
  requirements: string,
  /**
   * The follow-up inspection the inspector set (复查日期); `null`: the day after the deadline,
   * when the office opens the re-inspection.
   */
  follow_up_on: string | null,
};

/**
 * The office acknowledged an urgent record (调度已确认).
 */
export type OfficeAckView = {
  /**
   * The urgent event acknowledged.
   */
  event_id: string,
  /**
   * The name of the person at the office.
   */
  acknowledged_by: string,
  /**
   * The office's clock.
   */
  acknowledged_at: string,
};

/**
 * The customer's opinion form as customer mode sends it (`give_opinion`).
 */
export type OpinionInput = {
  stars: number,
  comment: string,
  /**
   * Question key → the chosen option's value (`heatcrew_rules::opinion::questions`).
   */
  answers: { [key in string]?: string },
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

/**
 * One record in the outbox screen.
 */
export type OutboxEntry = {
  event_id: string,
  device_seq: number,
  job_id: string,
  /**
   * Empty for another user's record.
   */
  job_title: string,
  /**
   * A record another user of this phone made (a crew's shared phone): still queued or kept
   * here, but its job's title and step are theirs to see, not the signed-in user's.
   */
  others: boolean,
  kind: string,
  /**
   * The checklist step the record belongs to (its id and title), if it names one.
   */
  step: string | null,
  step_title: Localized | null,
  /**
   * When it was recorded, in office time: the device's time moved by the clock offset the
   * record was made with (`views::offsets`).
   */
  recorded_at: string,
  state: OutboxState,
  reason: string | null,
  bytes_total: number,
  bytes_sent: number,
};

/**
 * The state of a record in the outbox.
 */
export type OutboxState = "queued" | "uploading" | "acknowledged" | "rejected";

/**
 * A place: coordinates where known, and words where not (a basement has no GPS).
 */
export type Position = {
  lat: number | null,
  lon: number | null,
  description: string,
  /**
   * How far off the fix may be, in metres, as the device's geolocation reported it.
   */
  accuracy_m?: number,
  /**
   * When the device got the fix (a cached fix is older than the record it goes with).
   */
  fixed_at?: string,
  /**
   * Why there are no coordinates, when the device tried and got none.
   */
  no_fix?: NoFix,
};

/**
 * A photo taken and not yet recorded.
 */
export type ProcessingPhotoView = {
  /**
   * Its place in the job's queue (`retake` names it).
   */
  id: number,
  /**
   * The step it was taken for.
   */
  step: string,
  state: ProcessingState,
  /**
   * Why it could not be processed (`failed`): take it again.
   */
  error: Localized | null,
};

export type ProcessingState = "processing" | "failed";

export type RatingView = {
  stars: number,
  comment: string,
  /**
   * The opinion form's answers (question key → option value); empty for a stars-only rating.
   */
  answers: { [key in string]?: string },
};

export type ReadinessCheck = {
  key: string,
  label: Localized,
};

/**
 * Shift readiness (上岗前准备): the checks to tick, all of them, once per day.
 */
export type ReadinessView = {
  checks: Array<ReadinessCheck>,
};

/**
 * A measured value at a checkpoint or step.
 */
export type Reading = {
  key: string,
  value: number,
  unit: string,
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

/**
 * What was agreed for property the technician damaged (恢复原貌 / 等价处理 / 赔偿).
 */
export type Remedy = "restore_original" | "equivalent" | "compensation";

/**
 * The corrected values a correction carries (its `replacement`), for the kinds that take them:
 * a completed step's text fields and readings, a checkpoint's readings, a finding's description.
 */
export type Replacement = {
  /**
   * Text fields by key, each the whole corrected text.
   */
  text: { [key in string]?: string },
  /**
   * Readings by key, each the corrected value.
   */
  readings: Array<Reading>,
  /**
   * A finding's corrected description.
   */
  description?: string,
};

/**
 * How a reschedule request reached the technician.
 */
export type RequestChannel = "door" | "phone";

/**
 * The customer's request for another appointment (`request_reschedule`).
 */
export type RescheduleInput = {
  channel: RequestChannel,
  preferred: Window,
  note: string,
};

/**
 * The customer's standing request for another appointment.
 */
export type RescheduleView = {
  channel: RequestChannel,
  preferred: Window,
  note: string,
  at: string,
};

/**
 * How a job ended.
 */
export type Resolution = "resolved" | "follow_up_needed" | "no_entry";

/**
 * Staff roles. Scope (which jobs a user may read and write) follows from the role and assignments.
 */
export type Role = "repair_technician" | "inspector" | "patrol" | "dispatcher" | "admin";

/**
 * Who is signed in on this device (`Session` in the contract; no tokens cross to the UI).
 */
export type Session = {
  user: UserInfo,
  office_url: string,
  device_code: string,
};

/**
 * How bad a patrol defect is.
 */
export type Severity = "minor" | "major" | "critical";

/**
 * A co-signature that was not given (on a damage record), with the reason and a witness where
 * there is one: as for the visit's signature ([`EventBody::SignatureDeclined`]).
 */
export type SignatureRefusal = {
  outcome: DeclineKind,
  reason: string,
  witness: Witness | null,
};

/**
 * The customer's signature, or the recorded reason there is none.
 */
export type SignatureView =
  | { "state": "signed", signer: Signer, signer_name: string, image: AttachmentRef, }
  | { "state": "declined", outcome: DeclineKind, reason: string, witness: Witness | null, };

/**
 * Who signed, stored as such: the customer, the contractor whose work an acceptance inspection
 * judges, a witness, or the technician.
 */
export type Signer = "customer" | "witness" | "technician" | "contractor";

export type Sla =
  | { "state": "none" }
  | { "state": "on_track", due_at: string, }
  | { "state": "at_risk", due_at: string, }
  | { "state": "breached", due_at: string, }
  | { "state": "met", due_at: string, resolved_at: string, }
  | { "state": "met_late", due_at: string, resolved_at: string, };

/**
 * The evidence that completes a checklist step. Which parts are required is the template's business.
 */
export type StepEvidence = {
  /**
   * Named free-text fields, e.g. `fault_found`, `work_done`, `parts_used`.
   */
  text: { [key in string]?: string },
  /**
   * Named equipment states, e.g. `meter` → `running`, `seal` → `broken`, `valve` → `open`.
   */
  states: { [key in string]?: string },
  readings: Array<Reading>,
  position: Position | null,
};

export type StepStatus = "done" | "skipped" | "current" | "pending";

/**
 * One step of a visit, one screen.
 */
export type StepView = {
  id: string,
  title: Localized,
  phrase: Localized | null,
  hint: Localized | null,
  evidence: Array<EvidenceSpec>,
  status: StepStatus,
  skippable: boolean,
  skip_reason: string | null,
  photos: Array<AttachmentRef>,
};

export type SyncFailure = {
  code: ErrorCode,
  message: string,
  /**
   * This device's own storage failed ([`SyncError::Local`]): the office refused nothing.
   */
  local: boolean,
};

/**
 * What the UI shows: online or not, what is waiting, what is moving.
 */
export type SyncStatus = {
  online: boolean,
  syncing: boolean,
  queued: number,
  rejected: number,
  events_sent: number,
  events_total: number,
  bytes_sent: number,
  bytes_total: number,
  last_sync_at: string | null,
  /**
   * How long the oldest unsynced record has waited: the number that matters in a basement.
   */
  oldest_pending_at: string | null,
  last_error: SyncFailure | null,
  /**
   * Photos and signatures not yet at the office (their records may be acknowledged already),
   * and their bytes still to go: signing out waits for these too.
   */
  photos_pending: number,
  photo_bytes_pending: number,
};

/**
 * The job list screen.
 */
export type Today = {
  now: string,
  jobs: Array<JobSummary>,
  outages: Array<OutageNotice>,
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
 * The time window agreed with the customer (预约时间).
 */
export type Window = {
  start: string,
  end: string,
};

/**
 * Someone present who can confirm what happened.
 */
export type Witness = {
  name: string,
  phone: string,
};
