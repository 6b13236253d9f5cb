import { describe, expect, it } from 'vitest';
import { stepExtras } from './extras';

describe('stepExtras', () => {
  it('offers damage records at the home repair, network damage at an emergency repair, findings at an inspection', () => {
    expect(stepExtras('home_repair', 'diagnose_repair')).toEqual({ damage: true, networkDamage: true, findings: false });
    expect(stepExtras('emergency_repair', 'repair')).toEqual({ damage: false, networkDamage: true, findings: false });
    expect(stepExtras('heat_theft_inspection', 'inspect').findings).toBe(true);
    expect(stepExtras('acceptance_inspection', 'inspect').findings, 'an acceptance inspection is not a heat-theft case').toBe(false);
    expect(stepExtras('home_repair', 'clean_up')).toEqual({ damage: false, networkDamage: false, findings: false });
  });
});
