// @vitest-environment jsdom
// The outcomes besides the planned visit, on the screens over the fake backend (issue 15, points 1
// and 11): not home at the door, a refused co-signature on a damage record, the contractor's
// signature, and the closing result as a deliberate choice.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountApp, stubCanvas } from '../test/mountApp';
import { vi } from 'vitest';

// Whole screen walks: on a loaded machine they take longer than vitest's 5 s default.
vi.setConfig({ testTimeout: 30_000 });

type Mounted = Awaited<ReturnType<typeof mountApp>>;
let app: Mounted | null = null;
beforeAll(stubCanvas);
afterEach(() => {
  app?.destroy();
  app = null;
});

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

async function choosePhoto(input: HTMLElement) {
  Object.defineProperty(input, 'files', { value: [new File([JPEG], 'door.jpg')], configurable: true });
  input.dispatchEvent(new Event('change', { bubbles: true }));
  await new Promise((r) => setTimeout(r, 100));
}

describe('not home at the door', () => {
  it('records the reason, the door photo and a witness, closes the visit and says so', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'identify');
    await app.go('#/job/job-repair-1/step/identify');
    await app.click(app.byTestId('outcome-not-home')[0]);
    expect(location.hash).toBe('#/job/job-repair-1/door');

    await app.click(app.byTestId('outcome-save')[0]);
    expect(app.backend.calls.some((c) => c.command === 'close_not_home'), 'no reason, no photo: nothing sent').toBe(false);
    expect(app.target.textContent).toContain('请拍一张门口照片');

    await app.type(app.byTestId('outcome-reason')[0], '敲门无人应答，电话未接');
    await choosePhoto(app.byTestId('door-photo')[0]);
    await app.type(app.byTestId('witness-name')[0], '李物业');
    await app.type(app.byTestId('witness-phone')[0], '13900000000');
    await app.click(app.byTestId('outcome-save')[0]);

    const closed = app.byTestId('job-closed');
    expect(closed).toHaveLength(1);
    expect(closed[0].dataset.resolution).toBe('no_entry');
    const call = app.backend.calls.find((c) => c.command === 'close_not_home')?.args as { noEntry: { reason: string; witness: { name: string }; door_photo: { sha256: string }; reschedule: unknown } };
    expect(call.noEntry.reason).toBe('敲门无人应答，电话未接');
    expect(call.noEntry.witness.name).toBe('李物业');
    expect(call.noEntry.door_photo.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(call.noEntry.reschedule, 'no window given, none sent').toBeNull();
    const kinds = (await app.backend.outbox()).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['no_entry_recorded', 'job_closed']);
  });

  it('takes the customer’s phoned window after the closure', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'identify');
    await app.go('#/job/job-repair-1/door');
    await app.type(app.byTestId('outcome-reason')[0], '无人');
    await choosePhoto(app.byTestId('door-photo')[0]);
    await app.click(app.byTestId('outcome-save')[0]);
    await app.type(app.byTestId('reschedule-date')[0], '2026-12-03');
    await app.type(app.byTestId('reschedule-from')[0], '16:00');
    await app.type(app.byTestId('reschedule-to')[0], '14:00');
    await app.click(app.byTestId('reschedule-save')[0]);
    expect(app.backend.calls.some((c) => c.command === 'request_reschedule'), 'a window ending before it starts is not sent').toBe(false);
    await app.type(app.byTestId('reschedule-to')[0], '18:00');
    await app.click(app.byTestId('reschedule-save')[0]);
    expect(app.byTestId('reschedule-saved')).toHaveLength(1);
    const call = app.backend.calls.find((c) => c.command === 'request_reschedule')?.args as { request: { channel: string } };
    expect(call.request.channel).toBe('phone');
  });

  it('is not offered once the customer let the technician in', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'identify');
    await app.go('#/job/job-repair-1/step/identify');
    expect(app.byTestId('outcome-not-home')).toHaveLength(1);
    app.backend.fastForward('job-repair-1', 'shoe_covers');
    await app.go('#/job/job-repair-1/step/shoe_covers');
    expect(app.byTestId('outcome-not-home')).toHaveLength(0);
  });
});

describe('a refused co-signature on a damage record', () => {
  it('records the refusal with its kind, reason and witness instead of a signature', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'diagnose_repair');
    await app.go('#/job/job-repair-1/damage/property');
    await app.type(app.byTestId('damage-item')[0], '木地板');
    await app.type(app.byTestId('damage-description')[0], '划痕 5 cm');
    await app.click(app.target.querySelector('[data-testid="damage-remedy"] input[value="compensation"]')!);
    await app.click(app.byTestId('signature-refuse')[0]);
    const kinds = app.byTestId('refusal-kind');
    expect(kinds.map((k) => k.dataset.value)).toEqual(['refused', 'absent']);
    await app.click(app.byTestId('refusal-save')[0]);
    expect(app.backend.calls.some((c) => c.command === 'record_damage'), 'no kind or reason: nothing sent').toBe(false);
    await app.click(kinds[0]);
    await app.type(app.byTestId('refusal-reason')[0], '不认可赔偿方式');
    await app.type(app.byTestId('witness-name')[0], '邻居张先生');
    await app.click(app.byTestId('refusal-save')[0]);
    const call = app.backend.calls.find((c) => c.command === 'record_damage')?.args as { damage: Record<string, unknown> };
    expect(call.damage.customer_signature).toBeUndefined();
    expect(call.damage.signature_refused).toEqual({ outcome: 'refused', reason: '不认可赔偿方式', witness: { name: '邻居张先生', phone: '' } });
  });
});

describe('signer roles', () => {
  it('sends the step’s signer: the customer on a home repair', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'signature');
    await app.go('#/job/job-repair-1/step/signature');
    expect(app.byTestId('signer-name')).toHaveLength(1);
    await app.click(app.byTestId('signature-save')[0]);
    // jsdom's pad is empty: nothing is sent, the technician is told.
    expect(app.backend.calls.some((c) => c.command === 'save_signature')).toBe(false);
  });
});

describe('closing a visit', () => {
  it('asks for the result instead of defaulting to resolved', async () => {
    app = await mountApp('#/today');
    app.backend.fastForward('job-repair-1', 'contact_card');
    await app.go('#/job/job-repair-1/step/contact_card');
    await app.click(app.byTestId('step-confirm')[0]);
    await app.go('#/job/job-repair-1/close');
    const options = app.byTestId('close-result');
    expect(options.map((o) => o.dataset.value)).toEqual(['resolved', 'follow_up_needed']);
    expect(options.some((o) => o.classList.contains('selected')), 'nothing chosen yet').toBe(false);
    await app.click(app.byTestId('visit-complete')[0]);
    expect(app.backend.calls.some((c) => c.command === 'close_job')).toBe(false);
    await app.click(options[1]);
    await app.click(app.byTestId('visit-complete')[0]);
    const call = app.backend.calls.find((c) => c.command === 'close_job')?.args as { resolution: string };
    expect(call.resolution).toBe('follow_up_needed');
    const closed = app.byTestId('job-closed')[0];
    expect(closed.dataset.resolution).toBe('follow_up_needed');
    const content = app.target.querySelector('.content')!;
    expect(content.firstElementChild?.getAttribute('data-testid'), 'the confirmation comes first on the screen').toBe('job-closed');
  });

  it('shows a refusal as an error message with its code', async () => {
    app = await mountApp('#/today');
    await app.go('#/job/job-repair-1/door');
    await app.type(app.byTestId('outcome-reason')[0], '无人');
    await choosePhoto(app.byTestId('door-photo')[0]);
    app.backend.fastForward('job-repair-1', 'shoe_covers');
    await app.click(app.byTestId('outcome-save')[0]);
    const error = app.byTestId('error-message');
    expect(error).toHaveLength(1);
    expect(error[0].dataset.code).toBe('record_not_allowed');
  });
});
