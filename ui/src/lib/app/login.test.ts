import { describe, expect, it } from 'vitest';
import { isOfficeAddress, loginProblems } from './login';

describe('sign-in form', () => {
  it('asks for every field', () => {
    expect(loginProblems('https://', '', '')).toEqual(['office', 'username', 'password']);
    expect(loginProblems('https://office.example.cn', 'zhangwei', 'pw')).toEqual([]);
  });
  it('accepts an office on a LAN address with a port, refuses other schemes', () => {
    expect(isOfficeAddress('http://127.0.0.1:8080')).toBe(true);
    expect(isOfficeAddress(' https://office.example.cn/heat ')).toBe(true);
    expect(isOfficeAddress('office.example.cn')).toBe(false);
    expect(isOfficeAddress('ftp://office')).toBe(false);
  });
  it('does not trim the password (spaces may be part of it)', () => {
    expect(loginProblems('https://o.cn', 'u', ' ')).toEqual([]);
  });
});
