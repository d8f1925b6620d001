import { InvalidOptionError } from '../errors.js';
import { QUEUE_PATTERN } from '../jobs/worker-options.js';

/** A queue name, or a name and its weight (a positive integer, as in Sidekiq's `-q critical,5`). */
export type QueueSpec = string | readonly [queue: string, weight: number];

/**
 * The order in which one fetch takes a worker's queues (the fetch takes all of the first queue's ready jobs it has
 * room for before it looks at the next):
 * - plain names: fair rotation, each queue first in turn;
 * - with weights: a weighted shuffle per fetch, so a queue comes first with a chance proportional to its weight
 *   (Sidekiq's weighted queues); a name without a weight weighs 1;
 * - `strict`: always the order given, so a later queue runs only while every earlier one is empty.
 */
export class QueueOrder {
  readonly queues: readonly string[];
  private readonly weights: readonly number[] | undefined;
  private turn = 0;

  constructor(
    specs: readonly QueueSpec[],
    private readonly strict = false,
    private readonly random: () => number = Math.random,
  ) {
    if (!Array.isArray(specs) || specs.length === 0) throw invalid(specs, 'needs at least one queue');
    const names = specs.map((spec) => (typeof spec === 'string' ? spec : Array.isArray(spec) ? spec[0] : undefined));
    if (names.some((name) => typeof name !== 'string' || !QUEUE_PATTERN.test(name))) throw invalid(specs, 'takes queue names of letters, digits, _ . or -, or [name, weight] pairs');
    const weighted = specs.some((spec) => typeof spec !== 'string');
    if (!weighted) {
      this.queues = [...new Set(names as string[])];
      return;
    }
    if (new Set(names).size !== names.length) throw invalid(specs, 'names each weighted queue once');
    this.queues = names as string[];
    if (strict) throw invalid(specs, 'takes weights or strict: true, not both (strict order ignores weights)');
    const weights = specs.map((spec) => (typeof spec === 'string' ? 1 : spec[1]));
    if (specs.some((spec) => typeof spec !== 'string' && spec.length !== 2) || weights.some((w) => !Number.isInteger(w) || w < 1)) {
      throw invalid(specs, 'takes weights that are integers >= 1, as in [["critical", 5], ["default", 2]]');
    }
    this.weights = weights;
  }

  get mode(): 'rotation' | 'weighted' | 'strict' {
    return this.strict ? 'strict' : this.weights ? 'weighted' : 'rotation';
  }

  /** The queues in the order the next fetch should take them. */
  next(): string[] {
    if (this.strict || this.queues.length === 1) return [...this.queues];
    if (!this.weights) {
      const start = this.turn;
      this.turn = (this.turn + 1) % this.queues.length;
      return this.queues.map((_, i) => this.queues[(start + i) % this.queues.length]!);
    }
    return this.weightedShuffle(this.weights);
  }

  /** Draw without replacement, each draw proportional to the weights left (so the first is proportional to weight). */
  private weightedShuffle(weights: readonly number[]): string[] {
    const left = this.queues.map((queue, i) => ({ queue, weight: weights[i]! }));
    let total = left.reduce((sum, q) => sum + q.weight, 0);
    const order: string[] = [];
    while (left.length > 0) {
      let point = this.random() * total;
      let i = 0;
      while (i < left.length - 1 && point >= left[i]!.weight) point -= left[i++]!.weight;
      const [drawn] = left.splice(i, 1);
      order.push(drawn!.queue);
      total -= drawn!.weight;
    }
    return order;
  }
}

function invalid(specs: unknown, what: string): InvalidOptionError {
  return new InvalidOptionError(`worker({ queues }) ${what}; got ${JSON.stringify(specs)}.`);
}
