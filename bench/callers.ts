/** Concurrent callers of the concurrent enqueue rows: each awaits its own enqueues, as request handlers of one process do. */
export const CALLERS = 20;

/** `count` calls of `call(i)` shared by `callers` loops, each awaiting its call before taking the next i. */
export async function callersLoop(count: number, callers: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: callers }, caller));
}
