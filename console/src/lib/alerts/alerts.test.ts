import { describe, expect, it } from 'vitest';
import type { ConsoleAlert } from '../api/types';
import { applyAlertEvent, mergeFetched, openAlerts } from './alerts';

function alert(id: string, raised_at: string, acked = false): ConsoleAlert {
  return {
    id,
    kind: 'accident_reported',
    job_id: `job-${id}`,
    job_title: '事故/隐患上报：井盖缺失',
    place: '幸福路12号',
    lat: null,
    lon: null,
    description: '井盖缺失',
    measures_taken: '设置围挡',
    injuries: false,
    reporter: { id: 'u1', display_name: '张师傅', badge_no: 'RX-007' },
    reported_at: raised_at,
    raised_at,
    acknowledged: acked ? { by: { id: 'u2', display_name: '李调度', badge_no: '' }, at: raised_at } : null,
  };
}

describe('urgent alerts', () => {
  it('adds a raised alert once, however often the office repeats it', () => {
    const a = alert('a', '2024-01-01T08:00:00Z');
    let list = applyAlertEvent([], { kind: 'alert_raised', alert: a });
    list = applyAlertEvent(list, { kind: 'alert_raised', alert: a });
    expect(list.map((x) => x.id), 'a replayed push must not show a second banner').toEqual(['a']);
  });

  it('an acknowledgement closes the banner and a late repeat never reopens it', () => {
    const a = alert('a', '2024-01-01T08:00:00Z');
    let list = applyAlertEvent([], { kind: 'alert_raised', alert: a });
    list = applyAlertEvent(list, { kind: 'alert_acknowledged', alert: alert('a', a.raised_at, true) });
    expect(openAlerts(list), 'acknowledged: no banner').toEqual([]);
    list = applyAlertEvent(list, { kind: 'alert_raised', alert: a });
    expect(openAlerts(list), 'a replayed alert_raised after the ack stays closed').toEqual([]);
  });

  it('shows the longest waiting first and ignores other live events', () => {
    const list = [alert('late', '2024-01-01T09:00:00Z'), alert('early', '2024-01-01T08:00:00Z'), alert('done', '2024-01-01T07:00:00Z', true)];
    expect(openAlerts(list).map((a) => a.id), 'open alerts, oldest first').toEqual(['early', 'late']);
    expect(applyAlertEvent(list, { kind: 'job_changed', job_id: 'x' }), 'a job change is not an alert').toBe(list);
  });

  it('a list fetched before an acknowledgement was heard keeps the acknowledgement', () => {
    const fetched = [alert('a', '2024-01-01T08:00:00Z')];
    const current = [alert('a', '2024-01-01T08:00:00Z', true)];
    expect(openAlerts(mergeFetched(fetched, current)), 'a stale list must not reopen an acknowledged alert').toEqual([]);
  });
});
