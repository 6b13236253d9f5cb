// The fake backend's part for the outcomes a real day has besides the planned visit: not home /
// no entry at the door (closes the visit), the customer's reschedule request. The same rules as
// crates/rules `JobContext::check` (a template's `entry_step`; nothing at the door after entry).
// FOR VITEST AND THE DEV-ONLY PREVIEW PAGE ONLY, like fake.ts.
import type { JobKind, JobView, Lang, Localized, StepView } from './types';
import type { BackendError, NoEntryInput, RescheduleInput, Resolution } from './args';
import homeRepair from './fake-templates/home_repair.v1.json';

/** The entry step of each job kind's template, where it names one. */
const ENTRY_STEP: Partial<Record<JobKind, string>> = {
  home_repair: (homeRepair as { entry_step?: string }).entry_step,
};

type OutcomeFields = Pick<JobView, 'closed_as' | 'can_record_no_entry' | 'no_entry' | 'reschedule'>;

/** What the outcome rules need of a fake job. */
export interface OutcomeJob {
  summary: { id: string; kind: JobKind; closed: boolean; cancelled: boolean; revoked: boolean };
  steps: StepView[];
}

const fail = (code: BackendError['code'], text: Localized, lang: Lang): BackendError => ({ code, message: lang === 'en' ? text.en : text.zh });

export class FakeOutcomes {
  private byJob = new Map<string, Omit<OutcomeFields, 'can_record_no_entry'>>();

  private entered(job: OutcomeJob): boolean | null {
    const entry = ENTRY_STEP[job.summary.kind];
    if (!entry) return null;
    return job.steps.some((s) => s.id === entry && (s.status === 'done' || s.status === 'skipped'));
  }

  fields(job: OutcomeJob): OutcomeFields {
    const mine = this.byJob.get(job.summary.id) ?? { closed_as: null, no_entry: null, reschedule: null };
    const open = !job.summary.closed && !job.summary.cancelled && !job.summary.revoked;
    return { ...structuredClone(mine), closed_as: job.summary.closed ? (mine.closed_as ?? 'resolved') : null, can_record_no_entry: open && !mine.no_entry && this.entered(job) === false };
  }

  /** How a job closed through `close_job` (resolved or follow-up). */
  closedAs(job: OutcomeJob, resolution: Resolution): void {
    const mine = this.byJob.get(job.summary.id) ?? { closed_as: null, no_entry: null, reschedule: null };
    this.byJob.set(job.summary.id, { ...mine, closed_as: resolution });
  }

  /** Checks and records not home at the door; answers the event kinds recorded, in order. */
  closeNotHome(job: OutcomeJob, input: NoEntryInput, lang: Lang, now: string): string[] {
    const entered = this.entered(job);
    if (entered === null) throw fail('record_not_allowed', { zh: '此类工单不能记录未能入户', en: 'This job kind takes no no-entry record' }, lang);
    if (entered) throw fail('record_not_allowed', { zh: '已记录入户，不能再记录“不在家/未能入户”。', en: 'The entry is already recorded' }, lang);
    if (job.summary.closed || job.summary.cancelled) throw fail('job_not_active', { zh: '该工单已完成，不能再记录。', en: 'The job takes no more records' }, lang);
    if (!input.reason.trim()) throw fail('decline_reason_missing', { zh: '请填写原因', en: 'Give the reason' }, lang);
    if (input.witness && !input.witness.name.trim()) throw fail('invalid_value', { zh: '见证人需要姓名', en: 'A witness needs a name' }, lang);
    const kinds: string[] = [];
    const mine = { closed_as: 'no_entry' as const, no_entry: { outcome: input.outcome, reason: input.reason.trim(), door_photo: input.door_photo, witness: input.witness ?? null, at: now }, reschedule: this.byJob.get(job.summary.id)?.reschedule ?? null };
    if (input.reschedule) {
      this.checkWindow(input.reschedule, lang);
      mine.reschedule = { ...input.reschedule, note: input.reschedule.note ?? '', at: now };
      kinds.push('reschedule_requested');
    }
    this.byJob.set(job.summary.id, mine);
    job.summary.closed = true;
    for (const s of job.steps) if (s.status === 'current') s.status = 'pending';
    return [...kinds, 'no_entry_recorded', 'job_closed'];
  }

  /** The customer's request for another appointment, at the door or by phone. */
  requestReschedule(job: OutcomeJob, input: RescheduleInput, lang: Lang, now: string): void {
    const mine = this.byJob.get(job.summary.id) ?? { closed_as: null, no_entry: null, reschedule: null };
    if (this.entered(job) === null) throw fail('record_not_allowed', { zh: '此类工单不能改约', en: 'This job kind takes no reschedule request' }, lang);
    if (job.summary.cancelled || (job.summary.closed && mine.closed_as !== 'no_entry')) throw fail('job_not_active', { zh: '该工单已完成，不能再记录。', en: 'The job takes no more records' }, lang);
    this.checkWindow(input, lang);
    this.byJob.set(job.summary.id, { ...mine, reschedule: { ...input, note: input.note ?? '', at: now } });
  }

  private checkWindow(input: RescheduleInput, lang: Lang) {
    if (!(Date.parse(input.preferred.end) > Date.parse(input.preferred.start))) {
      throw fail('invalid_value', { zh: '期望时段的结束早于开始', en: 'The preferred window ends before it starts' }, lang);
    }
  }
}
