import { arrayElements } from '../json/scan.js';
import type { ItemAnswer } from './rule.js';

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

/** `{"<field>":[items],<params>}`: the call body shape shared by TEI's list routes. */
export function encodeListCall(field: string, params: string, items: readonly string[]): string {
  const tail = params === '' ? '}' : `,${params}}`;
  return `{"${field}":[${items.join(',')}]${tail}`;
}
