import { connect, createServer, type Socket } from 'node:net';

export interface ReplyDroppingProxy {
  readonly url: string;
  /** Connections made through the proxy so far (a lost reply makes the client reconnect). */
  readonly connections: number;
  /** Lose the reply to the next command whose bytes contain `marker`: it reaches Redis, its reply never comes back. */
  dropReplyTo(marker: string): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a Redis server, for the one fault a kill cannot aim at: a command that ran while its
 * reply was lost. Once armed, it forwards the marked command, then closes the client's connection instead of
 * passing the reply on, as a network failure after the write would.
 */
export async function startReplyDroppingProxy(redisPort: number): Promise<ReplyDroppingProxy> {
  let marker: string | undefined;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    const upstream = connect(redisPort, '127.0.0.1');
    let dropNext = false;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => (sockets.delete(socket), end()));
      socket.on('error', end);
    }
    client.on('data', (data: Buffer) => {
      if (marker !== undefined && data.includes(marker)) {
        marker = undefined;
        dropNext = true;
      }
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => (dropNext ? end() : client.write(data)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    dropReplyTo: (text) => (marker = text),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
