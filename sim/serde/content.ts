/**
 * serde's `Content`: the buffered value an untagged enum tries each of its variants against
 * (TEI's `Input` is one), and the few conversions the request types make from it.
 */
import { type ParserNumber, U32_MAX } from './number.js';

/** serde's `Content`: the buffered value untagged enums try their variants against. */
export type Content =
  | { readonly t: 'unit' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'num'; readonly n: ParserNumber }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'seq'; readonly v: Content[] }
  | { readonly t: 'map'; readonly v: Array<[Content, Content]> };

/** Returned by `nextElement` when the sequence has ended. */
export const NONE: unique symbol = Symbol('none');
export type None = typeof NONE;

export interface SeqState {
  first: boolean;
  index: number;
}

export interface MapState {
  first: boolean;
}

export const UNIT: Content = { t: 'unit' };
export const TRUE: Content = { t: 'bool', v: true };
export const FALSE: Content = { t: 'bool', v: false };

/** A u32 in serde's Content, as ContentRefDeserializer::deserialize_u32 accepts it. */
export function contentAsU32(content: Content): number | undefined {
  if (content.t !== 'num' || content.n.kind !== 'u64') return undefined;
  const digits = content.n.digits;
  if (digits.length > 10) return undefined;
  const value = Number(digits);
  return value <= U32_MAX ? value : undefined;
}

/** A Vec<u32> from Content, or undefined when the content does not match. */
export function contentAsU32Vec(content: Content): number[] | undefined {
  if (content.t !== 'seq') return undefined;
  const out: number[] = new Array<number>(content.v.length);
  for (let i = 0; i < content.v.length; i += 1) {
    const value = contentAsU32(content.v[i] as Content);
    if (value === undefined) return undefined;
    out[i] = value;
  }
  return out;
}

/** A Vec<String> from Content, or undefined when the content does not match. */
export function contentAsStringVec(content: Content): string[] | undefined {
  if (content.t !== 'seq') return undefined;
  const out: string[] = new Array<string>(content.v.length);
  for (let i = 0; i < content.v.length; i += 1) {
    const item = content.v[i] as Content;
    if (item.t !== 'str') return undefined;
    out[i] = item.v;
  }
  return out;
}
