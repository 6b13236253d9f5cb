// Wire types between the UI and the Rust backend, exactly as in CONTRACT.md (snake_case fields,
// RFC 3339 timestamps, UUID ids). This file will be replaced by types generated from the Rust
// structs with the same names and shapes, so it holds the contract's types and nothing else; the
// UI's own argument shapes and aliases live in args.ts, derived from these.

export type Lang = 'zh-CN' | 'en';
export interface Localized {
  zh: string;
  en: string;
}
export type Role = 'repair_technician' | 'inspector' | 'patrol' | 'dispatcher' | 'admin';
export interface Session {
  user: { id: string; username: string; display_name: string; role: Role; badge_no: string };
  office_url: string;
  device_code: string;
}
export type JobKind =
  | 'home_repair'
  | 'heat_theft_inspection'
  | 'patrol_round'
  | 'acceptance_inspection'
  | 'emergency_repair';
export interface Customer {
  name: string;
  phone: string;
  address: string;
  account_no: string;
}
/** An appointment window (named as in the contract; it shadows the DOM `Window` only where imported). */
export interface Window {
  start: string;
  end: string;
}
export interface OutageNotice {
  id: string;
  area: string;
  reason: string;
  starts_at: string;
  expected_restore_at: string;
}
export type Sla =
  | { state: 'none' }
  | { state: 'on_track' | 'at_risk' | 'breached'; due_at: string }
  | { state: 'met' | 'met_late'; due_at: string; resolved_at: string };
export type Arrival =
  | { state: 'not_arrived' }
  | { state: 'early' | 'on_time' | 'late'; arrived_at: string };
export interface JobSummary {
  id: string;
  kind: JobKind;
  title: string;
  customer: Customer | null;
  site: string | null;
  window: Window | null;
  reported_at: string | null;
  sla: Sla;
  arrival: Arrival;
  steps_done: number;
  steps_total: number;
  closed: boolean;
  cancelled: boolean;
  revoked: boolean;
  pending_records: number;
  urgent: boolean;
}
export interface Today {
  now: string;
  jobs: JobSummary[];
  outages: OutageNotice[];
}
export interface ReadingSpec {
  key: string;
  label_zh: string;
  label_en: string;
  unit: string;
  normal_min: number | null;
  normal_max: number | null;
}
export type EvidenceSpec =
  | { type: 'photos'; min: number; label: Localized }
  | { type: 'text'; key: string; label: Localized; required: boolean; multiline: boolean }
  | {
      type: 'choice';
      key: string;
      label: Localized;
      required: boolean;
      options: { value: string; label: Localized }[];
    }
  | { type: 'readings'; specs: ReadingSpec[] }
  | { type: 'signature' }
  | { type: 'rating' }
  | { type: 'contact_card'; phone: string; label: Localized }
  | { type: 'confirm'; label: Localized }
  // Added to match heatcrew-core's templates (CONTRACT.md, changes requested by the UI, 10):
  | { type: 'notice' } // a rectification notice issued on this job
  | { type: 'checkpoints' }; // every checkpoint of the patrol round has a reading
export type StepStatus = 'done' | 'skipped' | 'current' | 'pending';
export interface StepView {
  id: string;
  title: Localized;
  phrase: Localized | null;
  hint: Localized | null;
  evidence: EvidenceSpec[];
  status: StepStatus;
  skippable: boolean;
  skip_reason: string | null;
  photos: AttachmentRef[];
}
export interface Position {
  lat: number | null;
  lon: number | null;
  description: string;
}
export interface AttachmentRef {
  sha256: string;
  bytes: number;
  mime: string;
  width: number;
  height: number;
  taken_at: string | null;
  gps: Position | null;
}
export interface Reading {
  key: string;
  value: number;
  unit: string;
}
export interface StepEvidence {
  text: Record<string, string>;
  states: Record<string, string>;
  readings: Reading[];
  position: Position | null;
}
// The contract text writes this as `interface … | …`, which is not valid TypeScript: it is a union type.
export type SignatureView =
  | { state: 'signed'; signer_name: string; image: AttachmentRef }
  | { state: 'declined'; outcome: 'refused' | 'absent'; reason: string; witness: { name: string; phone: string } | null };
export interface CheckpointView {
  id: string;
  name: string;
  kind: 'head_station' | 'substation' | 'pipeline_segment';
  state: 'done' | 'due' | 'late' | 'missed';
  next_due_at: string;
  last_visit_at: string | null;
  missed_rounds: number;
  readings: ReadingSpec[];
}
export interface DefectView {
  id: string;
  checkpoint: string | null;
  category: string;
  severity: 'minor' | 'major' | 'critical';
  description: string;
  position: Position;
  photos: AttachmentRef[];
}
export interface FindingView {
  id: string;
  category: string;
  description: string;
  states: Record<string, string>;
  photos: AttachmentRef[];
}
export interface NoticeView {
  number: string;
  deadline: string;
  requirements: string;
}
export interface DamageView {
  id: string;
  item: string;
  description: string;
  remedy: string;
  remedy_detail: string;
  photos: AttachmentRef[];
}
export interface JobView {
  summary: JobSummary;
  steps: StepView[];
  current_step: string | null;
  signature: SignatureView | null;
  rating: { stars: number; comment: string } | null;
  damages: DamageView[];
  findings: FindingView[];
  notices: NoticeView[];
  checkpoints: CheckpointView[];
  defects: DefectView[];
  can_close: boolean;
  close_blockers: Localized[];
}
export type OutboxState = 'queued' | 'uploading' | 'acknowledged' | 'rejected';
export interface OutboxEntry {
  event_id: string;
  device_seq: number;
  job_id: string;
  job_title: string;
  kind: string;
  recorded_at: string;
  state: OutboxState;
  reason: string | null;
  bytes_total: number;
  bytes_sent: number;
}
export interface SyncStatus {
  online: boolean;
  queued: number;
  rejected: number;
  syncing: boolean;
  events_sent: number;
  events_total: number;
  bytes_sent: number;
  bytes_total: number;
  last_sync_at: string | null;
  oldest_pending_at: string | null;
  last_error: { code: string; message: string } | null;
}
