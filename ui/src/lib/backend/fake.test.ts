// A whole home repair visit through the Backend interface, the way the screens drive it (using the
// fake, so it also keeps the dev preview honest), plus the rules the UI relies on: order, evidence,
// locked rating, refusal as a normal outcome, the outbox.
import { describe, expect, it } from 'vitest';
import { FakeBackend, TEMPLATES, pushOrder } from './fake';
import { emptyDraft, toEvidence, validateStep } from '../visit/evidence';
import type { JobView } from './types';

const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]);
const none = { text: {}, states: {}, readings: [], position: null };

async function completeCurrent(b: FakeBackend, job: JobView, fill: Record<string, string> = {}): Promise<JobView> {
  const step = job.steps.find((s) => s.id === job.current_step)!;
  const draft = emptyDraft(step);
  for (const k of Object.keys(draft.text)) draft.text[k] = fill[k] ?? '';
  for (const k of Object.keys(draft.states)) draft.states[k] = fill[k] ?? '';
  expect(validateStep(step, draft, job), `step ${step.id} has what it needs`).toEqual([]);
  return b.completeStep(job.summary.id, step.id, toEvidence(step, draft, null));
}

describe('FakeBackend home repair visit', () => {
  it('goes through every step with photos, a refusal and a rating, and closes', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true, online: false });
    const id = 'job-repair-1';
    let job = await b.job(id);
    expect(job.steps.map((s) => s.id), 'the core template without the street-work step').toEqual(
      TEMPLATES.home_repair.steps.filter((s) => !s.when).map((s) => s.id),
    );

    await expect(b.completeStep(id, 'arrive', none)).rejects.toMatchObject({ code: 'step_out_of_order' });
    for (let i = 0; i < 5; i++) job = await completeCurrent(b, job);
    expect(job.current_step).toBe('diagnose_repair');

    await expect(b.completeStep(id, 'diagnose_repair', { ...none, text: { fault_found: 'x', work_done: 'y' } })).rejects.toMatchObject({ code: 'evidence_missing' });
    await expect(b.addPhoto(id, 'diagnose_repair', new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 'not_an_image' });
    job = await b.addPhoto(id, 'diagnose_repair', jpeg);
    job = await b.addPhoto(id, 'diagnose_repair', new Uint8Array([...jpeg, 4]));
    job = await completeCurrent(b, job, { fault_found: '散热器阀门堵塞', work_done: '清洗阀芯' });

    await expect(b.skipStep(id, 'clean_up', '客户要求自行清理')).rejects.toMatchObject({ code: 'step_not_skippable' });
    job = await b.addPhoto(id, 'clean_up', new Uint8Array([...jpeg, 5]));
    job = await completeCurrent(b, job);

    job = await b.declineSignature(id, 'signature', 'refused', '对维修时间不满', { name: '物业王师傅', phone: '13900000000' });
    expect(job.signature).toMatchObject({ state: 'declined', outcome: 'refused' });
    job = await completeCurrent(b, job);

    job = await b.giveRating(id, 4, '');
    await expect(b.giveRating(id, 5, '改一下')).rejects.toMatchObject({ code: 'rating_locked' });
    job = await completeCurrent(b, job);
    expect(job.can_close).toBe(false);
    job = await completeCurrent(b, job);

    expect(job.current_step).toBeNull();
    expect(job.can_close).toBe(true);
    job = await b.closeJob(id, 'resolved', '');
    expect(job.summary.closed).toBe(true);
    expect(job.summary.sla.state).toBe('met');

    const status = await b.syncStatus();
    expect(status.online).toBe(false);
    const mine = (await b.outbox()).filter((e) => e.job_id === id);
    expect(mine.every((e) => e.state === 'queued'), 'offline: everything waits in the outbox').toBe(true);
    expect(mine.map((e) => e.device_seq)).toEqual([...mine.map((e) => e.device_seq)].sort((x, y) => x - y));

    b.setOnline(true);
    const after = await b.syncNow();
    expect(after.queued).toBe(0);
    expect((await b.outbox()).filter((e) => e.job_id === id).every((e) => e.state === 'acknowledged')).toBe(true);
  });

  it('keeps a customer signature as an image and locks it', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true });
    b.fastForward('job-repair-1', 'signature');
    const job = await b.saveSignature('job-repair-1', 'signature', 'customer', '李秀兰', png);
    expect(job.signature).toMatchObject({ state: 'signed', signer_name: '李秀兰', image: { mime: 'image/png' } });
    if (job.signature?.state !== 'signed') throw new Error('unreachable');
    expect(new Uint8Array(await b.thumbnail(job.signature.image.sha256))).toEqual(png);
    await expect(b.declineSignature('job-repair-1', 'signature', 'absent', '无人', null)).rejects.toMatchObject({ code: 'already_signed' });
  });

  it('pushes an accident report as the core does: the chain up to it first, never out of order', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true, online: false });
    const seen: number[] = [];
    await b.onSyncStatus((s) => seen.push(s.queued));
    await b.completeStep('job-repair-1', 'appointment', none);
    const job = await b.reportAccident({ description: '井室蒸汽外冒', measures_taken: '设置警戒', position: { lat: null, lon: null, description: '和平路 3 号井' }, injuries: false });
    await b.completeStep('job-repair-1', 'arrive', none);
    expect(job.summary).toMatchObject({ kind: 'emergency_repair', urgent: true });
    const outbox = await b.outbox();
    expect(outbox.map((e) => e.device_seq), 'the outbox lists records in device_seq order, as the core').toEqual(
      [...outbox.map((e) => e.device_seq)].sort((x, y) => x - y),
    );
    const report = outbox.find((e) => e.kind === 'accident_reported')!;
    const queued = outbox.filter((e) => e.state === 'queued' || e.state === 'uploading');
    b.setOnline(true);
    await b.syncNow();
    expect(b.pushes, 'first batch: every queued record up to and including the accident report; then the rest').toEqual([
      queued.filter((e) => e.device_seq <= report.device_seq).map((e) => e.device_seq),
      queued.filter((e) => e.device_seq > report.device_seq).map((e) => e.device_seq),
    ]);
    expect(b.pushes[0].length, 'records queued before the accident go with it (the office takes them in order)').toBeGreaterThan(1);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('shows the office acknowledgement on the accident job after the next sync only', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true, online: true });
    const job = await b.reportAccident({ description: '井盖缺失', measures_taken: '围挡', position: { lat: null, lon: null, description: '幸福路' }, injuries: false });
    await b.syncNow();
    b.officeAcknowledges(job.summary.id, '李调度');
    expect((await b.job(job.summary.id)).office_acks, 'not before the device pulls').toEqual([]);
    await b.syncNow();
    expect((await b.job(job.summary.id)).office_acks, 'after the pull: who at the office took it').toMatchObject([{ acknowledged_by: '李调度' }]);
  });
});

describe('pushOrder (the core\'s urgent-first order)', () => {
  it('sends the chain up to the last urgent record, then the rest; nothing urgent: one batch', () => {
    expect(pushOrder([1, 2, 3, 4, 5], new Set([3]))).toEqual([[1, 2, 3], [4, 5]]);
    expect(pushOrder([4, 5, 6], new Set([2, 5])), 'an urgent record already sent does not count').toEqual([[4, 5], [6]]);
    expect(pushOrder([1, 2], new Set())).toEqual([[1, 2]]);
    expect(pushOrder([1, 2], new Set([2]))).toEqual([[1, 2]]);
    expect(pushOrder([], new Set([1]))).toEqual([]);
  });
});

describe('FakeBackend, more screens', () => {
  it('walks a patrol round: the checkpoints step needs a reading at every checkpoint', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true });
    const id = 'job-patrol-1';
    let job = await b.completeStep(id, 'shift_ready', none);
    expect(job.current_step).toBe('checkpoints');
    await expect(b.completeStep(id, 'checkpoints', none)).rejects.toMatchObject({ code: 'evidence_missing' });
    await expect(b.recordReading(id, 'cp-head', [], '')).rejects.toMatchObject({ code: 'evidence_missing' });
    for (const cp of job.checkpoints) {
      job = await b.recordReading(id, cp.id, cp.readings.map((r) => ({ key: r.key, value: 1, unit: r.unit })), '');
    }
    job = await b.completeStep(id, 'checkpoints', none);
    job = await b.skipStep(id, 'handover', '同班组继续值守');
    expect(job.can_close).toBe(true);
  });

  it('issues rectification notices with distinct numbers', async () => {
    const b = new FakeBackend({ signedIn: true, demo: true });
    await b.issueNotice('job-inspect-1', '2026-12-04', '拆除私接管道', null);
    const job = await b.issueNotice('job-inspect-1', '2026-12-04', '恢复铅封', '2026-12-10');
    expect(new Set(job.notices.map((n) => n.number)).size).toBe(2);
    expect(job.notices.map((n) => n.follow_up_on)).toEqual([null, '2026-12-10']);
    await expect(b.issueNotice('job-inspect-1', '2026-12-04', '恢复铅封', '2026-12-03')).rejects.toMatchObject({
      code: 'follow_up_before_deadline',
    });
  });

  it('answers errors by code: bad credentials, offline sign-in, no session', async () => {
    const b = new FakeBackend();
    await expect(b.today()).rejects.toMatchObject({ code: 'not_signed_in' });
    await expect(b.login('https://o.cn', 'u', 'wrong')).rejects.toMatchObject({ code: 'bad_credentials' });
    b.setOnline(false);
    await expect(b.login('https://o.cn', 'u', 'pw')).rejects.toMatchObject({ code: 'offline' });
  });
});

describe('FakeBackend acceptance inspection', () => {
  // No acceptance job in a repair technician's demo day: made here through the fake's own builder.
  async function acceptance(result: string) {
    const b = new FakeBackend({ signedIn: true, demo: true, online: false });
    const fake = b as unknown as { makeJob(kind: string, over: object): unknown; jobs: Map<string, unknown> };
    fake.jobs.set('job-acc', fake.makeJob('acceptance_inspection', { id: 'job-acc', title: '换热站改造验收' }));
    let job = await b.job('job-acc');
    expect(job.steps.find((s) => s.id === 'rectification')?.skippable, 'not before the result').toBe(false);
    job = await completeCurrent(b, job);
    await b.addPhoto('job-acc', 'inspect', jpeg);
    job = await completeCurrent(b, await b.job('job-acc'), { result });
    return { b, job };
  }
  it('keeps the written rectification opinion when the inspection did not pass, as the core does', async () => {
    for (const result of ['failed', 'passed_with_remarks']) {
      const { b, job } = await acceptance(result);
      expect(job.current_step).toBe('rectification');
      expect(job.steps.find((s) => s.id === 'rectification')?.skippable, result).toBe(false);
      await expect(b.skipStep('job-acc', 'rectification', '无需整改')).rejects.toMatchObject({ code: 'step_not_skippable' });
    }
  });
  it('lets a passed inspection skip it with a reason', async () => {
    const { b, job } = await acceptance('passed');
    expect(job.steps.find((s) => s.id === 'rectification')?.skippable).toBe(true);
    const after = await b.skipStep('job-acc', 'rectification', '验收合格，无需整改');
    expect(after.current_step).toBe('signature');
  });
});
