/**
 * Thrown (or returned by ctx.snooze) to put a job back after `delayMs` without counting a failure. The runtime
 * recognises it by class, so it never shows up as an error in logs or metrics.
 */
export class Snooze {
  constructor(readonly delayMs: number) {}
}
