// @vitest-environment jsdom
// The phone-hardware screens over the fake backend: the day's shift readiness before the first
// repair, a station confirmed by its code (a wrong one refused, clearly), the outage at the door.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountApp, settle, stubCanvas } from '../test/mountApp';

type Mounted = Awaited<ReturnType<typeof mountApp>>;
let app: Mounted | null = null;
beforeAll(stubCanvas);
afterEach(() => {
  app?.destroy();
  app = null;
});

describe('shift readiness', () => {
  it('comes before the first repair of the day, needs every check, and only once', async () => {
    app = await mountApp('#/job/job-repair-1');
    await settle(60);
    expect(location.hash).toBe('#/job/job-repair-1/ready');
    const items = app.byTestId('readiness-item');
    expect(items.map((i) => i.dataset.item)).toEqual(['uniform', 'badge', 'tools', 'ppe']);

    await app.click(items[0]);
    await app.click(app.byTestId('readiness-confirm')[0]);
    expect(location.hash, 'one check is not enough').toBe('#/job/job-repair-1/ready');
    expect(app.target.textContent).toContain('还有 3 项未确认');
    expect(app.backend.calls.some((c) => c.command === 'confirm_readiness')).toBe(false);

    for (const i of app.byTestId('readiness-item').slice(1)) await app.click(i);
    await app.click(app.byTestId('readiness-confirm')[0]);
    await settle(60);
    expect(location.hash).toBe('#/job/job-repair-1/step/appointment');
    const sent = app.backend.calls.find((c) => c.command === 'confirm_readiness')?.args as { checks: string[] };
    expect(sent.checks).toEqual(['uniform', 'badge', 'tools', 'ppe']);

    await app.go('#/job/job-repair-3');
    await settle(60);
    expect(location.hash, 'the next job goes straight to its step').toBe('#/job/job-repair-3/step/appointment');
  });
});

describe('a patrol station confirmed by its code', () => {
  it('refuses a wrong code with a clear message and records the right one', async () => {
    app = await mountApp('#/job/job-patrol-1/checkpoint/cp-head');
    expect(app.byTestId('checkpoint-presence')[0].dataset.confirmed).toBe('false');
    expect(app.byTestId('checkpoint-scan'), 'no camera scanner on the desktop').toHaveLength(0);

    await app.type(app.byTestId('checkpoint-code')[0], '12');
    await app.click(app.byTestId('checkpoint-confirm')[0]);
    expect(app.target.textContent).toContain('站点码为 4 位以上的字母和数字');
    expect(app.backend.calls.some((c) => c.command === 'confirm_checkpoint'), 'not even sent').toBe(false);

    await app.type(app.byTestId('checkpoint-code')[0], 'HP2X-8R4T');
    await app.click(app.byTestId('checkpoint-confirm')[0]);
    const alert = app.target.querySelector<HTMLElement>('[role="alert"][data-code="wrong_checkpoint_code"]');
    expect(alert?.textContent).toContain('站点码不对');
    expect(app.byTestId('checkpoint-presence')[0].dataset.confirmed).toBe('false');

    await app.type(app.byTestId('checkpoint-code')[0], 'hc7k 3m9q');
    await app.click(app.byTestId('checkpoint-confirm')[0]);
    expect(app.byTestId('checkpoint-confirmed')[0].dataset.method).toBe('typed');
    expect(app.target.querySelector('[data-code="wrong_checkpoint_code"]'), 'the old refusal is gone').toBeNull();
    const sent = app.backend.calls.filter((c) => c.command === 'confirm_checkpoint').at(-1)?.args as { position: { no_fix?: string } };
    expect(sent.position.no_fix, 'no GPS here, and the record says so').toBe('unsupported');

    await app.go('#/job/job-patrol-1');
    expect(app.target.querySelector('[data-checkpoint-id="cp-head"] [data-testid="checkpoint-by-code"]')).not.toBeNull();
  });
});

describe("an outage at the customer's address", () => {
  it("is on the visit's first screen with the expected restoration in the standard words", async () => {
    app = await mountApp('#/job/job-repair-3/step/appointment');
    const banner = app.byTestId('outage-at-door');
    expect(banner).toHaveLength(1);
    expect(banner[0].dataset.restore).toBeTruthy();
    const phrase = app.byTestId('outage-phrase')[0].textContent ?? '';
    expect(phrase).toContain('预计');
    expect(phrase).toContain('恢复供热');
    expect(phrase).toContain('很抱歉，给您带来不便');

    await app.go('#/job/job-repair-1/step/appointment');
    expect(app.byTestId('outage-at-door'), 'not at an address the outage does not cover').toHaveLength(0);
  });
});
