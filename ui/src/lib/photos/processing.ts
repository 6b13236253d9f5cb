// Photos processed in the background (heatcrew-core `store::intake`): taking a photo answers at
// once with the photo listed in `processing_photos`; the step counts it, the visit goes on, and the
// record waits for its photos. Until a photo is processed, its preview is the camera's own bytes.
import type { JobView, ProcessingPhotoView } from '../backend/types';
import { thumbMime } from './thumbnails';

/** Anything that carries a job's queue (the job view; the fields the evidence checks get). */
type Queue = { processing_photos?: ProcessingPhotoView[] };

/** The job's photos not yet recorded that were taken for `step`. */
export function processingFor(job: Queue | null, step: string): ProcessingPhotoView[] {
  return (job?.processing_photos ?? []).filter((p) => p.step === step);
}

/** Photos a step has: recorded ones plus those still being processed (not failed ones). */
export function photoCount(job: Queue | null, step: { id: string; photos: unknown[] }): number {
  return step.photos.length + processingFor(job, step.id).filter((p) => p.state === 'processing').length;
}

/** Whether the job still has photos being processed (the screen looks again until it has not). */
export function stillProcessing(job: Queue | null): boolean {
  return (job?.processing_photos ?? []).some((p) => p.state === 'processing');
}

const previews = new Map<number, string>();

/** The preview of a photo being processed: the camera's bytes, kept by its queue id. */
export function previewOf(id: number): string | null {
  return previews.get(id) ?? null;
}

/** After `addPhoto` answered: the queue ids that are new since `before` show `bytes`. */
export function rememberPreview(
  before: Queue | null,
  after: Queue,
  bytes: Uint8Array,
  makeUrl: (b: Blob) => string | null = (b) => (typeof URL.createObjectURL === 'function' ? URL.createObjectURL(b) : null),
  retook?: number,
): void {
  const known = new Set((before?.processing_photos ?? []).map((p) => p.id));
  const fresh = (after.processing_photos ?? []).filter((p) => !known.has(p.id)).map((p) => p.id);
  if (retook !== undefined) fresh.push(retook);
  if (!fresh.length) return;
  const url = makeUrl(new Blob([bytes as BlobPart], { type: thumbMime(bytes.buffer as ArrayBuffer, 'image/jpeg') }));
  if (!url) return;
  for (const id of fresh) {
    const old = previews.get(id);
    if (old && old !== url && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(old);
    previews.set(id, url);
  }
}

/**
 * Looks at the job again while photos are processing, every `everyMs`; an answer that arrives
 * after the screen changed the job itself (a command answered) is dropped as stale.
 */
export class QueueWatch {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  constructor(
    private fetch: () => Promise<JobView>,
    private apply: (job: JobView) => void,
    private everyMs = 700,
  ) {}

  /** The screen's job changed (a command answered or a look came back). */
  seen(job: JobView | null): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!stillProcessing(job)) return;
    const mine = this.generation;
    this.timer = setTimeout(async () => {
      this.timer = null;
      try {
        const next = await this.fetch();
        if (mine === this.generation) this.apply(next);
      } catch {
        if (mine === this.generation) this.seen(job);
      }
    }, this.everyMs);
  }

  stop(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
