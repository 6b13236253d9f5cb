// @vitest-environment jsdom
// The screens over the fake backend: every selector the E2E suite relies on is where it says, and
// the interactions behind them (skip with a reason, locked rating, refusal) work in the DOM.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountApp, settle, stubCanvas } from '../test/mountApp';

type Mounted = Awaited<ReturnType<typeof mountApp>>;
let app: Mounted | null = null;
beforeAll(stubCanvas);
afterEach(() => {
  app?.destroy();
  app = null;
});

const REQUIRED = [
  'login-office', 'login-user', 'login-password', 'login-submit', 'job-list', 'job-item', 'sync-status', 'sync-now',
  'outbox-item', 'step-title', 'step-phrase', 'step-confirm', 'step-skip', 'skip-reason', 'photo-input', 'photo-thumb',
  'signature-pad', 'signature-save', 'signature-refuse', 'refusal-reason', 'rating-star', 'rating-comment',
  'rating-submit', 'visit-complete', 'lang-switch', 'customer-mode-start', 'opinion-question', 'opinion-answer',
  'customer-mode-done', 'correct-record', 'correction-reason', 'evidence-text',
];

/** Customer mode: answer every question, five stars, a comment, submit, hand the phone back. */
async function answerOpinion(a: Mounted, beforeHandBack = () => {}) {
  for (const [q, v] of [['punctuality', 'late'], ['attitude', 'good'], ['tidiness', 'yes'], ['gifts', 'none']]) {
    await a.click(a.target.querySelector(`[data-testid="opinion-answer"][data-question="${q}"][data-value="${v}"]`) as HTMLElement);
  }
  await a.click(a.byTestId('rating-star')[4]);
  await a.type(a.byTestId('rating-comment')[0], '很满意');
  await a.click(a.byTestId('rating-submit')[0]);
  beforeHandBack();
  await a.click(a.byTestId('customer-mode-done')[0]);
}

describe('screens', () => {
  it('show every data-testid the E2E suite uses', async () => {
    const seen = new Set<string>();
    const collect = () => app!.target.querySelectorAll('[data-testid]').forEach((e) => seen.add(e.getAttribute('data-testid')!));
    app = await mountApp('#/login', { demo: true });
    collect();
    app.destroy();
    app = await mountApp('#/today', { signedIn: true, demo: true });
    collect();
    await app.backend.addPhoto('job-repair-2', 'diagnose_repair', new Uint8Array([0xff, 0xd8, 0xff, 0]));
    for (const hash of ['#/job/job-repair-2/step/diagnose_repair', '#/outbox', '#/job/job-repair-2/close']) {
      await app.go(hash);
      collect();
    }
    await app.backend.addPhoto('job-repair-2', 'diagnose_repair', new Uint8Array([0xff, 0xd8, 0xff, 1]));
    await app.backend.completeStep('job-repair-2', 'diagnose_repair', { text: { fault_found: '阀门堵塞', work_done: '清洗阀芯' }, states: {}, readings: [], position: null });
    await app.go('#/job/job-repair-2/step/diagnose_repair');
    collect();
    await app.click(app.byTestId('correct-record')[0]);
    collect();
    app.backend.fastForward('job-repair-1', 'signature');
    await app.go('#/job/job-repair-1/step/signature');
    collect();
    await app.click(app.byTestId('signature-refuse')[0]);
    collect();
    app.backend.fastForward('job-repair-3', 'rating');
    await app.go('#/job/job-repair-3/step/rating');
    collect();
    await app.click(app.byTestId('customer-mode-start')[0]);
    collect();
    await answerOpinion(app, collect);
    collect();
    await app.go('#/job/job-repair-3/step/contact_card');
    collect();
    await app.click(app.byTestId('step-skip')[0]);
    collect();
    expect(REQUIRED.filter((id) => !seen.has(id))).toEqual([]);
  }, 20_000); // it walks many screens: slow on a loaded machine, not a timing promise

  it('lists today’s jobs with their id and kind, and the sync state in the header', async () => {
    app = await mountApp('#/today');
    const items = app.byTestId('job-item');
    expect(items.map((e) => e.dataset.kind)).toContain('patrol_round');
    expect(items[0].dataset.jobId).toBe('job-repair-2'); // urgent and overdue comes first
    expect(items[0].textContent).toContain('已超时');
    const status = app.byTestId('sync-status')[0];
    expect(status.dataset.online).toBe('true');
    expect(status.textContent).toContain('待传 2');
  });

  it('skips a step only with a reason, in two taps', async () => {
    app = await mountApp('#/job/job-repair-1/step/appointment');
    expect(app.byTestId('step-title')[0].dataset.step).toBe('appointment');
    expect(app.byTestId('skip-reason')).toHaveLength(0);
    await app.click(app.byTestId('step-skip')[0]);
    await app.click(app.byTestId('step-skip')[0]);
    expect(app.byTestId('step-title')[0].dataset.step, 'no reason: still on the step').toBe('appointment');
    await app.type(app.byTestId('skip-reason')[0], '电话已预约，客户在家等候');
    await app.click(app.byTestId('step-skip')[0]);
    await settle(60);
    expect(location.hash).toBe('#/job/job-repair-1/step/arrive');
    expect(app.byTestId('step-title')[0].dataset.step).toBe('arrive');
  });

  it('locks the rating once the customer submits it', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'rating');
    await app.go('#/job/job-repair-1/step/rating');
    expect(app.byTestId('rating-star'), 'the stars are the customer’s, in customer mode').toHaveLength(0);
    await app.click(app.byTestId('customer-mode-start')[0]);
    const stars = app.byTestId('rating-star');
    expect(stars.map((s) => s.dataset.value)).toEqual(['1', '2', '3', '4', '5']);
    await answerOpinion(app);
    expect(app.byTestId('rating-star').every((s) => (s as HTMLButtonElement).disabled)).toBe(true);
    expect(app.byTestId('rating-submit')).toHaveLength(0);
    expect(app.byTestId('customer-mode-start'), 'no way back into the form').toHaveLength(0);
    expect(app.byTestId('opinion-answer').map((a) => a.dataset.value)).toEqual(['late', 'good', 'yes', 'none']);
    expect(app.target.textContent).toContain('评价已提交');
    await expect(app.backend.giveOpinion('job-repair-1', { stars: 5, comment: '', answers: { punctuality: 'on_time', attitude: 'good', tidiness: 'yes', gifts: 'none' } })).rejects.toMatchObject({ code: 'rating_locked' });
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-title')[0].dataset.step).toBe('contact_card');
    expect(app.byTestId('contact-phone')[0].textContent, 'the hotline the office set').toBe('0531-96069');
  });

  it('customer mode submits only a complete form, then hands the phone back', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'rating');
    await app.go('#/job/job-repair-1/step/rating');
    await app.click(app.byTestId('customer-mode-start')[0]);
    expect(app.byTestId('opinion-question').map((q) => q.dataset.question)).toEqual(['punctuality', 'attitude', 'tidiness', 'gifts']);
    await app.click(app.byTestId('rating-star')[4]);
    expect((app.byTestId('rating-submit')[0] as HTMLButtonElement).disabled, 'questions still open').toBe(true);
    expect(app.byTestId('customer-mode-missing')[0].textContent).toContain('4');
  });

  it('corrects a done step’s text with a reason and shows what it was', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'diagnose_repair');
    for (const n of [1, 2]) await app.backend.addPhoto('job-repair-1', 'diagnose_repair', new Uint8Array([0xff, 0xd8, 0xff, n]));
    await app.backend.completeStep('job-repair-1', 'diagnose_repair', { text: { fault_found: '阀门堵塞', work_done: '清洗阀芯' }, states: {}, readings: [], position: null });
    await app.go('#/job/job-repair-1/step/diagnose_repair');
    await app.click(app.byTestId('correct-record')[0]);
    const field = app.target.querySelector('[data-testid="evidence-text"][data-field="fault_found"] textarea') as HTMLTextAreaElement;
    expect(field.value).toBe('阀门堵塞');
    await app.type(field, '温控阀损坏');
    await app.click(app.byTestId('correction-save')[0]);
    expect(app.target.textContent, 'no reason: refused on the screen').toContain('请填写更正原因');
    await app.type(app.byTestId('correction-reason')[0], '故障原因写错了');
    await app.click(app.byTestId('correction-save')[0]);
    await settle(30);
    expect(app.byTestId('correction-item')[0].textContent).toContain('温控阀损坏');
    const sent = app.backend.calls.find((c) => c.command === 'correct_record');
    expect(sent?.args).toMatchObject({ correction: { reason: '故障原因写错了', replacement: { text: { fault_found: '温控阀损坏' } } } });
  });

  it('records a refusal with reason and witness, then moves on', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'signature');
    await app.go('#/job/job-repair-1/step/signature');
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-problems')[0].textContent).toContain('拒签');
    await app.click(app.byTestId('signature-refuse')[0]);
    await app.type(app.byTestId('refusal-reason')[0], '客户拒绝签字');
    await app.type(app.byTestId('witness-name')[0], '物业王师傅');
    await app.click(app.byTestId('refusal-submit')[0]);
    expect(app.target.querySelector('[data-signature]')?.getAttribute('data-signature')).toBe('declined');
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-title')[0].dataset.step).toBe('rating');
    const declined = app.backend.calls.find((c) => c.command === 'decline_signature');
    expect(declined?.args).toMatchObject({ outcome: 'refused', reason: '客户拒绝签字', witness: { name: '物业王师傅', phone: '' } });
  });

  it('switches the language and tells the backend', async () => {
    app = await mountApp('#/today');
    expect(app.target.querySelector('h1')?.textContent).toBe('今日任务');
    await app.click(app.byTestId('lang-switch')[0]);
    expect(app.target.querySelector('h1')?.textContent).toBe("Today's jobs");
    expect(app.byTestId('lang-switch')[0].dataset.lang).toBe('en');
    expect(app.backend.calls.filter((c) => c.command === 'set_language').at(-1)?.args).toEqual({ lang: 'en' });
  });

  it('shows sign-in errors by code', async () => {
    app = await mountApp('#/login', { demo: true });
    await app.type(app.byTestId('login-office')[0], 'https://office.example.cn');
    await app.type(app.byTestId('login-user')[0], 'zhangwei');
    await app.type(app.byTestId('login-password')[0], 'wrong');
    app.byTestId('login-submit')[0].closest('form')!.requestSubmit();
    await settle(60);
    expect(app.target.querySelector('[role=alert][data-code]')?.getAttribute('data-code')).toBe('bad_credentials');
    expect(app.byTestId('login-password')[0].getAttribute('aria-invalid')).toBe('true');
    await app.type(app.byTestId('login-password')[0], 'secret');
    app.byTestId('login-submit')[0].closest('form')!.requestSubmit();
    await settle(60);
    expect(location.hash).toBe('#/today');
    expect(app.byTestId('job-list')).toHaveLength(1);
  });

  it('shows the outbox with every state and empties the queue on sync now', async () => {
    app = await mountApp('#/outbox');
    const states = () => app!.byTestId('outbox-item').map((e) => e.dataset.state);
    expect(new Set(states())).toEqual(new Set(['queued', 'uploading', 'acknowledged', 'rejected']));
    expect(app.target.querySelector('.entry.uploading [role=progressbar]')).not.toBeNull();
    expect(app.target.textContent).toContain('检查点不在你的巡检范围内');
    await app.click(app.byTestId('sync-now')[0]);
    expect(new Set(states())).toEqual(new Set(['acknowledged', 'rejected']));
    expect(app.byTestId('sync-status')[0].dataset.queued).toBe('0');
  });

  it('walks a patrol round: the current step, readings flagged out of range, a defect', async () => {
    app = await mountApp('#/job/job-patrol-1');
    expect(app.byTestId('step-title')[0].dataset.step).toBe('shift_ready');
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-title')[0].dataset.step).toBe('checkpoints');
    expect(app.byTestId('checkpoint-item').map((e) => e.dataset.state)).toEqual(['missed', 'late', 'due', 'done']);

    await app.go('#/job/job-patrol-1/checkpoint/cp-head');
    await app.type(app.byTestId('reading-supply_temp')[0], '99');
    await app.type(app.byTestId('reading-return_temp')[0], '45');
    await app.type(app.byTestId('reading-supply_pressure')[0], '0.5');
    await app.type(app.byTestId('reading-return_pressure')[0], '0.3');
    expect(app.target.textContent).toContain('有 1 项读数超出正常范围');
    await app.click(app.byTestId('readings-save')[0]);
    expect(location.hash).toBe('#/job/job-patrol-1');
    expect(app.target.querySelector('[data-checkpoint-id="cp-head"]')?.getAttribute('data-state')).toBe('done');

    await app.click(app.byTestId('defect-new')[0]);
    const pick = (id: string, n: number) => app!.target.querySelectorAll<HTMLInputElement>(`[data-testid="${id}"] input`)[n];
    await app.click(pick('defect-category', 0));
    await app.click(pick('defect-severity', 1));
    await app.type(app.byTestId('defect-position')[0], '和平路 3 号井室');
    await app.type(app.byTestId('defect-description')[0], '保温层脱落');
    await app.click(app.byTestId('defect-submit')[0]);
    expect(location.hash).toBe('#/job/job-patrol-1');
    expect(app.byTestId('defect-item')[0].textContent).toContain('保温层脱落');
    const sent = app.backend.calls.find((c) => c.command === 'report_defect')?.args as { defect: { severity: string; position: object } };
    expect(sent.defect).toMatchObject({ severity: 'major', position: { description: '和平路 3 号井室' } });
  });

  it('sends camera photos as raw bytes and shows their thumbnails', async () => {
    app = await mountApp('#/job/job-repair-2/step/diagnose_repair');
    const input = app.byTestId('photo-input')[0] as HTMLInputElement;
    expect(input.accept).toBe('image/*');
    expect(input.getAttribute('capture')).toBe('environment');
    const jpeg = (n: number) => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, n])], `p${n}.jpg`, { type: 'image/jpeg' });
    Object.defineProperty(input, 'files', { value: [jpeg(1), jpeg(2)], configurable: true });
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await settle(100);
    expect(app.byTestId('photo-thumb')).toHaveLength(2);
    const uploads = app.backend.calls.filter((c) => c.command === 'add_photo');
    expect(uploads.map((c) => c.args)).toEqual([
      { jobId: 'job-repair-2', step: 'diagnose_repair', bytes: 5 },
      { jobId: 'job-repair-2', step: 'diagnose_repair', bytes: 5 },
    ]);
    expect(app.target.textContent).toContain('2/2 张');
  });

  it('corrects a finding’s description and a checkpoint’s reading, each with a reason', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-inspect-1', 'inspect');
    await app.backend.recordFinding('job-inspect-1', { category: 'tampered_seal', description: '铅封破损', states: {}, photos: [] });
    await app.go('#/job/job-inspect-1/step/inspect');
    await app.click(app.byTestId('correct-record')[0]);
    await app.type(app.target.querySelector('[data-testid="evidence-text"][data-field="description"] textarea') as HTMLElement, '表箱铅封被剪断');
    await app.type(app.byTestId('correction-reason')[0], '描述不准确');
    await app.click(app.byTestId('correction-save')[0]);
    await settle(30);
    expect(app.byTestId('correction-item')[0].textContent).toContain('表箱铅封被剪断');

    await app.backend.recordReading('job-patrol-1', 'cp-head', [{ key: 'supply_temp', value: 9.5, unit: '℃' }, { key: 'return_temp', value: 45, unit: '℃' }, { key: 'supply_pressure', value: 0.6, unit: 'MPa' }], '');
    await app.go('#/job/job-patrol-1/checkpoint/cp-head');
    await app.click(app.byTestId('correct-record')[0]);
    await app.type(app.byTestId('correction-reading-supply_temp')[0], '95');
    await app.type(app.byTestId('correction-reason')[0], '小数点错位');
    await app.click(app.byTestId('correction-save')[0]);
    await settle(30);
    const sent = app.backend.calls.filter((c) => c.command === 'correct_record').at(-1)?.args as { correction: { replacement: { readings: { key: string; value: number }[] } } };
    expect(sent.correction.replacement.readings).toEqual([{ key: 'supply_temp', value: 95, unit: '℃' }]);
  });

  it('inspects for heat theft: a finding, a refusal with a witness, a numbered notice', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-inspect-1', 'inspect');
    await app.go('#/job/job-inspect-1/step/inspect');
    const radio = (sel: string, n: number) => app!.target.querySelectorAll<HTMLInputElement>(`${sel} input`)[n];
    await app.click(radio('.finding-form fieldset', 0));
    await app.type(app.byTestId('finding-description')[0], '客厅暖气私接旁通管');
    await app.click(app.byTestId('finding-submit')[0]);
    expect(app.byTestId('finding-item')).toHaveLength(1);
    const finding = app.backend.calls.find((c) => c.command === 'record_finding')?.args as { finding: { category: string } };
    expect(finding.finding.category).toBe('unauthorized_connection');

    const photo = app.byTestId('photo-input')[0] as HTMLInputElement;
    Object.defineProperty(photo, 'files', { value: [new File([new Uint8Array([0xff, 0xd8, 0xff, 1])], 'x.jpg')], configurable: true });
    photo.dispatchEvent(new Event('change', { bubbles: true }));
    await settle(100);
    for (const key of ['meter', 'seal', 'valve']) await app.click(radio(`[data-testid="evidence-${key}"]`, 1));
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-title')[0].dataset.step).toBe('acknowledgement');

    await app.click(app.byTestId('signature-refuse')[0]);
    await app.type(app.byTestId('refusal-reason')[0], '客户拒绝签字，已报告稽查科');
    await app.type(app.byTestId('witness-name')[0], '物业 李主任');
    await app.click(app.byTestId('refusal-submit')[0]);
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-title')[0].dataset.step).toBe('notice');

    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-problems')[0].textContent).toContain('整改通知');
    await app.type(app.byTestId('notice-requirements')[0], '拆除旁通管，恢复铅封');
    const deadline = (app.byTestId('notice-deadline')[0] as HTMLInputElement).value;
    await app.type(app.byTestId('notice-follow-up')[0], '2000-01-01');
    await app.click(app.byTestId('notice-submit')[0]);
    expect(app.byTestId('notice-issued'), 'a follow-up before the deadline: nothing issued').toHaveLength(0);
    expect(document.body.textContent).toContain('复查日期不能早于整改期限');
    await app.type(app.byTestId('notice-follow-up')[0], deadline);
    await app.click(app.byTestId('notice-submit')[0]);
    expect(app.byTestId('notice-issued')[0].textContent).toMatch(/ZG-\w+-0001/);
    expect(app.byTestId('notice-follow-up-date')[0].dataset.value).toBe(deadline);
    await app.click(app.byTestId('step-confirm')[0]);
    expect(location.hash).toBe('#/job/job-inspect-1/close');
    await app.click(app.byTestId('visit-complete')[0]);
    expect(app.byTestId('job-closed'), 'no result chosen: nothing closes').toHaveLength(0);
    await app.click(app.byTestId('close-result').find((o) => o.dataset.value === 'resolved')!);
    await app.click(app.byTestId('visit-complete')[0]);
    expect(app.byTestId('job-closed')).toHaveLength(1);
  });
});
