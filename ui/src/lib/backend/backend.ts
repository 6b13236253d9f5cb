// The one interface the UI talks to. Production uses TauriBackend (tauri.ts); Vitest and the dev-only
// preview page use FakeBackend (fake.ts). Every method maps 1:1 to a command in CONTRACT.md and
// rejects with a BackendError `{code, message}`.
import type { AttachmentRef, CodeEntry, CorrectableRecord, CorrectionInput, ErrorCode, JobView, Lang, OpinionInput, OutboxEntry, Position, Reading, Session, StepEvidence, SyncStatus, Today } from './types';
import { ERROR_MESSAGES } from './errorMessages';
import type { AccidentInput, BackendError, DamageInput, DefectInput, FindingInput, NetworkDamageInput, NoEntryInput, RescheduleInput, Resolution, SignatureOutcome, Signer, Witness } from './args';

export interface Backend {
  session(): Promise<Session | null>;
  login(office: string, username: string, password: string): Promise<Session>;
  logout(): Promise<void>;
  setLanguage(lang: Lang): Promise<void>;

  today(): Promise<Today>;
  job(jobId: string): Promise<JobView>;
  completeStep(jobId: string, step: string, evidence: StepEvidence): Promise<JobView>;
  skipStep(jobId: string, step: string, reason: string): Promise<JobView>;

  /** Raw image bytes attached to a step (never a JSON array). */
  /** Answers at once: the photo is processed in the background (`processing_photos`); `retake` names a failed one to replace. */
  addPhoto(jobId: string, step: string, bytes: Uint8Array, position?: Position | null, retake?: number): Promise<JobView>;
  /** Raw image bytes kept for a form (damage, finding, defect) that references them on submit. */
  stagePhoto(bytes: Uint8Array): Promise<AttachmentRef>;
  saveSignature(jobId: string, step: string, signer: Signer, signerName: string, png: Uint8Array): Promise<JobView>;
  stageSignature(png: Uint8Array): Promise<AttachmentRef>;
  declineSignature(
    jobId: string,
    step: string,
    outcome: SignatureOutcome,
    reason: string,
    witness: Witness | null,
  ): Promise<JobView>;
  giveRating(jobId: string, stars: number, comment: string): Promise<JobView>;
  /** The customer's opinion form (维修意见征询表) from customer mode; locked once recorded. */
  giveOpinion(jobId: string, opinion: OpinionInput): Promise<JobView>;
  /** A correction of one of the job's records, with its reason; the original stays. */
  correctRecord(jobId: string, correction: CorrectionInput): Promise<JobView>;
  /** The job's texts, readings and findings as recorded and as corrected. */
  correctableRecords(jobId: string): Promise<CorrectableRecord[]>;

  recordDamage(jobId: string, damage: DamageInput): Promise<JobView>;
  recordNetworkDamage(jobId: string, damage: NetworkDamageInput): Promise<JobView>;
  recordFinding(jobId: string, finding: FindingInput): Promise<JobView>;
  /** `followUpOn` (复查日期, YYYY-MM-DD, on or after the deadline; null: the day after it). */
  issueNotice(jobId: string, deadline: string, requirements: string, followUpOn: string | null): Promise<JobView>;
  recordReading(jobId: string, checkpoint: string, readings: Reading[], note: string): Promise<JobView>;
  reportDefect(jobId: string, defect: DefectInput): Promise<JobView>;
  reportAccident(accident: AccidentInput): Promise<JobView>;
  closeJob(jobId: string, resolution: Resolution, summary: string): Promise<JobView>;
  /** Not home / no entry at the door: recorded with the door photo, and the visit closed. */
  closeNotHome(jobId: string, noEntry: NoEntryInput): Promise<JobView>;
  /** The customer's preferred window for another appointment (at the door or by phone). */
  requestReschedule(jobId: string, request: RescheduleInput): Promise<JobView>;
  /** Presence at a patrol checkpoint with the code posted there; a wrong code is `wrong_checkpoint_code`. */
  confirmCheckpoint(jobId: string, checkpoint: string, code: string, method: CodeEntry, position: Position | null): Promise<JobView>;
  /** The day's shift readiness (every check ticked), recorded on the job it opens. */
  confirmReadiness(jobId: string, checks: string[]): Promise<JobView>;

  /** JPEG/PNG bytes of a small preview of an attachment. */
  thumbnail(sha256: string): Promise<ArrayBuffer>;
  outbox(): Promise<OutboxEntry[]>;
  syncStatus(): Promise<SyncStatus>;
  syncNow(): Promise<SyncStatus>;
  /** Subscribes to the `sync-status` event; resolves to an unsubscribe function. */
  onSyncStatus(handler: (status: SyncStatus) => void): Promise<() => void>;
}

/** A code as the closed vocabulary knows it: one this build does not know (a newer backend) is `unknown`. */
export function toErrorCode(code: string): ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, code) ? (code as ErrorCode) : 'unknown';
}

/** What an error code means in `lang` (the backend's own table, generated into errorMessages.ts). */
export function errorText(code: ErrorCode, lang: Lang): string {
  return ERROR_MESSAGES[code][lang];
}

/** Normalises anything a rejected invoke can throw into `{code, message}`. */
export function toBackendError(err: unknown): BackendError {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as { code: unknown; message: unknown };
    return { code: toErrorCode(String(e.code)), message: String(e.message) };
  }
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}
