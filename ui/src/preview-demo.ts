// DEV-ONLY (preview.html): puts the fake backend's demo day into the state a screenshot needs.
//   ?photos=1                       two stand-in photos on the half-done leak repair
//   ?ff=<jobId>:<stepId>            fast-forward a job to a step (earlier steps marked done)
//   ?rated=1                        with ff: the customer has already given a rating
//   ?others=<jobId>                 that job's outbox records are another phone user's (a handover)
import type { FakeBackend } from './lib/backend/fake';

const picture = (bg: string, label: string) =>
  new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="${bg}"/>` +
      `<circle cx="250" cy="60" r="30" fill="#fff8"/><rect x="30" y="120" width="260" height="80" rx="8" fill="#0004"/>` +
      `<text x="40" y="170" font-size="34" fill="#fff" font-family="sans-serif">${label}</text></svg>`,
  );

export async function prepareDemo(backend: FakeBackend, q: URLSearchParams): Promise<void> {
  if (q.get('photos') === '1') {
    await backend.addPhoto('job-repair-2', 'diagnose_repair', picture('#8a5a2b', 'before'));
    await backend.addPhoto('job-repair-2', 'diagnose_repair', picture('#2b6a8a', 'after'));
  }
  const others = q.get('others');
  if (others) backend.handedOver(others);
  const ff = q.get('ff');
  if (ff) {
    const [jobId, stepId] = ff.split(':');
    backend.fastForward(jobId, stepId);
    if (q.get('rated') === '1') await backend.giveRating(jobId, 5, '师傅很专业，鞋套也穿了，谢谢！');
  }
}
