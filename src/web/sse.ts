import type { IncomingMessage, ServerResponse } from 'node:http';

const HEARTBEAT_MS = 15_000;

/** Server-sent events to every open page; a closed connection leaves on its own. */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  get size(): number {
    return this.clients.size;
  }

  /** Starts the stream and sends `first` events to this client only (the chart history). */
  open(req: IncomingMessage, res: ServerResponse, first: Array<{ event: string; data: unknown }>): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: pass events through as they come
    });
    res.write('retry: 3000\n\n');
    for (const { event, data } of first) res.write(frame(event, data));
    this.clients.add(res);
    const leave = (): void => void this.clients.delete(res);
    req.once('close', leave);
    res.once('close', leave);
    this.heartbeat ??= setInterval(() => this.comment('ping'), HEARTBEAT_MS).unref();
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data);
    for (const res of this.clients) res.write(text);
  }

  private comment(text: string): void {
    for (const res of this.clients) res.write(`: ${text}\n\n`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function frame(event: string, data: unknown): string {
  // JSON has no raw newlines, so one data line per event; BigInt lag values go out as numbers.
  return `event: ${event}\ndata: ${JSON.stringify(data, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n\n`;
}
