// @vitest-environment jsdom
// Photos processed in the background: taking two photos answers at once (shown as processing, and
// counted for the step), the technician confirms the step and is on the next one while they are
// still processing; the screen looks again and shows them recorded once they are.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountApp, settle, stubCanvas } from '../../test/mountApp';
import { QueueWatch, photoCount, previewOf, rememberPreview } from './processing';
import type { JobView } from '../backend/types';

type Mounted = Awaited<ReturnType<typeof mountApp>>;
let app: Mounted | null = null;
beforeAll(stubCanvas);
afterEach(() => {
  app?.destroy();
  app = null;
});

const jpeg = (n: number) => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, n])], `p${n}.jpg`, { type: 'image/jpeg' });

describe('photos in the background', () => {
  it('answer at once, count for the step, and the visit goes on while they process', async () => {
    app = await mountApp('#/job/job-repair-2/step/diagnose_repair', { signedIn: true, demo: true, photoDelayMs: 1500 });
    const input = app.byTestId('photo-input')[0] as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [jpeg(1), jpeg(2)], configurable: true });
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await settle(100);
    const thumbs = app.byTestId('photo-thumb');
    expect(thumbs.map((t) => t.dataset.state)).toEqual(['processing', 'processing']);
    expect(app.byTestId('photos-processing')[0].dataset.count).toBe('2');
    expect(app.target.textContent).toContain('2/2 张');
    expect((input as HTMLInputElement).disabled).toBe(false);

    for (const [field, text] of [['fault_found', '阀门堵塞'], ['work_done', '清洗阀芯']]) {
      await app.type(app.target.querySelector(`[data-testid="evidence-text"][data-field="${field}"] textarea, [data-testid="evidence-text"][data-field="${field}"] input`) ?? undefined, text);
    }
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-problems')).toHaveLength(0);
    expect(location.hash).toBe('#/job/job-repair-2/step/clean_up');
    expect(app.byTestId('photos-processing')).toHaveLength(1);

    await settle(2500); // processed, and the screen looked again
    expect(app.byTestId('photos-processing')).toHaveLength(0);
    await app.go('#/job/job-repair-2/step/diagnose_repair');
    expect(app.byTestId('photo-thumb').map((t) => t.dataset.state ?? 'recorded')).toEqual(['recorded', 'recorded']);
  });

  it('without its photos a step is still not confirmed', async () => {
    app = await mountApp('#/job/job-repair-2/step/diagnose_repair', { signedIn: true, demo: true, photoDelayMs: 1500 });
    await app.click(app.byTestId('step-confirm')[0]);
    expect(app.byTestId('step-problems')[0].textContent).toContain('照片至少 2 张');
    expect(location.hash).toBe('#/job/job-repair-2/step/diagnose_repair');
  });

  it('counts processing photos but not failed ones', () => {
    const step = { id: 's', photos: [{}] };
    const job = {
      processing_photos: [
        { id: 1, step: 's', state: 'processing' as const, error: null },
        { id: 2, step: 's', state: 'failed' as const, error: { zh: '损坏', en: 'damaged' } },
        { id: 3, step: 'other', state: 'processing' as const, error: null },
      ],
    };
    expect(photoCount(job, step)).toBe(2);
    expect(photoCount(null, step)).toBe(1);
  });

  it('keeps the preview of each new photo by its queue id', () => {
    const before = { processing_photos: [{ id: 7, step: 's', state: 'processing' as const, error: null }] };
    const after = { processing_photos: [...before.processing_photos, { id: 8, step: 's', state: 'processing' as const, error: null }] };
    rememberPreview(before, after, new Uint8Array([1]), () => 'blob:eight');
    expect(previewOf(8)).toBe('blob:eight');
    expect(previewOf(7)).toBeNull();
  });

  it('drops a stale look that comes back after a command answered', async () => {
    const processing = { processing_photos: [{ id: 1, step: 's', state: 'processing', error: null }] } as unknown as JobView;
    const applied: string[] = [];
    let answer: (j: JobView) => void = () => {};
    const watch = new QueueWatch(
      () => new Promise<JobView>((r) => (answer = r)),
      (j) => applied.push((j as unknown as { tag: string }).tag),
      5,
    );
    watch.seen(processing);
    await new Promise((r) => setTimeout(r, 20)); // the look is on its way
    watch.seen({ ...processing, tag: 'command' } as unknown as JobView); // a command answered meanwhile
    answer({ processing_photos: [], tag: 'stale' } as unknown as JobView);
    await new Promise((r) => setTimeout(r, 20));
    expect(applied).not.toContain('stale');
    watch.stop();
  });
});
