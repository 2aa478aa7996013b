/**
 * An input's JSON text, as a call carries it: a string (what a rule writes), or the client's body's
 * own bytes for it (a view of the body's Buffer, see src/json/stand-ins.ts), which a big input
 * is held as so that it is held once, as the bytes that came in, and never copied on its way
 * upstream. Both are the same text; these tell what the rest of the proxy needs of either.
 */
export type InputText = string | Buffer;

/** Bytes the input takes in a call body. */
export function inputBytes(input: InputText): number {
  return typeof input === 'string' ? Buffer.byteLength(input) : input.length;
}

/**
 * The input's length as a JS string (UTF-16 code units): the weight an object answer's counts are
 * shared out by (object-answer.ts), the same whichever form the input is held in. In valid UTF-8
 * (the only bytes held as an input), every byte that is not a continuation byte starts one
 * character, and a 4-byte one is two code units (a surrogate pair).
 */
export function inputLength(input: InputText): number {
  if (typeof input === 'string') return input.length;
  let units = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}
