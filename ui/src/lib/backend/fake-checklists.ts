// The fake backend's checklists (see fake.ts): the core's templates, copied.
import type { EvidenceSpec, JobKind, Localized } from './types';

interface StepTemplate {
  id: string;
  title: Localized;
  phrase: Localized | null;
  hint: Localized | null;
  evidence: EvidenceSpec[];
  skippable: boolean;
  when?: 'street_work';
  /** Skippable only once an earlier step's choice was one of `any_of` (as the core's rules). */
  skip_only_if?: { step: string; key: string; any_of: string[] };
}
interface Template {
  id: string;
  version: number;
  kind: JobKind;
  title: Localized;
  incidents: string[];
  steps: StepTemplate[];
}

// The checklists, copied from crates/rules/templates (the fake must walk the same steps as the core;
// templates.test.ts fails when the copies drift from the core's structure).
import acceptance from './fake-templates/acceptance_inspection.v2.json';
import emergency from './fake-templates/emergency_repair.v1.json';
import heatTheft from './fake-templates/heat_theft_inspection.v1.json';
import homeRepair from './fake-templates/home_repair.v1.json';
import patrol from './fake-templates/patrol_round.v1.json';

export const TEMPLATES: Record<JobKind, Template> = {
  home_repair: homeRepair as unknown as Template,
  heat_theft_inspection: heatTheft as unknown as Template,
  patrol_round: patrol as unknown as Template,
  acceptance_inspection: acceptance as unknown as Template,
  emergency_repair: emergency as unknown as Template,
};
