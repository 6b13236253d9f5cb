// The fake backend's share of the phone-hardware features (FOR VITEST AND THE PREVIEW PAGE ONLY, like
// fake.ts): station codes checked as the core checks them (heatcrew-rules checklist, normalized, a
// wrong one refused), the day's shift readiness (heatcrew-rules readiness), and the outage notices
// at a customer's door. The fake compares plain codes; the core compares digests.
import type { BackendError } from './args';
import type { CheckpointView, CodeEntry, JobKind, JobView, Lang, OutageNotice, StepView } from './types';

/** The codes posted at the demo stations (the office prints the real ones). */
export const STATION_CODES: Record<string, string> = {
  'cp-head': 'HC7K-3M9Q',
  'cp-ss1': 'HP2X-8R4T',
  'cp-ss2': 'WH5N-6J2D',
  'cp-pipe': 'PL9C-4V7B',
};

/** heatcrew_rules::readiness::CHECKS. */
export const READINESS_CHECKS = [
  { key: 'uniform', label: { zh: '工装整洁', en: 'Uniform on and tidy' } },
  { key: 'badge', label: { zh: '佩戴服务证', en: 'Service badge worn' } },
  { key: 'tools', label: { zh: '工具、材料带齐', en: 'Tools and parts packed' } },
  { key: 'ppe', label: { zh: '安全防护用具齐全', en: 'Protective equipment checked' } },
];

const NEEDS_READINESS: JobKind[] = ['home_repair', 'heat_theft_inspection', 'acceptance_inspection'];
const normalize = (c: string) => c.replace(/[\s-]+/g, '').toUpperCase();
const localDay = (ms: number) => new Date(ms).toLocaleDateString('sv');
const fail = (code: BackendError['code'], zh: string, en: string, lang: Lang): BackendError => ({ code, message: lang === 'en' ? en : zh });

export class FakeHardware {
  private readyDay: string | null = null;

  /** Marks presence at a checkpoint, or throws as the core refuses. */
  confirmCheckpoint(checkpoints: CheckpointView[], id: string, code: string, method: CodeEntry, at: string, lang: Lang): void {
    const cp = checkpoints.find((c) => c.id === id);
    if (!cp) throw fail('invalid_value', '没有这个检查点', 'No such checkpoint', lang);
    const want = STATION_CODES[id];
    if (!cp.has_code || !want) throw fail('checkpoint_has_no_code', '该站点还没有站点码,请联系调度。', 'This station has no code yet; ask dispatch.', lang);
    if (normalize(code) !== normalize(want)) {
      throw fail('wrong_checkpoint_code', '站点码不对,未记录到站。请扫描或输入贴在本站的站点码。', "That is not this station's code; nothing was recorded. Scan or type the code posted at the station.", lang);
    }
    cp.confirmed_at = at;
    cp.confirmed_by = method;
  }

  confirmReadiness(checks: string[], now: number, lang: Lang): void {
    const all = READINESS_CHECKS.every((c) => checks.includes(c.key)) && checks.length === READINESS_CHECKS.length;
    if (!all) throw fail('readiness_incomplete', '上岗前请确认工装、证件、工具和防护用具全部齐全。', 'Before the first job, check uniform, badge, tools and protective equipment.', lang);
    this.readyDay = localDay(now);
  }

  /** The job view's readiness and outages, as heatcrew-core `views::job` fills them. */
  view(kind: JobKind, address: string | null, steps: StepView[], now: number, outages: OutageNotice[]): Pick<JobView, 'readiness' | 'outages'> {
    const untouched = steps.every((s) => s.status === 'current' || s.status === 'pending');
    const needed = NEEDS_READINESS.includes(kind) && untouched && this.readyDay !== localDay(now);
    const atDoor = address ? outages.filter((o) => Date.parse(o.starts_at) <= now && address.includes(o.area)) : [];
    return { readiness: needed ? { checks: structuredClone(READINESS_CHECKS) } : null, outages: structuredClone(atDoor) };
  }
}
