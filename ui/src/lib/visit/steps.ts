// Step navigation for a visit: one step per screen, in the template's order. The backend decides
// which step is current; the UI lets the technician look back at finished steps but never forward
// past the current one (the order is the service standard's).
import type { JobView, StepView } from '../backend/types';

export function findStep(job: JobView, stepId: string): StepView | undefined {
  return job.steps.find((s) => s.id === stepId);
}

/** The step to show for a requested id: that step if it is reachable, else the current one (or the last when all are done). */
export function stepToShow(job: JobView, requested: string | null): StepView | null {
  if (job.steps.length === 0) return null;
  const current = job.current_step ? findStep(job, job.current_step) : undefined;
  if (requested) {
    const step = findStep(job, requested);
    if (step && step.status !== 'pending') return step;
  }
  return current ?? job.steps[job.steps.length - 1];
}

export interface Neighbours {
  prev: StepView | null;
  /** The following step, only when it can be opened (not pending). */
  next: StepView | null;
}

export function neighbours(job: JobView, stepId: string): Neighbours {
  const i = job.steps.findIndex((s) => s.id === stepId);
  if (i < 0) return { prev: null, next: null };
  const after = job.steps[i + 1];
  return {
    prev: i > 0 ? job.steps[i - 1] : null,
    next: after && after.status !== 'pending' ? after : null,
  };
}

/** Steps finished (done or skipped with a reason) out of all. */
export function stepProgress(steps: readonly StepView[]): { finished: number; total: number } {
  return { finished: steps.filter((s) => s.status === 'done' || s.status === 'skipped').length, total: steps.length };
}

/** All steps finished: the visit can go to the closing screen. */
export function allStepsFinished(job: JobView): boolean {
  return job.current_step === null && job.steps.every((s) => s.status === 'done' || s.status === 'skipped');
}

export const MIN_SKIP_REASON = 2;

/** A skipped step needs a reason (the standard does not allow silent skipping). */
export function skipReasonValid(reason: string): boolean {
  return reason.trim().length >= MIN_SKIP_REASON;
}

/** A step with nothing to type, photograph or sign can be confirmed from an overview screen. */
export function confirmsInline(step: StepView): boolean {
  return step.evidence.every((e) => e.type === 'confirm' || e.type === 'checkpoints');
}
