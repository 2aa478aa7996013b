/**
 * A loopback port nothing listens on: taken from the system, then released at once. Tests use it
 * for an upstream that refuses connections, or one started on it later.
 */
import net from 'node:net';

export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
