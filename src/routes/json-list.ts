import { arrayElements } from '../json/scan.js';
import type { CallBody, InputText, ItemAnswer } from './rule.js';

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** Cuts a JSON list answer into its elements, or undefined unless it has exactly `count`. */
export function splitJsonList(body: Buffer, count: number): ItemAnswer[] | undefined {
  const ranges = arrayElements(body);
  if (ranges === undefined || ranges.length !== count * 2) return undefined;
  const answers: ItemAnswer[] = new Array<ItemAnswer>(count);
  for (let i = 0; i < count; i++) answers[i] = { bytes: body.subarray(ranges[2 * i]!, ranges[2 * i + 1]!) };
  return answers;
}

/** A JSON list of the given elements' bytes, unchanged. */
export function joinJsonList(answers: readonly ItemAnswer[]): Buffer {
  const chunks: Uint8Array[] = [OPEN];
  for (let i = 0; i < answers.length; i++) {
    if (i > 0) chunks.push(COMMA);
    chunks.push(answers[i]!.bytes);
  }
  chunks.push(CLOSE);
  return Buffer.concat(chunks);
}

/**
 * `{"<field>":[items],<params>}`: the call body shape shared by TEI's list routes. One string when
 * every input is one (the common case: small inputs), else the pieces in order.
 */
export function encodeListCall(field: string, params: string, items: readonly InputText[]): CallBody {
  const tail = params === '' ? '}' : `,${params}}`;
  if (items.every((item) => typeof item === 'string')) return `{"${field}":[${items.join(',')}]${tail}`;
  const pieces: InputText[] = [`{"${field}":[`];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) pieces.push(',');
    pieces.push(items[i]!);
  }
  pieces.push(`]${tail}`);
  return pieces;
}
