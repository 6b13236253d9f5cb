// "What evidence is needed" in words, from a step's EvidenceSpec list (shown above the inputs).
import type { EvidenceSpec, Localized } from '../backend/types';

export interface Need {
  /** A backend label to show as is, when the need is a named field. */
  label?: Localized;
  /** An i18n key (with values), appended after the label. */
  key?: string;
  values?: Record<string, string | number>;
}

export function evidenceNeeds(specs: readonly EvidenceSpec[]): Need[] {
  const out: Need[] = [];
  for (const s of specs) {
    switch (s.type) {
      case 'photos':
        out.push({ label: s.label, key: 'needs.photos', values: { min: s.min } });
        break;
      case 'text':
        if (s.required) out.push({ label: s.label });
        break;
      case 'choice':
        if (s.required) out.push({ label: s.label });
        break;
      case 'readings':
        out.push({ key: 'needs.readings', values: { n: s.specs.length } });
        break;
      case 'signature':
        out.push({ key: 'needs.signature' });
        break;
      case 'rating':
        out.push({ key: 'needs.rating' });
        break;
      case 'contact_card':
      case 'confirm':
        break;
    }
  }
  return out;
}
