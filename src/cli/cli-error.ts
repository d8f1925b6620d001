import { LaglessError } from '../errors.js';

/** Bad CLI input: `lagless` prints the message as one line and exits 1. */
export class CliError extends LaglessError {
  constructor(message: string) {
    super('CLI', message);
  }
}

/** A listen() failure as one line naming the flag to change; other errors pass through. */
export function explainListenError(error: unknown, flag: string, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`${flag} ${port}: port ${port} on ${host} is already in use; pass another ${flag}, or stop what listens there.`);
  if (code === 'EACCES') return new CliError(`${flag} ${port}: not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); pass another ${flag}.`);
  return error;
}
