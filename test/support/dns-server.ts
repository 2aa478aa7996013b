/**
 * A tiny authoritative DNS server over UDP for tests of DNS discovery: it answers A and AAAA
 * queries from a table the test changes while the proxy runs, so replicas can be made to join
 * and leave without a cluster. Only what a stub resolver asks is handled (one question, no
 * compression in queries, EDNS records ignored); TTLs are 0 so nothing in between caches.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface TestDnsServer {
  /** host:port, for --dns-server. */
  readonly server: string;
  /** Addresses (IPv4 and IPv6 mixed) each name answers; a name missing here answers NXDOMAIN. */
  readonly records: Map<string, string[]>;
  /** While true, every query is answered SERVFAIL (a resolver that is down or broken). */
  failing: boolean;
  /** Queries answered so far, by name. */
  readonly queries: Map<string, number>;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const parts = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const groups =
    tail === undefined ? parts(head) : [...parts(head), ...new Array<string>(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

function answer(query: Buffer, records: Map<string, string[]>, failing: boolean, count: (name: string) => void): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  const questionEnd = offset + 5;
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(offset + 1);
  const name = labels.join('.').toLowerCase();
  count(name);
  const found = records.get(name);
  const rcode = failing ? 2 : found === undefined ? 3 : 0;
  const wanted = (found ?? []).filter((address) => (type === TYPE_A ? net.isIPv4(address) : type === TYPE_AAAA && net.isIPv6(address)));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, authoritative, recursion desired copied, recursion available, and the rcode.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rcode === 0 ? wanted.length : 0, 6);
  const answers = (rcode === 0 ? wanted : []).map((address) => {
    const data = type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(0, 6); // TTL
    record.writeUInt16BE(data.length, 10);
    return Buffer.concat([record, data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

export async function startDnsServer(records: Record<string, string[]> = {}): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const state: TestDnsServer = {
    server: '',
    records: new Map(Object.entries(records)),
    failing: false,
    queries: new Map(),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (query, from) => {
    const reply = answer(query, state.records, state.failing, (name) => state.queries.set(name, (state.queries.get(name) ?? 0) + 1));
    if (reply !== undefined) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  (state as { server: string }).server = `127.0.0.1:${socket.address().port}`;
  return state;
}
