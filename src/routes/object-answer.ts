/**
 * Answers that are a JSON object holding the per-input list in one field, beside fields that
 * describe the whole call: OpenAI-compatible servers (`data`, with `id`, `created`, `model`,
 * `usage`...), Ollama's /api/embed (`embeddings`, with `model`, durations, `prompt_eval_count`),
 * and custom routes given an answer field (`--route PATH:FIELD:ANSWER`).
 *
 * Each client gets the upstream's object as the upstream wrote it (every field, in its order,
 * byte for byte), with two things made its own: the list holds only its elements, and the token
 * counts named by the rule are its share of the call's. The upstream counts tokens per call, not
 * per input, so a call's count is shared among its inputs in proportion to their length (largest
 * remainder rounding: the shares add up to the upstream's count exactly). A client alone in its
 * call gets exactly the upstream's answer; in a merged call its counts are estimates and the
 * call-wide fields (an `id`, durations) are the merged call's.
 */
import { arrayElements, objectMembers, type MemberRange } from '../json/scan.js';
import type { AnswerFrame, ItemAnswer } from './rule.js';
import { inputLength, type InputText } from './input-text.js';

export type { AnswerFrame } from './rule.js';

/** Where a count sits in the answer: a top-level field, or a field of a top-level object (`usage.prompt_tokens`). */
export type CountPath = readonly [string] | readonly [string, string];

export interface ObjectAnswerShape {
  /** The top-level field holding one element per input. */
  readonly listField: string;
  /** Counts shared out per client; a count the answer lacks (or that is not a whole number) is left as written. */
  readonly counts: readonly CountPath[];
  /**
   * The element field numbering the elements (OpenAI's `index`): rewritten from 0 for each
   * client. Undefined: elements are handed on as they are.
   */
  readonly indexField?: string;
}

/** Splits `total` into integer shares proportional to `weights` that add up to `total`. */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum <= 0)
    return apportion(
      total,
      weights.map(() => 1),
    );
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((value, i) => ({ i, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) shares[order[k]!.i]!++;
  return shares;
}

function member(members: readonly MemberRange[], key: string): MemberRange | undefined {
  for (const m of members) if (m.key === key) return m;
  return undefined;
}

/** The value range of a count, if the answer holds a non-negative whole number there. */
function countRange(body: Buffer, top: readonly MemberRange[], path: CountPath): { start: number; end: number; value: number } | undefined {
  let found = member(top, path[0]);
  if (found !== undefined && path.length === 2) {
    const inner = objectMembers(body, found.valueStart, found.valueEnd);
    found = inner && member(inner, path[1]);
  }
  if (found === undefined) return undefined;
  const text = body.toString('latin1', found.valueStart, found.valueEnd);
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? { start: found.valueStart, end: found.valueEnd, value } : undefined;
}

/**
 * Cuts an object answer into one answer per input, or undefined when it is not an object whose
 * list field has exactly one element per input (and, with an index field, every element has it).
 */
export function splitObjectAnswer(shape: ObjectAnswerShape, body: Buffer, items: readonly InputText[]): ItemAnswer[] | undefined {
  const top = objectMembers(body);
  if (top === undefined) return undefined;
  const list = member(top, shape.listField);
  if (list === undefined) return undefined;
  const ranges = arrayElements(body, list.valueStart, list.valueEnd);
  if (ranges === undefined || ranges.length !== items.length * 2) return undefined;

  const holes: { start: number; end: number; hole: 'list' | number }[] = [{ start: list.valueStart, end: list.valueEnd, hole: 'list' }];
  const weights = items.map(inputLength);
  const shares: number[][] = [];
  shape.counts.forEach((path, k) => {
    const found = countRange(body, top, path);
    if (found === undefined) return;
    holes.push({ start: found.start, end: found.end, hole: k });
    shares[k] = apportion(found.value, weights);
  });
  holes.sort((a, b) => a.start - b.start);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const hole of holes) {
    pieces.push(body.subarray(at, hole.start));
    at = hole.end;
  }
  pieces.push(body.subarray(at));
  const frame: AnswerFrame = { pieces, holes: holes.map((hole) => hole.hole) };

  const answers = new Array<ItemAnswer>(items.length);
  for (let i = 0; i < items.length; i++) {
    const start = ranges[2 * i]!;
    const end = ranges[2 * i + 1]!;
    const counts = shares.map((perInput) => perInput[i]!);
    if (shape.indexField === undefined) {
      answers[i] = { bytes: body.subarray(start, end), frame, counts };
      continue;
    }
    const fields = objectMembers(body, start, end);
    const index = fields && member(fields, shape.indexField);
    if (index === undefined) return undefined;
    answers[i] = { bytes: body.subarray(start, index.valueStart), tail: body.subarray(index.valueEnd, end), frame, counts };
  }
  return answers;
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * One client's answer: the frame of its first call (its answers may come from several calls
 * when its request held more inputs than one call takes), its own elements, and the sums of its
 * shares. Elements with a `tail` had their index cut out: it is written again, counted from 0.
 */
export function assembleObjectAnswer(answers: readonly ItemAnswer[]): Buffer {
  const frame = answers[0]?.frame;
  if (frame === undefined) throw new Error('object answer without its frame');
  const chunks: Uint8Array[] = [frame.pieces[0]!];
  frame.holes.forEach((hole, h) => {
    if (hole === 'list') {
      chunks.push(OPEN);
      for (let i = 0; i < answers.length; i++) {
        const answer = answers[i]!;
        if (i > 0) chunks.push(COMMA);
        chunks.push(answer.bytes);
        if (answer.tail !== undefined) chunks.push(Buffer.from(String(i)), answer.tail);
      }
      chunks.push(CLOSE);
    } else {
      let sum = 0;
      for (const answer of answers) sum += answer.counts?.[hole] ?? 0;
      chunks.push(Buffer.from(String(sum)));
    }
    chunks.push(frame.pieces[h + 1]!);
  });
  return Buffer.concat(chunks);
}
