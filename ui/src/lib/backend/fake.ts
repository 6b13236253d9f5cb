// ─────────────────────────────────────────────────────────────────────────────────────────────────
// IN-MEMORY FAKE BACKEND — FOR VITEST AND THE DEV-ONLY PREVIEW PAGE (preview.html) ONLY.
// The production entry (index.html → src/main.ts) always uses TauriBackend; nothing under src/main.ts
// imports this file, so it is not in ui/dist. It imitates the contract in CONTRACT.md closely enough
// to drive every screen (step order, evidence checks, locked rating, outbox states), but it is not
// the real core: hashes are SHA-256 of the bytes, nothing is signed, nothing persists.
// ─────────────────────────────────────────────────────────────────────────────────────────────────
import type { Backend } from './backend';
import type { AttachmentRef, CheckpointView, CodeEntry, CorrectionInput, JobKind, JobSummary, JobView, Lang, Localized, OfficeAckView, OpinionInput, OutboxEntry, Position, Reading, Session, Sla, StepEvidence, StepView, SyncStatus, Today } from './types';
import type { AccidentInput, DamageInput, DefectInput, FindingInput, NetworkDamageInput, NoEntryInput, RescheduleInput, Resolution, SignatureOutcome, Signer, Witness } from './args';
import { FakeOutcomes } from './fake-outcomes';
import { err, pushOrder, sha256Hex, sniffImage, wire } from './fake-util';
import { FakeRecords, fillEvidence, fillPhrase, OPINION_FORM } from './fake-opinion';
import { TEMPLATES } from './fake-checklists';
export { pushOrder, sniffImage, TEMPLATES };
import { FakeHardware } from './fake-hardware';
import { FakePhotoQueue } from './fake-photos';

const L = (zh: string, en: string): Localized => ({ zh, en });
const MIN = 60_000;
const HOUR = 60 * MIN;

export interface FakeOptions {
  /** Start signed in as the demo technician. */
  signedIn?: boolean;
  /** Whether the office is reachable; `setOnline` changes it later. */
  online?: boolean;
  /** The clock; defaults to Date.now. */
  now?: () => number;
  /** Add the demo day (jobs, outage, some outbox history). */
  demo?: boolean;
  /** How long a photo shows as processing (fake-photos.ts); 0 by default. */
  photoDelayMs?: number;
}

const PIPE_READINGS = [
  { key: 'chamber_water', label_zh: '井室积水深度', label_en: 'Water in the chamber', unit: 'cm', normal_min: null, normal_max: 5 },
];

const READINGS = [
  { key: 'supply_temp', label_zh: '供水温度', label_en: 'Supply temperature', unit: '℃', normal_min: 45, normal_max: 95 },
  { key: 'return_temp', label_zh: '回水温度', label_en: 'Return temperature', unit: '℃', normal_min: 30, normal_max: 60 },
  { key: 'supply_pressure', label_zh: '供水压力', label_en: 'Supply pressure', unit: 'MPa', normal_min: 0.4, normal_max: 0.8 },
  { key: 'return_pressure', label_zh: '回水压力', label_en: 'Return pressure', unit: 'MPa', normal_min: 0.2, normal_max: 0.4 },
];

interface FakeJob {
  summary: Omit<JobSummary, 'steps_done' | 'steps_total' | 'pending_records' | 'sla' | 'photos_pending' | 'photo_bytes_pending' | 'office_acks'> & {
    due_at: string | null;
    resolved_at: string | null;
    street_work?: boolean;
  };
  steps: StepView[];
  signature: JobView['signature'];
  rating: JobView['rating'];
  damages: JobView['damages'];
  findings: JobView['findings'];
  notices: JobView['notices'];
  checkpoints: CheckpointView[];
  defects: JobView['defects'];
  /** Checkpoints with at least one reading on this job (the `checkpoints` evidence). */
  readCheckpoints: Set<string>;
}

interface StoredBlob {
  bytes: Uint8Array;
  mime: string;
}

let idCounter = 0;
const newId = (prefix: string) => `${prefix}-${(++idCounter).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export class FakeBackend implements Backend {
  private lang: Lang = 'zh-CN';
  private currentSession: Session | null = null;
  private jobs = new Map<string, FakeJob>();
  private blobs = new Map<string, StoredBlob>();
  private entries: OutboxEntry[] = [];
  private seq = 0;
  private online: boolean;
  private listeners = new Set<(s: SyncStatus) => void>();
  private lastSyncAt: string | null = null;
  private noticeSeq = 0;
  readonly clock: () => number;
  /** Every command called, for tests that check what the UI sent. */
  readonly calls: { command: string; args: unknown }[] = [];
  /** The `device_seq` batches each sync sent, in order ([`pushOrder`], as the core does). */
  readonly pushes: number[][] = [];
  private urgentSeqs = new Set<number>();
  /** Acknowledgements the office gave, delivered to their jobs by the next sync (a pull). */
  private officeAcks: { job_id: string; ack: OfficeAckView }[] = [];
  private deliveredAcks = new Map<string, OfficeAckView[]>();
  private outcomes = new FakeOutcomes();
  /** Correctable records, corrections and the rating's event (fake-opinion.ts). */
  private extra = new FakeRecords();
  private hw = new FakeHardware();
  private photoQueue = new FakePhotoQueue();

  constructor(opts: FakeOptions = {}) {
    this.clock = opts.now ?? (() => Date.now());
    this.online = opts.online ?? true;
    if (opts.signedIn) this.currentSession = this.demoSession('https://office.example.test');
    if (opts.demo) this.seedDemoDay();
    this.photoQueue.delayMs = opts.photoDelayMs ?? 0;
  }

  // ── test controls ──────────────────────────────────────────────────────────────────────────────
  setOnline(online: boolean) {
    this.online = online;
    this.emit();
  }
  /** Adds a blob (e.g. a seeded photo) and returns its reference. */
  async putBlob(bytes: Uint8Array, mime: string): Promise<AttachmentRef> {
    const sha = await sha256Hex(bytes);
    this.blobs.set(sha, { bytes, mime });
    return { sha256: sha, bytes: bytes.length, mime, width: 0, height: 0, taken_at: this.iso(), gps: null };
  }
  /** Marks every step before `stepId` done (without evidence checks) and makes `stepId` current. */
  fastForward(jobId: string, stepId: string): void {
    const job = this.jobs.get(jobId);
    const i = job?.steps.findIndex((s) => s.id === stepId) ?? -1;
    if (!job || i < 0) throw new Error(`no step ${stepId} in ${jobId}`);
    job.steps.forEach((s, n) => (s.status = n < i ? 'done' : n === i ? 'current' : 'pending'));
  }
  jobIds(): string[] {
    return [...this.jobs.keys()];
  }
  /** Preview only: `jobId`'s outbox records become another phone user's, as the core shows them. */
  handedOver = (jobId: string) => this.entries.filter((e) => e.job_id === jobId).forEach((e) => Object.assign(e, { others: true, job_title: '', step: null, step_title: null }));

  // ── contract ───────────────────────────────────────────────────────────────────────────────────
  async session() {
    this.log('session', null);
    return this.currentSession;
  }
  async login(office: string, username: string, password: string) {
    this.log('login', { office, username });
    if (!office.trim() || !username.trim() || !password) {
      throw err('bad_request', '请填写办公室地址、用户名和密码', 'Fill in office address, user and password', this.lang);
    }
    if (!this.online) throw err('offline', '无法连接办公室，请检查网络后重试', 'Cannot reach the office; check the network and retry', this.lang);
    if (password === 'wrong') throw err('bad_credentials', '用户名或密码错误', 'Wrong user name or password', this.lang);
    this.currentSession = this.demoSession(office.trim());
    this.currentSession.user.username = username.trim();
    return this.currentSession;
  }
  async logout() {
    this.log('logout', null);
    this.currentSession = null;
  }
  async setLanguage(lang: Lang) {
    this.log('set_language', { lang });
    this.lang = lang;
  }
  async today(): Promise<Today> {
    this.requireSession();
    const jobs = [...this.jobs.values()].map((j) => this.summary(j));
    return { now: this.iso(), jobs, outages: this.demoOutages };
  }
  async job(jobId: string) {
    this.requireSession();
    return this.view(this.getJob(jobId));
  }
  async completeStep(jobId: string, step: string, evidence: StepEvidence) {
    evidence = wire(evidence);
    this.log('complete_step', { jobId, step, evidence });
    const job = this.getJob(jobId);
    const s = this.currentStep(job, step);
    const missing = this.missingEvidence(job, s, evidence);
    if (missing) throw err('evidence_missing', `缺少证据：${missing.zh}`, `Evidence missing: ${missing.en}`, this.lang);
    s.status = 'done';
    // A step skippable only on an earlier choice (an acceptance's rectification opinion).
    for (const t of TEMPLATES[job.summary.kind].steps) {
      const later = job.steps.find((x) => x.id === t.id);
      if (t.skip_only_if?.step === step && later) later.skippable = t.skippable && t.skip_only_if.any_of.includes(evidence.states[t.skip_only_if.key] ?? '');
    }
    this.advance(job);
    this.extra.stepDone(jobId, step, evidence, this.record(job, 'step_completed', 0), this.iso());
    return this.view(job);
  }
  async skipStep(jobId: string, step: string, reason: string) {
    this.log('skip_step', { jobId, step, reason });
    const job = this.getJob(jobId);
    const s = this.currentStep(job, step);
    if (!s.skippable) throw err('step_not_skippable', '此步骤不能跳过', 'This step cannot be skipped', this.lang);
    if (reason.trim().length < 2) throw err('skip_reason_missing', '请填写跳过原因', 'Give the reason for skipping', this.lang);
    s.status = 'skipped';
    s.skip_reason = reason.trim();
    this.advance(job);
    this.record(job, 'step_skipped', 0);
    return this.view(job);
  }
  async addPhoto(jobId: string, step: string, bytes: Uint8Array) {
    this.log('add_photo', { jobId, step, bytes: bytes.length });
    const job = this.getJob(jobId);
    const s = job.steps.find((x) => x.id === step);
    if (!s) throw err('unknown_step', '没有这个步骤', 'No such step', this.lang);
    if (s.status !== 'current') throw err('step_out_of_order', '只能为当前步骤拍照', 'Photos only for the current step', this.lang);
    const ref = await this.storeImage(bytes);
    s.photos.push(ref);
    this.photoQueue.take(jobId, step, ref);
    this.record(job, 'photo_added', bytes.length);
    return this.view(job);
  }
  async stagePhoto(bytes: Uint8Array) {
    this.log('stage_photo', { bytes: bytes.length });
    return this.storeImage(bytes);
  }
  async saveSignature(jobId: string, step: string, signer: Signer, signerName: string, png: Uint8Array) {
    this.log('save_signature', { jobId, step, signer, signerName, bytes: png.length });
    const job = this.getJob(jobId);
    this.currentStep(job, step);
    if (png.length === 0) throw err('signature_empty', '签名为空，请客户签字', 'The signature is empty', this.lang);
    if (job.signature) throw err('already_signed', '签名已保存，不能更改', 'Already signed', this.lang);
    const image = await this.storeImage(png);
    job.signature = { state: 'signed', signer, signer_name: signerName, image };
    this.record(job, 'signature_captured', png.length);
    return this.view(job);
  }
  async stageSignature(png: Uint8Array) {
    this.log('stage_signature', { bytes: png.length });
    if (png.length === 0) throw err('signature_empty', '签名为空', 'The signature is empty', this.lang);
    return this.storeImage(png);
  }
  async declineSignature(jobId: string, step: string, outcome: SignatureOutcome, reason: string, witness: Witness | null) {
    this.log('decline_signature', { jobId, step, outcome, reason, witness });
    const job = this.getJob(jobId);
    this.currentStep(job, step);
    if (reason.trim().length < 2) throw err('decline_reason_missing', '请填写原因', 'Give the reason', this.lang);
    if (job.signature) throw err('already_signed', '签名已记录，不能更改', 'Already recorded', this.lang);
    job.signature = { state: 'declined', outcome, reason: reason.trim(), witness: wire(witness) };
    this.record(job, 'signature_declined', 0);
    return this.view(job);
  }
  async giveRating(jobId: string, stars: number, comment: string) {
    this.log('give_rating', { jobId, stars, comment });
    const job = this.getJob(jobId);
    if (job.rating) throw err('rating_locked', '评价已提交，不能修改', 'The rating is locked', this.lang);
    if (!Number.isInteger(stars) || stars < 1 || stars > 5) throw err('rating_out_of_range', '请选择1到5星', 'Choose 1 to 5 stars', this.lang);
    job.rating = { stars, comment, answers: {} };
    this.extra.rated(this.record(job, 'rating_given', 0));
    return this.view(job);
  }
  async giveOpinion(jobId: string, opinion: OpinionInput) {
    this.log('give_opinion', { jobId, opinion: wire(opinion) });
    const job = this.getJob(jobId);
    job.rating = this.extra.opinion(job.rating, wire(opinion), this.lang);
    this.extra.rated(this.record(job, 'opinion_given', 0));
    return this.view(job);
  }
  async correctRecord(jobId: string, correction: CorrectionInput) {
    this.log('correct_record', { jobId, correction: wire(correction) });
    const job = this.getJob(jobId);
    this.extra.check(jobId, wire(correction), this.lang);
    this.extra.correct(jobId, wire(correction), this.record(job, 'correction', 0), this.iso(), this.lang);
    return this.view(job);
  }
  async correctableRecords(jobId: string) {
    this.getJob(jobId);
    return this.extra.list(jobId);
  }
  async recordDamage(jobId: string, damage: DamageInput) {
    this.log('record_damage', { jobId, damage });
    const job = this.getJob(jobId);
    if (!damage.item.trim()) throw err('invalid_value', '请填写损坏物品', 'Name the damaged item', this.lang);
    damage = wire(damage);
    job.damages.push({ id: newId('dmg'), item: damage.item, description: damage.description, remedy: damage.remedy, remedy_detail: damage.remedy_detail, photos: damage.photos, signed: !!damage.customer_signature, signature_refused: damage.signature_refused ?? null });
    this.record(job, 'damage_recorded', 0);
    return this.view(job);
  }
  async recordNetworkDamage(jobId: string, damage: NetworkDamageInput) {
    this.log('record_network_damage', { jobId, damage });
    const job = this.getJob(jobId);
    damage = wire(damage);
    job.damages.push({ id: newId('net'), item: damage.equipment, description: damage.cause, remedy: 'customer_caused', remedy_detail: '', photos: damage.photos, signed: !!damage.customer_signature, signature_refused: damage.signature_refused ?? null });
    this.record(job, 'network_damage_recorded', 0);
    return this.view(job);
  }
  async recordFinding(jobId: string, finding: FindingInput) {
    this.log('record_finding', { jobId, finding });
    const job = this.getJob(jobId);
    const id = newId('fnd');
    job.findings.push({ id, ...wire(finding) });
    this.extra.found(jobId, id, finding.description, this.record(job, 'finding_recorded', 0), this.iso());
    return this.view(job);
  }
  async issueNotice(jobId: string, deadline: string, requirements: string, followUpOn: string | null) {
    this.log('issue_notice', { jobId, deadline, requirements, followUpOn });
    const job = this.getJob(jobId);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(deadline)) throw err('invalid_value', '请选择整改期限', 'Choose a deadline', this.lang);
    if (followUpOn !== null && followUpOn < deadline) throw err('follow_up_before_deadline', '复查日期不能早于整改期限。', 'The follow-up cannot be before the deadline.', this.lang);
    const device = this.currentSession?.device_code ?? 'D000';
    job.notices.push({ number: `ZG-${device}-${String(++this.noticeSeq).padStart(4, '0')}`, deadline, requirements, follow_up_on: followUpOn });
    this.record(job, 'notice_issued', 0);
    return this.view(job);
  }
  async recordReading(jobId: string, checkpoint: string, readings: Reading[], note: string) {
    this.log('record_reading', { jobId, checkpoint, readings, note });
    const job = this.getJob(jobId);
    const cp = job.checkpoints.find((c) => c.id === checkpoint);
    if (!cp) throw err('invalid_value', '没有这个检查点', 'No such checkpoint', this.lang);
    if (readings.length === 0) throw err('evidence_missing', '缺少证据：读数', 'Evidence missing: readings', this.lang);
    for (const r of readings) {
      if (!cp.readings.some((spec) => spec.key === r.key) || !Number.isFinite(r.value)) {
        throw err('invalid_value', `读数无效：${r.key}`, `Invalid reading: ${r.key}`, this.lang);
      }
    }
    job.readCheckpoints.add(cp.id);
    cp.state = 'done';
    cp.last_visit_at = this.iso();
    const round = cp.kind === 'head_station' ? HOUR : 12 * HOUR, opens = Math.ceil(this.clock() / round) * round; // the next round (UTC-cut here; the core cuts local days)
    [cp.opens_at, cp.next_due_at] = [opens, opens + round].map((t) => new Date(t).toISOString());
    this.extra.read(jobId, checkpoint, wire(readings), this.record(job, 'reading_recorded', 0), this.iso());
    return this.view(job);
  }
  async reportDefect(jobId: string, defect: DefectInput) {
    this.log('report_defect', { jobId, defect });
    const job = this.getJob(jobId);
    if (!defect.category) throw err('invalid_value', '请选择缺陷类别', 'Choose a category', this.lang);
    job.defects.push({ id: newId('def'), ...wire(defect) });
    // As the core: a critical defect (a hazard) is urgent, pushed before everything queued.
    this.record(job, 'defect_reported', 0, defect.severity === 'critical');
    return this.view(job);
  }
  async reportAccident(accident: AccidentInput) {
    accident = wire(accident);
    this.log('report_accident', { accident });
    this.requireSession();
    const job = this.makeJob('emergency_repair', {
      title: '事故/隐患上报',
      site: accident.position.description || null,
      urgent: true,
    });
    this.jobs.set(job.summary.id, job);
    // As the core: the job's creation is an ordinary record, the report the urgent one.
    this.record(job, 'job_created', 0);
    this.record(job, 'accident_reported', 0, true);
    return this.view(job);
  }
  async closeJob(jobId: string, resolution: Resolution, summary: string) {
    this.log('close_job', { jobId, resolution, summary });
    const job = this.getJob(jobId);
    const blockers = this.blockers(job);
    if (blockers.length) throw err('cannot_close', blockers.map((b) => b.zh).join('；'), blockers.map((b) => b.en).join('; '), this.lang);
    job.summary.closed = true;
    job.summary.resolved_at = this.iso();
    this.outcomes.closedAs(job, resolution);
    this.record(job, 'job_closed', 0);
    return this.view(job);
  }
  async closeNotHome(jobId: string, noEntry: NoEntryInput) {
    this.log('close_not_home', { jobId, noEntry: (noEntry = wire(noEntry)) });
    const job = this.getJob(jobId);
    for (const kind of this.outcomes.closeNotHome(job, noEntry, this.lang, this.iso())) this.record(job, kind, kind === 'no_entry_recorded' ? noEntry.door_photo.bytes : 0);
    return this.view(job);
  }
  async requestReschedule(jobId: string, request: RescheduleInput) {
    this.log('request_reschedule', { jobId, request: (request = wire(request)) });
    const job = this.getJob(jobId);
    this.outcomes.requestReschedule(job, request, this.lang, this.iso());
    this.record(job, 'reschedule_requested', 0);
    return this.view(job);
  }
  async confirmCheckpoint(jobId: string, checkpoint: string, code: string, method: CodeEntry, position: Position | null) {
    this.log('confirm_checkpoint', { jobId, checkpoint, code, method, position });
    const job = this.getJob(jobId);
    this.hw.confirmCheckpoint(job.checkpoints, checkpoint, code, method, this.iso(), this.lang);
    this.record(job, 'checkpoint_confirmed', 0);
    return this.view(job);
  }
  async confirmReadiness(jobId: string, checks: string[]) {
    this.log('confirm_readiness', { jobId, checks });
    const job = this.getJob(jobId);
    this.hw.confirmReadiness(checks, this.clock(), this.lang);
    this.record(job, 'shift_readiness_confirmed', 0);
    return this.view(job);
  }
  async thumbnail(sha256: string) {
    const blob = this.blobs.get(sha256);
    if (!blob) throw err('not_found', '找不到照片', 'Photo not found', this.lang);
    return blob.bytes.slice().buffer;
  }
  async outbox() {
    return this.entries.map((e) => ({ ...e }));
  }
  async syncStatus() {
    return this.status();
  }
  async syncNow() {
    this.log('sync_now', null);
    if (!this.online) {
      const s = this.status();
      s.last_error = { ...err('offline', '无网络，记录已保存在本机，恢复网络后自动上传', 'Offline: records are kept on the device and sent when back online', this.lang), local: false };
      this.emit(s);
      return s;
    }
    const queued = this.entries.filter((e) => e.state === 'queued' || e.state === 'uploading').map((e) => e.device_seq);
    for (const batch of pushOrder(queued, this.urgentSeqs)) {
      this.pushes.push(batch);
      for (const e of this.entries) {
        if (batch.includes(e.device_seq)) {
          e.state = 'acknowledged';
          e.bytes_sent = e.bytes_total;
        }
      }
    }
    // The pull: the office's acknowledgements of urgent records reach their jobs.
    for (const { job_id, ack } of this.officeAcks.splice(0)) {
      const list = this.deliveredAcks.get(job_id) ?? [];
      if (!list.some((a) => a.event_id === ack.event_id)) list.push(ack);
      this.deliveredAcks.set(job_id, list);
    }
    this.lastSyncAt = this.iso();
    const s = this.status();
    this.emit(s);
    return s;
  }
  async onSyncStatus(handler: (s: SyncStatus) => void) {
    this.listeners.add(handler);
    return () => {
      this.listeners.delete(handler);
    };
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────
  private log(command: string, args: unknown) {
    this.calls.push({ command, args });
  }
  private iso(offsetMs = 0) {
    return new Date(this.clock() + offsetMs).toISOString();
  }
  private requireSession() {
    if (!this.currentSession) throw err('not_signed_in', '请先登录', 'Please sign in', this.lang);
  }
  private getJob(jobId: string): FakeJob {
    this.requireSession();
    const job = this.jobs.get(jobId);
    if (!job) throw err('not_found', '找不到该任务', 'Job not found', this.lang);
    return job;
  }
  private currentStep(job: FakeJob, stepId: string): StepView {
    const s = job.steps.find((x) => x.id === stepId);
    if (!s) throw err('unknown_step', '没有这个步骤', 'No such step', this.lang);
    if (s.status !== 'current') throw err('step_out_of_order', '请按顺序完成步骤', 'Steps go in order', this.lang);
    return s;
  }
  private advance(job: FakeJob) {
    const next = job.steps.find((x) => x.status === 'pending');
    if (next) next.status = 'current';
  }
  private missingEvidence(job: FakeJob, s: StepView, ev: StepEvidence): Localized | null {
    for (const spec of s.evidence) {
      if (spec.type === 'photos' && s.photos.length < spec.min) return spec.label;
      if (spec.type === 'text' && spec.required && !(ev.text[spec.key] ?? '').trim()) return spec.label;
      if (spec.type === 'choice' && spec.required && !ev.states[spec.key]) return spec.label;
      if (spec.type === 'readings' && spec.specs.some((r) => !ev.readings.some((x) => x.key === r.key))) return L('读数', 'readings');
      if (spec.type === 'signature' && !job.signature) return L('客户签字或拒签记录', 'signature or refusal');
      if (spec.type === 'rating' && !job.rating) return L('满意度评价', 'rating');
      if (spec.type === 'notice' && job.notices.length === 0) return L('整改通知', 'rectification notice');
      if (spec.type === 'checkpoints' && job.checkpoints.some((c) => !job.readCheckpoints.has(c.id))) return L('各检查点读数', 'readings at every checkpoint');
    }
    return null;
  }
  private async storeImage(bytes: Uint8Array): Promise<AttachmentRef> {
    const mime = sniffImage(bytes);
    if (!mime) throw err('not_an_image', '这不是照片文件', 'This is not an image', this.lang);
    return this.putBlob(bytes, mime);
  }
  /** The office acknowledges the alert of `jobId`'s accident report (for tests and the preview):
   *  the device has it after its next sync, as the core does after a pull. */
  officeAcknowledges(jobId: string, name: string) {
    const report = this.entries.find((e) => e.job_id === jobId && this.urgentSeqs.has(e.device_seq));
    if (!report) throw new Error(`no urgent record on ${jobId}`);
    this.officeAcks.push({ job_id: jobId, ack: { event_id: report.event_id, acknowledged_by: name, acknowledged_at: this.iso() } });
  }
  private record(job: FakeJob, kind: string, bytes: number, urgent = false) {
    const entry: OutboxEntry = {
      event_id: newId('evt'),
      device_seq: ++this.seq,
      job_id: job.summary.id,
      job_title: job.summary.title,
      others: false,
      kind, step: null, step_title: null,
      recorded_at: this.iso(),
      state: 'queued',
      reason: null,
      bytes_total: bytes,
      bytes_sent: 0,
    };
    // The outbox is in `device_seq` order, as the core's is; urgency decides the push order only.
    if (urgent) this.urgentSeqs.add(entry.device_seq);
    this.entries.push(entry);
    this.emit();
    return entry.event_id;
  }
  private status(): SyncStatus {
    const pending = this.entries.filter((e) => e.state === 'queued' || e.state === 'uploading');
    const oldest = pending.map((e) => e.recorded_at).sort()[0] ?? null;
    return {
      online: this.online,
      queued: pending.length,
      rejected: this.entries.filter((e) => e.state === 'rejected').length,
      syncing: this.entries.some((e) => e.state === 'uploading') && this.online,
      events_sent: this.entries.filter((e) => e.state === 'acknowledged').length,
      events_total: this.entries.length,
      bytes_sent: this.entries.reduce((n, e) => n + e.bytes_sent, 0),
      bytes_total: this.entries.reduce((n, e) => n + e.bytes_total, 0),
      last_sync_at: this.lastSyncAt,
      oldest_pending_at: oldest,
      last_error: null,
      photos_pending: this.entries.filter((e) => e.state === 'acknowledged' && e.bytes_sent < e.bytes_total).length,
      photo_bytes_pending: this.entries.reduce((n, e) => n + (e.state === 'acknowledged' ? e.bytes_total - e.bytes_sent : 0), 0),
    };
  }
  private emit(s: SyncStatus = this.status()) {
    for (const l of this.listeners) l(s);
  }
  private sla(job: FakeJob): Sla {
    const due = job.summary.due_at;
    if (!due) return { state: 'none' };
    if (job.summary.resolved_at) {
      return { state: job.summary.resolved_at <= due ? 'met' : 'met_late', due_at: due, resolved_at: job.summary.resolved_at };
    }
    const left = Date.parse(due) - this.clock();
    return { state: left <= 0 ? 'breached' : left <= HOUR ? 'at_risk' : 'on_track', due_at: due };
  }
  private summary(job: FakeJob): JobSummary {
    const { due_at: _d, resolved_at: _r, ...rest } = job.summary;
    return {
      ...rest,
      sla: this.sla(job),
      steps_done: job.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length,
      steps_total: job.steps.length,
      pending_records: this.entries.filter((e) => e.job_id === job.summary.id && e.state !== 'acknowledged').length,
      // The fake sends photos with their records: nothing is ever left behind here.
      photos_pending: 0,
      photo_bytes_pending: 0,
      office_acks: structuredClone(this.deliveredAcks.get(job.summary.id) ?? []),
    };
  }
  private blockers(job: FakeJob): Localized[] {
    const out: Localized[] = [];
    if (job.summary.closed) out.push(L('任务已关闭', 'The job is already closed'));
    const open = job.steps.filter((s) => s.status === 'current' || s.status === 'pending').length;
    if (open) out.push(L(`还有 ${open} 个步骤未完成`, `${open} step(s) not finished yet`));
    const unvisited = job.checkpoints.filter((c) => c.state === 'due' || c.state === 'late').length;
    if (unvisited) out.push(L(`还有 ${unvisited} 个检查点未巡检`, `${unvisited} checkpoint(s) not visited`));
    return out;
  }
  private view(job: FakeJob): JobView {
    const blockers = this.blockers(job);
    const clone = <T>(x: T): T => structuredClone(x);
    return {
      summary: this.summary(job),
      steps: this.photoQueue.recorded(job.summary.id, clone(job.steps)),
      ...this.photoQueue.fields(job.summary.id),
      current_step: job.steps.find((s) => s.status === 'current')?.id ?? null,
      signature: clone(job.signature),
      rating: clone(job.rating),
      damages: clone(job.damages),
      findings: clone(job.findings),
      notices: clone(job.notices),
      checkpoints: clone(job.checkpoints),
      defects: clone(job.defects),
      can_close: blockers.length === 0,
      close_blockers: blockers,
      office_acks: clone(this.deliveredAcks.get(job.summary.id) ?? []),
      ...this.outcomes.fields(job),
      opinion_form: job.steps.some((s) => s.evidence.some((e) => e.type === 'rating')) ? clone(OPINION_FORM) : [],
      corrections: this.extra.corrections(job.summary.id),
      ...this.hw.view(job.summary.kind, job.summary.customer?.address ?? null, job.steps, this.clock(), this.demoOutages),
    };
  }
  private demoSession(office: string): Session {
    return {
      user: { id: 'u-zhangwei', username: 'zhangwei', display_name: '张伟', role: 'repair_technician', badge_no: 'RL-0428' },
      office_url: office,
      device_code: 'D7F3',
    };
  }
  private makeJob(kind: JobKind, over: Partial<FakeJob['summary']>): FakeJob {
    const template = TEMPLATES[kind].steps.filter((t) => !t.when || (over.street_work ?? false));
    const steps: StepView[] = template.map((t, i) => ({
      id: t.id,
      title: t.title,
      phrase: fillPhrase(t.phrase),
      hint: t.hint,
      evidence: fillEvidence(structuredClone(t.evidence)),
      status: i === 0 ? 'current' : 'pending',
      skippable: t.skippable && !t.skip_only_if,
      skip_reason: null,
      photos: [],
    }));
    return {
      summary: {
        id: newId('job'),
        kind,
        title: '',
        customer: null,
        site: null,
        window: null,
        reported_at: null,
        arrival: { state: 'not_arrived' },
        closed: false,
        cancelled: false,
        revoked: false,
        urgent: false,
        due_at: null,
        resolved_at: null,
        ...over,
      },
      steps,
      signature: null,
      rating: null,
      damages: [],
      findings: [],
      notices: [],
      checkpoints: [],
      defects: [],
      readCheckpoints: new Set(),
    };
  }

  private demoOutages: Today['outages'] = [];

  /** A believable day for one technician: used by the preview page and the flow tests. */
  private seedDemoDay() {
    const now = this.clock();
    const at = (h: number, m = 0) => {
      const d = new Date(now);
      d.setHours(h, m, 0, 0);
      return d.toISOString();
    };
    const repair = this.makeJob('home_repair', {
      id: 'job-repair-1',
      title: '暖气不热',
      customer: { name: '李秀兰', phone: '138 0531 2468', address: '历下区和平路 34 号 3 单元 502 室', account_no: 'RY-2019-08817' },
      window: { start: new Date(now - 30 * MIN).toISOString(), end: new Date(now + 90 * MIN).toISOString() },
      reported_at: new Date(now - 2.5 * HOUR).toISOString(),
      due_at: new Date(now + 1.5 * HOUR).toISOString(),
    });
    const leak = this.makeJob('home_repair', {
      id: 'job-repair-2',
      title: '暖气片漏水',
      customer: { name: '王建国', phone: '139 6402 1357', address: '市中区英雄山路 128 号 1 单元 201 室', account_no: 'RY-2016-03320' },
      window: { start: new Date(now - 3 * HOUR).toISOString(), end: new Date(now - HOUR).toISOString() },
      reported_at: new Date(now - 4.4 * HOUR).toISOString(),
      due_at: new Date(now - 24 * MIN).toISOString(),
      urgent: true,
    });
    const later = this.makeJob('home_repair', {
      id: 'job-repair-3',
      title: '阀门无法关闭',
      customer: { name: '赵敏', phone: '137 0531 9911', address: '槐荫区经十路 22 号 7 号楼 1101 室', account_no: 'RY-2021-11042' },
      window: { start: new Date(now + 2 * HOUR).toISOString(), end: new Date(now + 4 * HOUR).toISOString() },
      reported_at: new Date(now - 20 * MIN).toISOString(),
      due_at: new Date(now + 3.6 * HOUR).toISOString(),
    });
    const inspection = this.makeJob('heat_theft_inspection', {
      id: 'job-inspect-1',
      title: '违约用热稽查',
      customer: { name: '孙立新', phone: '135 0531 7788', address: '天桥区北园大街 56 号 2 单元 402 室', account_no: 'RY-2018-05531' },
      window: { start: new Date(now + HOUR).toISOString(), end: new Date(now + 3 * HOUR).toISOString() },
    });
    const patrol = this.makeJob('patrol_round', {
      id: 'job-patrol-1',
      title: '东区巡回检查',
      site: '东区首站及换热站',
    });
    patrol.checkpoints = [
      { id: 'cp-head', name: '东区首站', kind: 'head_station', state: 'late', opens_at: new Date(now - 72 * MIN).toISOString(), next_due_at: new Date(now - 12 * MIN).toISOString(), last_visit_at: new Date(now - 72 * MIN).toISOString(), missed_rounds: 0, readings: READINGS, has_code: true, confirmed_at: null, confirmed_by: null },
      { id: 'cp-ss1', name: '和平路换热站', kind: 'substation', state: 'due', opens_at: new Date(now - 680 * MIN).toISOString(), next_due_at: new Date(now + 40 * MIN).toISOString(), last_visit_at: new Date(now - 11 * HOUR).toISOString(), missed_rounds: 0, readings: READINGS, has_code: true, confirmed_at: null, confirmed_by: null },
      { id: 'cp-ss2', name: '文化东路换热站', kind: 'substation', state: 'missed', opens_at: new Date(now - 10 * HOUR).toISOString(), next_due_at: new Date(now + 2 * HOUR).toISOString(), last_visit_at: new Date(now - 26 * HOUR).toISOString(), missed_rounds: 1, readings: READINGS, has_code: true, confirmed_at: null, confirmed_by: null },
      { id: 'cp-pipe', name: '和平路 DN300 管段', kind: 'pipeline_segment', state: 'done', opens_at: new Date(now + 6 * HOUR).toISOString(), next_due_at: new Date(now + 30 * HOUR).toISOString(), last_visit_at: new Date(now - 2 * HOUR).toISOString(), missed_rounds: 0, readings: PIPE_READINGS, has_code: true, confirmed_at: null, confirmed_by: null },
    ];
    for (const j of [leak, repair, later, inspection, patrol]) this.jobs.set(j.summary.id, j);

    // The leak visit is half done, so the list shows progress and the outbox has history.
    for (const s of leak.steps.slice(0, 5)) s.status = 'done';
    leak.steps[5].status = 'current';
    leak.summary.arrival = { state: 'late', arrived_at: new Date(now - 50 * MIN).toISOString() };

    this.demoOutages = [
      { id: 'out-1', area: '历下区和平路片区', reason: '管网检修', starts_at: at(8), expected_restore_at: at(18) },
      { id: 'out-2', area: '经十路 22 号', reason: '二次管网漏水抢修', starts_at: new Date(now - HOUR).toISOString(), expected_restore_at: new Date(now + 5 * HOUR).toISOString() },
    ];

    const demoEntry = (job: FakeJob, kind: string, state: OutboxEntry['state'], total: number, sent: number, reason: string | null, agoMin: number) => {
      this.entries.push({
        event_id: newId('evt'), device_seq: ++this.seq, job_id: job.summary.id, job_title: job.summary.title, others: false, kind, step: null, step_title: null,
        recorded_at: new Date(now - agoMin * MIN).toISOString(), state, reason, bytes_total: total, bytes_sent: sent,
      });
    };
    demoEntry(leak, 'step_completed', 'acknowledged', 0, 0, null, 55);
    demoEntry(leak, 'step_completed', 'acknowledged', 0, 0, null, 50);
    demoEntry(leak, 'photo_added', 'uploading', 2_400_000, 960_000, null, 20);
    demoEntry(leak, 'step_completed', 'queued', 0, 0, null, 12);
    demoEntry(patrol, 'reading_recorded', 'rejected', 0, 0, '检查点不在你的巡检范围内，请联系调度', 90);
  }
}
