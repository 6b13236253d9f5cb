// The production backend: Tauri v2 IPC exactly as CONTRACT.md says. Argument keys are camelCase
// (Tauri maps them to the Rust snake_case parameters); photo and signature bytes go as raw IPC bodies
// with their metadata in headers, never as JSON arrays.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toBackendError, type Backend } from './backend';
import type { AttachmentRef, CodeEntry, CorrectableRecord, CorrectionInput, JobView, Lang, OpinionInput, OutboxEntry, Position, Reading, Session, StepEvidence, SyncStatus, Today } from './types';
import type { AccidentInput, DamageInput, DefectInput, FindingInput, NetworkDamageInput, NoEntryInput, RescheduleInput, Resolution, SignatureOutcome, Signer, Witness } from './args';

async function call<T>(
  command: string,
  args?: Record<string, unknown> | Uint8Array,
  headers?: Record<string, string>,
): Promise<T> {
  try {
    return await invoke<T>(command, args, headers ? { headers } : undefined);
  } catch (err) {
    throw toBackendError(err);
  }
}

export class TauriBackend implements Backend {
  session() {
    return call<Session | null>('session');
  }
  login(office: string, username: string, password: string) {
    return call<Session>('login', { office, username, password });
  }
  async logout() {
    await call<null>('logout');
  }
  async setLanguage(lang: Lang) {
    await call<null>('set_language', { lang });
  }
  today() {
    return call<Today>('today');
  }
  job(jobId: string) {
    return call<JobView>('job', { jobId });
  }
  completeStep(jobId: string, step: string, evidence: StepEvidence) {
    return call<JobView>('complete_step', { jobId, step, evidence });
  }
  skipStep(jobId: string, step: string, reason: string) {
    return call<JobView>('skip_step', { jobId, step, reason });
  }
  addPhoto(jobId: string, step: string, bytes: Uint8Array, position?: Position | null, retake?: number) {
    const where: Record<string, string> = position ? { 'x-position': encodeURIComponent(JSON.stringify(position)) } : {};
    if (retake !== undefined) where['x-retake'] = String(retake);
    return call<JobView>('add_photo', bytes, { 'x-job-id': jobId, 'x-step': step, ...where });
  }
  stagePhoto(bytes: Uint8Array) {
    return call<AttachmentRef>('stage_photo', bytes);
  }
  saveSignature(jobId: string, step: string, signer: Signer, signerName: string, png: Uint8Array) {
    return call<JobView>('save_signature', png, {
      'x-job-id': jobId,
      'x-step': step,
      'x-signer': signer,
      'x-signer-name': encodeURIComponent(signerName),
    });
  }
  stageSignature(png: Uint8Array) {
    return call<AttachmentRef>('stage_signature', png);
  }
  declineSignature(jobId: string, step: string, outcome: SignatureOutcome, reason: string, witness: Witness | null) {
    return call<JobView>('decline_signature', { jobId, step, outcome, reason, witness });
  }
  giveRating(jobId: string, stars: number, comment: string) {
    return call<JobView>('give_rating', { jobId, stars, comment });
  }
  giveOpinion(jobId: string, opinion: OpinionInput) {
    return call<JobView>('give_opinion', { jobId, opinion });
  }
  correctRecord(jobId: string, correction: CorrectionInput) {
    return call<JobView>('correct_record', { jobId, correction });
  }
  correctableRecords(jobId: string) {
    return call<CorrectableRecord[]>('correctable_records', { jobId });
  }
  recordDamage(jobId: string, damage: DamageInput) {
    return call<JobView>('record_damage', { jobId, damage });
  }
  recordNetworkDamage(jobId: string, damage: NetworkDamageInput) {
    return call<JobView>('record_network_damage', { jobId, damage });
  }
  recordFinding(jobId: string, finding: FindingInput) {
    return call<JobView>('record_finding', { jobId, finding });
  }
  issueNotice(jobId: string, deadline: string, requirements: string, followUpOn: string | null) {
    return call<JobView>('issue_notice', { jobId, deadline, requirements, followUpOn });
  }
  recordReading(jobId: string, checkpoint: string, readings: Reading[], note: string) {
    return call<JobView>('record_reading', { jobId, checkpoint, readings, note });
  }
  reportDefect(jobId: string, defect: DefectInput) {
    return call<JobView>('report_defect', { jobId, defect });
  }
  reportAccident(accident: AccidentInput) {
    return call<JobView>('report_accident', { accident });
  }
  closeJob(jobId: string, resolution: Resolution, summary: string) {
    return call<JobView>('close_job', { jobId, resolution, summary });
  }
  closeNotHome(jobId: string, noEntry: NoEntryInput) {
    return call<JobView>('close_not_home', { jobId, noEntry });
  }
  requestReschedule(jobId: string, request: RescheduleInput) {
    return call<JobView>('request_reschedule', { jobId, request });
  }
  confirmCheckpoint(jobId: string, checkpoint: string, code: string, method: CodeEntry, position: Position | null) {
    return call<JobView>('confirm_checkpoint', { jobId, checkpoint, code, method, position });
  }
  confirmReadiness(jobId: string, checks: string[]) {
    return call<JobView>('confirm_readiness', { jobId, checks });
  }
  thumbnail(sha256: string) {
    return call<ArrayBuffer>('thumbnail', { sha256 });
  }
  outbox() {
    return call<OutboxEntry[]>('outbox');
  }
  syncStatus() {
    return call<SyncStatus>('sync_status');
  }
  syncNow() {
    return call<SyncStatus>('sync_now');
  }
  async onSyncStatus(handler: (status: SyncStatus) => void) {
    return listen<SyncStatus>('sync-status', (event) => handler(event.payload));
  }
}
