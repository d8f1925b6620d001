/**
 * The event emitter an OpenFeature provider exposes as `provider.events`. The SDK only calls
 * addHandler / removeHandler / removeAllHandlers / getHandlers on it, so this small structural version keeps
 * `@openfeature/server-sdk` a peer dependency that lagless's runtime never imports.
 */
export type ProviderEventName = 'PROVIDER_READY' | 'PROVIDER_ERROR' | 'PROVIDER_CONFIGURATION_CHANGED' | 'PROVIDER_STALE';
export type ProviderEventHandler = (details?: Record<string, unknown>) => unknown;

export class ProviderEventEmitter {
  private readonly handlers = new Map<string, Set<ProviderEventHandler>>();

  addHandler(event: string, handler: ProviderEventHandler): void {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler);
    this.handlers.set(event, set);
  }

  removeHandler(event: string, handler: ProviderEventHandler): void {
    this.handlers.get(event)?.delete(handler);
  }

  removeAllHandlers(event?: string): void {
    if (event === undefined) this.handlers.clear();
    else this.handlers.delete(event);
  }

  getHandlers(event: string): ProviderEventHandler[] {
    return [...(this.handlers.get(event) ?? [])];
  }

  /** A throwing or rejecting handler must not break the flag reload that triggered the event. */
  emit(event: ProviderEventName, details: Record<string, unknown> = {}): void {
    for (const handler of this.getHandlers(event)) {
      try {
        void Promise.resolve(handler(details)).catch(() => undefined);
      } catch {
        // see above
      }
    }
  }
}
