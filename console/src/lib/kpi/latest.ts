/**
 * Keeps only the latest of overlapping requests: `run(fetch)` resolves to the answer when no newer
 * `run` started meanwhile, and to `undefined` when one did (a slow answer to an earlier question
 * must not replace the answer to the one the user asked last).
 */
export function latestOnly() {
  let asked = 0;
  return {
    async run<T>(fetch: () => Promise<T>): Promise<{ value: T } | undefined> {
      const mine = ++asked;
      const value = await fetch();
      return mine === asked ? { value } : undefined;
    },
    /** Whether `run` calls started after this one's number (for errors and busy flags). */
    isLatest(n: number): boolean {
      return n === asked;
    },
    get count(): number {
      return asked;
    },
  };
}
