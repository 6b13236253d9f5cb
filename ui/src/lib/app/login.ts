// Sign-in form rules, and the office address remembered between sign-ins (the password never is).
const OFFICE_KEY = 'heatcrew.office';

export type LoginField = 'office' | 'username' | 'password';

export function loginProblems(office: string, username: string, password: string): LoginField[] {
  const out: LoginField[] = [];
  if (!isOfficeAddress(office)) out.push('office');
  if (!username.trim()) out.push('username');
  if (!password) out.push('password');
  return out;
}

/** http(s)://host[:port][/path]: the office may run on a LAN address without TLS in a depot. */
export function isOfficeAddress(value: string): boolean {
  try {
    const u = new URL(value.trim());
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

export function lastOffice(): string {
  try {
    return globalThis.localStorage?.getItem(OFFICE_KEY) ?? 'https://';
  } catch {
    return 'https://';
  }
}

export function rememberOffice(office: string): void {
  try {
    globalThis.localStorage?.setItem(OFFICE_KEY, office);
  } catch {
    /* not kept: typed again next time */
  }
}
