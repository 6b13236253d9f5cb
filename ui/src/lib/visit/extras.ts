// Records a job allows besides its steps (the templates' `incidents`), placed on the step where the
// technician meets them: damage at the repair, findings at the inspection.
import type { JobKind } from '../backend/types';

export interface StepExtras {
  damage: boolean;
  networkDamage: boolean;
  findings: boolean;
}

const none: StepExtras = { damage: false, networkDamage: false, findings: false };

export function stepExtras(kind: JobKind, stepId: string): StepExtras {
  if (kind === 'home_repair' && stepId === 'diagnose_repair') return { ...none, damage: true, networkDamage: true };
  if (kind === 'emergency_repair' && stepId === 'repair') return { ...none, networkDamage: true };
  if (kind === 'heat_theft_inspection' && stepId === 'inspect') return { ...none, findings: true };
  return none;
}
