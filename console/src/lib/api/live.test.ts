import { describe, expect, it } from 'vitest';
import { reconnectDelay, SseParser } from './live';

describe('server-sent events', () => {
  it('yields each event once its blank line arrives, across chunk boundaries', () => {
    const p = new SseParser();
    expect(p.push('data: {"kind":"job_')).toEqual([]);
    expect(p.push('changed","job_id":"a"}\n')).toEqual([]);
    expect(p.push('\ndata: {"kind":"resync"}\n\n')).toEqual(['{"kind":"job_changed","job_id":"a"}', '{"kind":"resync"}']);
  });
  it('skips keep-alive comments and other fields, and accepts CRLF', () => {
    const p = new SseParser();
    expect(p.push(':\n\n: keep-alive\n\nevent: message\r\nid: 7\r\ndata:{"kind":"resync"}\r\n\r\n')).toEqual(['{"kind":"resync"}']);
  });
  it('joins multi-line data with newlines', () => {
    expect(new SseParser().push('data: a\ndata: b\n\n')).toEqual(['a\nb']);
  });
});

describe('reconnect', () => {
  it('backs off from 1 s to at most 5 s, so the board is back within seconds of the office', () => {
    expect([0, 1, 2, 3, 10].map(reconnectDelay)).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
