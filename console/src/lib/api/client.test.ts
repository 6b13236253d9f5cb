import { describe, expect, it } from 'vitest';
import { Api, ApiError } from './client';

/** An Api over a fake fetch that answers `answer` and records what was sent. */
function fake(answer: { status: number; body: unknown }) {
  const sent: { url: string; body: unknown; auth: string | null }[] = [];
  let setupRequired = 0;
  let signedOut = 0;
  const api = new Api(
    {
      tokens: () => ({ access: 'a', refresh: 'r' }),
      refreshed: () => {},
      signedOut: () => signedOut++,
      reachable: () => {},
      setupRequired: () => setupRequired++,
    },
    '',
    async (url, init) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      sent.push({
        url: String(url),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
        auth: headers.authorization ?? null,
      });
      return new Response(JSON.stringify(answer.body), { status: answer.status });
    },
  );
  return { api, sent, setupRequired: () => setupRequired, signedOut: () => signedOut };
}

describe('staff sign-in with a second factor', () => {
  it('sends the code only when given, and reports totp_required as an ApiError', async () => {
    const { api, sent } = fake({ status: 401, body: { code: 'totp_required', message: 'send the code' } });
    const err = await api.staffLogin('zhaomin', 'pw').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('totp_required');
    expect(sent[0].body).toEqual({ username: 'zhaomin', password: 'pw' });
    await api.staffLogin('zhaomin', 'pw', '123456').catch(() => {});
    expect(sent[1].body).toEqual({ username: 'zhaomin', password: 'pw', totp: '123456' });
    expect(sent[1].auth, 'sign-in sends no token').toBeNull();
  });

  it('tells the session when the office allows only the second-factor setup', async () => {
    const { api, setupRequired } = fake({
      status: 403,
      body: { code: 'totp_setup_required', message: 'set up two-step verification first' },
    });
    await expect(api.get('/api/v1/board')).rejects.toBeInstanceOf(ApiError);
    expect(setupRequired()).toBe(1);
  });

  it('does not for another refusal', async () => {
    const { api, setupRequired } = fake({ status: 403, body: { code: 'forbidden', message: 'no' } });
    await expect(api.get('/api/v1/users')).rejects.toBeInstanceOf(ApiError);
    expect(setupRequired()).toBe(0);
  });

  it('keeps the session when a code is refused (a wrong or spent code is not a dead session)', async () => {
    for (const code of ['bad_totp', 'totp_used']) {
      const { api, signedOut } = fake({ status: 401, body: { code, message: 'no' } });
      await expect(api.post('/api/v1/auth/totp/confirm', { code: '000000' })).rejects.toBeInstanceOf(ApiError);
      expect(signedOut(), code).toBe(0);
    }
    const { api, signedOut } = fake({ status: 401, body: { code: 'bad_token', message: 'gone' } });
    await expect(api.get('/api/v1/board')).rejects.toBeInstanceOf(ApiError);
    expect(signedOut(), 'a dead token still signs out').toBeGreaterThan(0);
  });
});
