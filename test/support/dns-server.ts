import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** Answers A and SRV questions from these maps (mutable: tests change them); unknown names get NXDOMAIN. */
export interface DnsZone {
  a: Map<string, string[]>;
  srv: Map<string, SrvAnswer[]>;
  ttlSeconds: number;
}

const TYPE_A = 1;
const TYPE_SRV = 33;

/** A minimal UDP DNS responder on loopback, enough for node's Resolver (one question, no compression in names). */
export async function startDnsServer(zone: DnsZone): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    const { name, type, end } = readQuestion(message);
    queries.push(`${type === TYPE_A ? 'A' : type === TYPE_SRV ? 'SRV' : type} ${name}`);
    const answers = type === TYPE_A ? (zone.a.get(name) ?? []).map((ip) => aRecord(ip, zone.ttlSeconds)) : type === TYPE_SRV ? (zone.srv.get(name) ?? []).map((srv) => srvRecord(srv, zone.ttlSeconds)) : [];
    const known = zone.a.has(name) || zone.srv.has(name);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(message.readUInt16BE(0), 0); // id
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // response, recursion available; rcode 3 = NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, message.subarray(12, end), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function readQuestion(message: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  while (message[offset]! > 0) {
    const length = message[offset]!;
    labels.push(message.toString('ascii', offset + 1, offset + 1 + length));
    offset += length + 1;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), end: offset + 4 };
}

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
}

function record(type: number, ttlSeconds: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(ttlSeconds, 6);
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

function aRecord(ip: string, ttlSeconds: number): Buffer {
  return record(TYPE_A, ttlSeconds, Buffer.from(ip.split('.').map(Number)));
}

function srvRecord(srv: SrvAnswer, ttlSeconds: number): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(srv.priority, 0);
  fixed.writeUInt16BE(srv.weight, 2);
  fixed.writeUInt16BE(srv.port, 4);
  return record(TYPE_SRV, ttlSeconds, Buffer.concat([fixed, encodeName(srv.target)]));
}
