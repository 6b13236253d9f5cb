// @vitest-environment jsdom
// Honest time (issue 15, point 6): a phone whose clock is 72 hours off still shows the office's
// countdown. The core hands the office-corrected now as `Today.now`; the clock takes the offset to
// it, and the job card's countdown and "today" run on that, never on the phone's own clock.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobSummary } from '../backend/types';
import { setLang, setupI18n } from '../i18n';
import JobCard from './JobCard.svelte';
import { MinuteClock } from './clock.svelte';

const OFFICE_NOW = '2026-11-27T08:00:00Z';
const H72 = 72 * 3600_000;

function job(): JobSummary {
  return {
    id: 'job-1', kind: 'home_repair', title: '暖气不热', customer: null, site: '幸福路12号',
    window: { start: '2026-11-27T07:30:00Z', end: '2026-11-27T09:30:00Z' },
    reported_at: '2026-11-27T07:30:00Z',
    // Reported 30 minutes ago with 4 hours to resolve: 3 h 30 min left on the office's clock.
    sla: { state: 'on_track', due_at: '2026-11-27T11:30:00Z' },
    arrival: { state: 'not_arrived' },
    steps_done: 0, steps_total: 9, closed: false, cancelled: false, revoked: false,
    pending_records: 0, urgent: false, photos_pending: 2, photo_bytes_pending: 1_572_864,
    office_acks: [{ event_id: 'evt-1', acknowledged_by: '李调度', acknowledged_at: '2026-11-27T07:45:00Z' }],
  };
}

function render(now: number): HTMLElement {
  const target = document.createElement('ul');
  document.body.replaceChildren(target);
  const card = mount(JobCard, { target, props: { job: job(), now } });
  flushSync();
  cleanup.push(() => unmount(card));
  return target;
}

const cleanup: (() => void)[] = [];

describe('the job card on a phone whose clock is wrong', () => {
  afterEach(() => {
    cleanup.splice(0).forEach((f) => f());
    vi.useRealTimers();
  });

  for (const [what, shift] of [['72 h ahead', H72], ['72 h behind', -H72]] as const) {
    it(`counts down on the office's time with the device clock ${what}`, () => {
      setupI18n('zh-CN');
      setLang('zh-CN');
      vi.useFakeTimers();
      vi.setSystemTime(Date.parse(OFFICE_NOW) + shift);
      const clock = new MinuteClock();
      clock.sync(OFFICE_NOW); // Today.now: the core's office-corrected now
      expect(clock.now).toBe(Date.parse(OFFICE_NOW));
      const card = render(clock.now);
      const sla = card.querySelector<HTMLElement>('[data-sla]')!;
      expect(sla.dataset.sla, 'on track, whatever the phone says').toBe('on_track');
      expect(sla.textContent).toContain('3小时30分');
      // The phone's own clock would have said breached 3 days ago, or 75 hours left.
      const raw = new MinuteClock();
      raw.sync('not a time'); // no backend time: falls back to the device clock
      const wrong = render(raw.now).querySelector<HTMLElement>('[data-sla]')!;
      expect(wrong.dataset.sla).toBe(shift > 0 ? 'breached' : 'on_track');
      expect(wrong.textContent).not.toContain('3小时30分');
    });
  }

  it('says "photos pending" with the bytes to go, and shows the office’s acknowledgement', () => {
    setupI18n('zh-CN');
    setLang('zh-CN');
    const card = render(Date.parse(OFFICE_NOW));
    const pending = card.querySelector<HTMLElement>('[data-testid="photos-pending"]')!;
    expect(pending, 'records acknowledged but photos still on the phone').not.toBeNull();
    expect(pending.textContent).toContain('2 张');
    expect(pending.textContent).toContain('1.5 MB');
    expect(card.textContent, 'never "all uploaded" while photos wait').not.toContain('已全部上传');
    const ack = card.querySelector<HTMLElement>('[data-testid="office-ack"]')!;
    expect(ack.dataset.eventId).toBe('evt-1');
    expect(ack.textContent).toContain('李调度');
  });
});
