import { EventEmitter } from 'node:events';

/**
 * How a change made in one process reaches every other process: a fire-and-forget notice telling
 * receivers to reload. The notice carries no state (the database is the truth), so a lost message costs
 * at most one periodic-reload interval, never a wrong answer forever.
 */
export interface FlagChangeNotice {
  readonly environment: string;
  readonly name: string;
  readonly action: string;
}

export interface FlagChangeBus {
  publish(notice: FlagChangeNotice): Promise<void>;
  /**
   * `onNotice` for each notice; `onResubscribed` after a reconnect, when notices may have been missed
   * (receivers reload). Returns once subscribed.
   */
  subscribe(onNotice: (notice: FlagChangeNotice) => void, onResubscribed?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** In-process bus: every MemoryFlagChangeBus sharing one `hub` sees the others' notices. */
export class MemoryFlagChangeBus implements FlagChangeBus {
  private listener: ((notice: FlagChangeNotice) => void) | undefined;

  constructor(private readonly hub: EventEmitter = new EventEmitter()) {}

  async publish(notice: FlagChangeNotice): Promise<void> {
    this.hub.emit('notice', notice);
  }

  async subscribe(onNotice: (notice: FlagChangeNotice) => void): Promise<void> {
    this.listener = onNotice;
    this.hub.on('notice', onNotice);
  }

  async close(): Promise<void> {
    if (this.listener) this.hub.off('notice', this.listener);
    this.listener = undefined;
  }
}

export function parseNotice(message: string): FlagChangeNotice | undefined {
  try {
    const value = JSON.parse(message) as Partial<FlagChangeNotice>;
    if (typeof value.environment === 'string' && typeof value.name === 'string') {
      return { environment: value.environment, name: value.name, action: String(value.action ?? '') };
    }
  } catch {
    // a foreign or truncated message: ignore it, the periodic reload covers us
  }
  return undefined;
}
