// "What evidence is needed" in words, from a step's EvidenceSpec list (shown above the inputs).
import type { EvidenceSpec, Localized } from '../backend/types';

export interface NeedContext {
  photos: number;
  signed: boolean;
  rated: boolean;
  notices: number;
  /** Checkpoints of a patrol round not yet visited (done). */
  checkpointsOpen: number;
  text: Record<string, string>;
  states: Record<string, string>;
}

const nothingYet: NeedContext = { photos: 0, signed: false, rated: false, notices: 0, checkpointsOpen: 1, text: {}, states: {} };

export interface Need {
  /** Already recorded: shown ticked so the technician sees what is left. */
  met: boolean;
  /** A backend label to show as is, when the need is a named field. */
  label?: Localized;
  /** An i18n key (with values), appended after the label. */
  key?: string;
  values?: Record<string, string | number>;
}

export function evidenceNeeds(specs: readonly EvidenceSpec[], ctx: NeedContext = nothingYet): Need[] {
  const out: Need[] = [];
  for (const s of specs) {
    switch (s.type) {
      case 'photos':
        out.push({ met: ctx.photos >= s.min, label: s.label, key: 'needs.photos', values: { min: s.min } });
        break;
      case 'text':
        if (s.required) out.push({ met: !!ctx.text[s.key]?.trim(), label: s.label });
        break;
      case 'choice':
        if (s.required) out.push({ met: !!ctx.states[s.key], label: s.label });
        break;
      case 'readings':
        out.push({ met: false, key: 'needs.readings', values: { n: s.specs.length } });
        break;
      case 'signature':
        out.push({ met: ctx.signed, key: 'needs.signature' });
        break;
      case 'rating':
        out.push({ met: ctx.rated, key: 'needs.rating' });
        break;
      case 'notice':
        out.push({ met: ctx.notices > 0, key: 'needs.notice' });
        break;
      case 'checkpoints':
        out.push({ met: ctx.checkpointsOpen === 0, key: 'needs.checkpoints' });
        break;
      case 'contact_card':
      case 'confirm':
        break;
    }
  }
  return out;
}
