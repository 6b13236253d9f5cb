// The office API over fetch: bearer token from the session, `{code, message}` errors as ApiError,
// one refresh-and-retry on an expired access token, and a network failure reported as `offline`
// (the connection banner) rather than as a form error.
import type { ErrorBody, LoginResponse, StaffLoginRequest } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The request never reached the office (or its answer never came back). */
export class OfflineError extends Error {
  constructor() {
    super('offline');
  }
}

export interface Tokens {
  access: string;
  refresh: string;
}

export interface ApiHooks {
  /** The current tokens, or null when signed out. */
  tokens(): Tokens | null;
  /** A refresh gave new tokens. */
  refreshed(r: LoginResponse): void;
  /** The session is gone (revoked, expired refresh): sign out. */
  signedOut(reason: string): void;
  /** Connectivity changed (a request failed to reach the office, or one got through again). */
  reachable(ok: boolean): void;
  /** The session may only set up a second factor (an admin without one): show that screen. */
  setupRequired?(): void;
}

/** 401 answers that refuse what was sent (a password, an authenticator code), not the session: the
 * person stays signed in and the form says what was wrong. */
const NOT_SIGNED_OUT = new Set<string>(['bad_credentials', 'bad_totp', 'totp_used', 'totp_required']);

export class Api {
  private refreshing: Promise<boolean> | null = null;
  constructor(
    private readonly hooks: ApiHooks,
    private readonly base = '',
    private readonly fetcher: typeof fetch = (...a) => globalThis.fetch(...a),
  ) {}

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('PUT', path, body);
  }

  /** Raw bytes (attachments), with the bearer token an <img> could not send. */
  async blob(path: string): Promise<Blob> {
    const resp = await this.send('GET', path);
    return resp.blob();
  }

  /** A streaming GET (server-sent events); the caller reads the body. */
  stream(path: string, signal: AbortSignal): Promise<Response> {
    return this.send('GET', path, undefined, signal);
  }

  /** Sign in as office staff; no token needed. `totp` once the office answered `totp_required`. */
  async staffLogin(username: string, password: string, totp?: string): Promise<LoginResponse> {
    const body: StaffLoginRequest = { username, password };
    if (totp) body.totp = totp;
    const resp = await this.raw('POST', '/api/v1/auth/staff-login', null, body);
    if (!resp.ok) throw await toError(resp);
    return resp.json();
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const resp = await this.send(method, path, body);
    if (resp.status === 204) return undefined as T;
    return resp.json();
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let resp = await this.raw(method, path, this.hooks.tokens()?.access ?? null, body, signal);
    if (resp.status === 401) {
      const err = await toError(resp.clone());
      if (err.code === 'token_expired' && (await this.refresh())) {
        resp = await this.raw(method, path, this.hooks.tokens()?.access ?? null, body, signal);
      } else if (!NOT_SIGNED_OUT.has(err.code)) {
        this.hooks.signedOut(err.code);
      }
    }
    if (!resp.ok) {
      const err = await toError(resp);
      if (resp.status === 401 && !NOT_SIGNED_OUT.has(err.code)) this.hooks.signedOut(err.code);
      if (err.code === 'totp_setup_required') this.hooks.setupRequired?.();
      throw err;
    }
    return resp;
  }

  private async raw(
    method: string,
    path: string,
    access: string | null,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (access) headers.authorization = `Bearer ${access}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let resp: Response;
    try {
      resp = await this.fetcher(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      this.hooks.reachable(false);
      throw new OfflineError();
    }
    // A proxy's 502/503/504 means the office is not reachable either.
    this.hooks.reachable(resp.status < 502 || resp.status > 504);
    return resp;
  }

  /** One refresh at a time; true when new tokens were stored. */
  private refresh(): Promise<boolean> {
    const refreshToken = this.hooks.tokens()?.refresh;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      try {
        const resp = await this.raw('POST', '/api/v1/auth/refresh', null, { refresh_token: refreshToken });
        if (!resp.ok) return false;
        this.hooks.refreshed(await resp.json());
        return true;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

async function toError(resp: Response): Promise<ApiError> {
  try {
    const body = (await resp.json()) as ErrorBody;
    if (body && typeof body.code === 'string') return new ApiError(resp.status, body.code, body.message);
  } catch {
    /* not JSON: fall through */
  }
  return new ApiError(resp.status, 'http_' + resp.status, resp.statusText || 'error');
}
