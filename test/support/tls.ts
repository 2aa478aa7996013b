/**
 * A certificate for a local TLS upstream, made in the test (nothing checked in): a self-signed
 * certificate for 127.0.0.1 and localhost, which is its own certificate authority, so a client
 * trusts it by trusting that PEM (`--upstream-ca`).
 */
import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  cert: string;
}

export async function makeLocalCertificate(): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'autobatch test upstream' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
