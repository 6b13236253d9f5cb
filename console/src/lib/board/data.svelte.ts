// What the board shows, kept current: the day's jobs read back from the office (`GET /jobs`, then
// `GET /jobs/{id}` for each job of the day, a few at a time), the field users for the lanes, and one
// job refetched whenever a live event names it. After a (re)connect everything is refetched.
import { session } from '../session/session.svelte';
import type { Job, JobDetail, UserInfo } from '../api/types';
import { jobDay, localDay } from './board';

const PARALLEL = 6;

/** The day of a job from its list entry (appointment, else report time), as `jobDay` does. */
function listDay(j: Job): string | null {
  const at = j.window?.start ?? j.reported_at;
  return at ? localDay(new Date(at)) : null;
}

class BoardData {
  day = $state(localDay(new Date()));
  details = $state<Record<string, JobDetail>>({});
  users = $state<UserInfo[]>([]);
  loading = $state(false);
  error = $state<{ code: string; message: string } | null>(null);
  /** When the board last heard from the office. */
  updatedAt = $state<number | null>(null);
  private generation = 0;

  /** Refetch the users and every job of the day. */
  async loadAll() {
    const gen = ++this.generation;
    const day = this.day;
    this.loading = true;
    try {
      const [users, jobs] = await Promise.all([
        session.api.get<UserInfo[]>('/api/v1/users'),
        session.api.get<Job[]>('/api/v1/jobs'),
      ]);
      const wanted = jobs.filter((j) => {
        const d = listDay(j);
        return d === day || (d === null && j.status === 'open');
      });
      const fetched: Record<string, JobDetail> = {};
      let next = 0;
      const worker = async () => {
        while (next < wanted.length) {
          const j = wanted[next++];
          fetched[j.id] = await session.api.get<JobDetail>(`/api/v1/jobs/${j.id}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, wanted.length) }, worker));
      if (gen !== this.generation) return; // a newer load (another day) won
      this.users = users;
      this.details = fetched;
      this.error = null;
      this.updatedAt = Date.now();
    } catch (e) {
      if (gen === this.generation) this.error = errorOf(e);
    } finally {
      if (gen === this.generation) this.loading = false;
    }
  }

  /** Refetch one job a live event named (it may have moved onto or off this day). */
  async refreshJob(id: string) {
    try {
      const d = await session.api.get<JobDetail>(`/api/v1/jobs/${id}`);
      const day = jobDay(d);
      if (day === this.day || (day === null && d.job.status === 'open')) this.details[id] = d;
      else delete this.details[id];
      this.updatedAt = Date.now();
    } catch {
      /* the next resync or reconnect catches up */
    }
  }

  setDay(day: string) {
    if (day === this.day) return;
    this.day = day;
    this.details = {};
    void this.loadAll();
  }

  userById(id: string | null | undefined): UserInfo | undefined {
    return id ? this.users.find((u) => u.id === id) : undefined;
  }
}

export function errorOf(e: unknown): { code: string; message: string } {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return { code: String((e as { code: unknown }).code), message: String((e as { message: unknown }).message) };
  }
  return { code: 'offline', message: e instanceof Error ? e.message : String(e) };
}

export const board = new BoardData();
