// The fake backend's photo queue, as heatcrew-core's `store::intake` shows it: a photo taken is
// listed in `processing_photos` for `delayMs` and counts for its step meanwhile; the step's
// `photos` hold it once "processed". The fake never fails a photo (the core's failed state and the
// retake are tested against the real core: crates/core/tests/core/photo_queue.rs).
import type { AttachmentRef, JobView, ProcessingPhotoView, StepView } from './types';

interface Queued {
  job: string;
  sha: string;
  view: ProcessingPhotoView;
}

export class FakePhotoQueue {
  delayMs = 0;
  private queued: Queued[] = [];
  private nextId = 1;

  take(job: string, step: string, ref: AttachmentRef): void {
    const q: Queued = { job, sha: ref.sha256, view: { id: this.nextId++, step, state: 'processing', error: null } };
    this.queued.push(q);
    setTimeout(() => {
      this.queued = this.queued.filter((x) => x !== q);
    }, this.delayMs);
  }

  /** The steps with photos still processing left out of `photos`. */
  recorded(job: string, steps: StepView[]): StepView[] {
    const waiting = new Set(this.queued.filter((q) => q.job === job).map((q) => q.sha));
    if (!waiting.size) return steps;
    return steps.map((s) => ({ ...s, photos: s.photos.filter((p) => !waiting.has(p.sha256)) }));
  }

  fields(job: string): Pick<JobView, 'processing_photos' | 'held_records'> {
    return { processing_photos: this.queued.filter((q) => q.job === job).map((q) => ({ ...q.view })), held_records: 0 };
  }
}
