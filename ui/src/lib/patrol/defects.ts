// Categories and severities of network defects (管网缺陷), labels in the catalogues.
import type { Severity } from '../backend/args';

export const DEFECT_CATEGORIES = ['leak', 'insulation', 'valve', 'flooded_chamber', 'support', 'corrosion', 'other'] as const;
export const SEVERITIES: readonly Severity[] = ['minor', 'major', 'critical'];
