// Who is signed in (kept in sessionStorage: closing the tab signs out), the API client bound to it,
// idle sign-out, and whether the office is reachable (the connection banner).
import { Api, type Tokens } from '../api/client';
import type { LoginResponse, Role, UserInfo } from '../api/types';
import type { MessageKey } from '../i18n/index.svelte';

const KEY = 'heatcrew.console.session';
/** Signed out after this long without a key press, click or touch. */
export const IDLE_MINUTES = 30;

export const CONSOLE_ROLES: readonly Role[] = ['dispatcher', 'admin'];

interface Stored {
  access: string;
  refresh: string;
  user: UserInfo;
  /** The office answered `totp_setup_required`: this session may only set up a second factor. */
  setupOnly?: boolean;
}

function load(): Stored | null {
  try {
    const raw = globalThis.sessionStorage?.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

function save(s: Stored | null) {
  try {
    if (s) globalThis.sessionStorage?.setItem(KEY, JSON.stringify(s));
    else globalThis.sessionStorage?.removeItem(KEY);
  } catch {
    /* storage unavailable: the session lasts for this page */
  }
}

class Session {
  current = $state<Stored | null>(load());
  /** Why the last session ended, shown on the sign-in screen. */
  notice = $state<MessageKey | null>(null);
  /** False while requests cannot reach the office. */
  reachable = $state(true);
  private lastActivity = Date.now();

  readonly api = new Api({
    tokens: (): Tokens | null => (this.current ? { access: this.current.access, refresh: this.current.refresh } : null),
    refreshed: (r) => this.store(r),
    signedOut: () => this.end('app.session_ended'),
    reachable: (ok) => (this.reachable = ok),
    setupRequired: () => this.setSetupOnly(true),
  });

  get user(): UserInfo | null {
    return this.current?.user ?? null;
  }

  get isAdmin(): boolean {
    return this.current?.user.role === 'admin';
  }

  /** Only the second-factor setup is open to this session (until it is confirmed). */
  get setupOnly(): boolean {
    return this.current?.setupOnly === true;
  }

  setSetupOnly(on: boolean) {
    if (!this.current || this.setupOnly === on) return;
    this.current = { ...this.current, setupOnly: on };
    save(this.current);
  }

  store(r: LoginResponse) {
    const setupOnly = this.current?.user.id === r.user.id ? this.current.setupOnly : undefined;
    this.current = { access: r.access_token, refresh: r.refresh_token, user: r.user, setupOnly };
    save(this.current);
    this.notice = null;
    this.lastActivity = Date.now();
  }

  /** Sign out here and at the office (best effort: the token dies with its session anyway). */
  async signOut(notice: MessageKey | null = null) {
    if (this.current) this.api.post('/api/v1/auth/revoke').catch(() => {});
    this.end(notice);
  }

  private end(notice: MessageKey | null) {
    if (!this.current) return;
    this.current = null;
    save(null);
    this.notice = notice;
  }

  touch() {
    this.lastActivity = Date.now();
  }

  /** Sign out when idle for IDLE_MINUTES; call periodically. */
  checkIdle(now = Date.now()) {
    if (this.current && now - this.lastActivity >= IDLE_MINUTES * 60_000) {
      void this.signOut('app.idle_signed_out');
    }
  }
}

export const session = new Session();
