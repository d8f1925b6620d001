export type Middleware<Context, Result> = (context: Context, next: () => Promise<Result>) => Promise<Result>;

/**
 * Sidekiq-style ordered middleware chain. The enqueue path and the execute path are each one chain; dedup and
 * load balancing are entries in them, so applications can put their own before, after or instead of ours.
 */
export class MiddlewareChain<Context, Result> {
  private entries: { name: string; middleware: Middleware<Context, Result> }[] = [];

  add(name: string, middleware: Middleware<Context, Result>): this {
    this.assertNew(name);
    this.entries.push({ name, middleware });
    return this;
  }

  insertBefore(existing: string, name: string, middleware: Middleware<Context, Result>): this {
    this.assertNew(name);
    this.entries.splice(this.indexOf(existing), 0, { name, middleware });
    return this;
  }

  insertAfter(existing: string, name: string, middleware: Middleware<Context, Result>): this {
    this.assertNew(name);
    this.entries.splice(this.indexOf(existing) + 1, 0, { name, middleware });
    return this;
  }

  remove(name: string): this {
    this.entries = this.entries.filter((entry) => entry.name !== name);
    return this;
  }

  names(): string[] {
    return this.entries.map((entry) => entry.name);
  }

  /** A middleware that throws instead of returning a rejected promise is treated the same way. */
  run(context: Context, last: () => Promise<Result>): Promise<Result> {
    const entries = this.entries;
    const step = (index: number): Promise<Result> => {
      try {
        return index === entries.length ? last() : entries[index]!.middleware(context, () => step(index + 1));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return step(0);
  }

  private indexOf(name: string): number {
    const index = this.entries.findIndex((entry) => entry.name === name);
    if (index < 0) throw new Error(`No middleware named '${name}'; the chain has: ${this.names().join(', ') || '(none)'}`);
    return index;
  }

  private assertNew(name: string): void {
    if (this.entries.some((entry) => entry.name === name)) throw new Error(`Middleware '${name}' is already in the chain; remove it first to replace it.`);
  }
}
