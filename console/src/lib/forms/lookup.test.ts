import { describe, expect, it } from 'vitest';
import { lookupQuery } from './lookup';

describe('customer lookup while typing', () => {
  it('waits for 7 digits of the phone, ignoring spaces and dashes', () => {
    expect(lookupQuery('138 001', '')).toBeNull();
    expect(lookupQuery('138 0013', '')).toBe('phone=1380013');
    expect(lookupQuery('0451-8888 1234', '')).toBe('phone=045188881234');
  });
  it('falls back to the account number from 3 characters', () => {
    expect(lookupQuery('', 'RL')).toBeNull();
    expect(lookupQuery('12', ' RL-1 ')).toBe('account=RL-1');
    expect(lookupQuery('', '热力 1')).toBe('account=%E7%83%AD%E5%8A%9B%201');
  });
});
