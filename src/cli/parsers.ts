/** Value parsers for the CLI: each refuses a bad value with a message commander prints with the option's name. */
import { InvalidArgumentError } from 'commander';
import { parseRouteSpec, type CustomRouteSpec } from '../routes/custom.js';
import { dnsServerProblem } from '../upstream/discovery.js';

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a whole number of 1 or more.');
  }
  return number;
}

export function port(value: string): number {
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || number > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return number;
}

export function milliseconds(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('expected a number of milliseconds, 0 or more.');
  }
  return number;
}

/** A whole number of 1 or more, or "adaptive" (the default: learned by the dispatch policy). */
export function positiveIntegerOrAdaptive(value: string): number | 'adaptive' {
  if (value.trim().toLowerCase() === 'adaptive') return 'adaptive';
  try {
    return positiveInteger(value);
  } catch {
    throw new InvalidArgumentError('expected a whole number of 1 or more, or "adaptive".');
  }
}

/** A factor above 1, "off" (never bucket) or "adaptive" (the default: bucket only an upstream measured to pad). */
export function bucketFactor(value: string): number | 'off' | 'adaptive' {
  const word = value.trim().toLowerCase();
  if (word === 'off' || word === 'adaptive') return word;
  try {
    return ratioAboveOne(value);
  } catch {
    throw new InvalidArgumentError('expected a factor above 1 (such as 2), "off" or "adaptive".');
  }
}

export function ratioAboveOne(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 1) {
    throw new InvalidArgumentError('expected a factor above 1, such as 2.');
  }
  return number;
}

export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('expected an http:// or https:// URL.');
  }
  if (url.search !== '' || url.hash !== '') throw new InvalidArgumentError('the URL must not have a query or fragment.');
  return url.href;
}

/** Repeatable; one value (or AUTOBATCH_UPSTREAM) may also hold several URLs separated by commas. */
export function collectUpstreams(value: string, previous: string[] = []): string[] {
  const urls = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (urls.length === 0) throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080.');
  return [...previous, ...urls.map(httpUrl)];
}

/** Repeatable; one value (or AUTOBATCH_ROUTE) may also hold several rules separated by commas. */
export function collectRoutes(value: string, previous: CustomRouteSpec[] = []): CustomRouteSpec[] {
  const specs = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  try {
    return [...previous, ...specs.map(parseRouteSpec)];
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

/** Headers a call carries for the proxy's own reasons: forwarding a client's would break the call. */
const NOT_FORWARDABLE = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Repeatable; one value (or AUTOBATCH_FORWARD_HEADER) may also hold several names separated by commas. */
export function collectHeaderNames(value: string, previous: string[] = []): string[] {
  const names = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected a header name such as x-api-key.');
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new InvalidArgumentError(`"${name}" is not an HTTP header name.`);
    if (NOT_FORWARDABLE.has(name.toLowerCase())) {
      throw new InvalidArgumentError(`"${name}" describes the call itself, which the proxy writes; it cannot be forwarded.`);
    }
  }
  return [...previous, ...names.map((name) => name.toLowerCase())];
}

/** A DNS server as host:port (an IPv6 address in brackets: [::1]:53), or a bare address for port 53. */
export function dnsServer(value: string): string {
  const server = value.trim();
  const problem = server === '' ? 'empty' : dnsServerProblem(server);
  if (problem !== undefined) throw new InvalidArgumentError(`expected an address and port such as 10.96.0.10:53 (${problem}).`);
  return server;
}
