/** Args of job i: a small object, the same shape for both systems. */
export const smallArgs = (i: number): { n: number } => ({ n: i });

/** `count` args split into batches of `batch`. */
export function argBatches(count: number, batch: number): { n: number }[][] {
  const batches: { n: number }[][] = [];
  for (let start = 0; start < count; start += batch) {
    const args: { n: number }[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) args.push(smallArgs(i));
    batches.push(args);
  }
  return batches;
}
