/**
 * JSON text in which object keys are sorted at every depth, so two requests whose parameters
 * mean the same thing produce the same batch key whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The members of `body` other than `exclude`, as canonical JSON members without the braces
 * ('' when there are none), ready to be spliced into a call body after the inputs.
 */
export function canonicalParams(body: Record<string, unknown>, exclude: ReadonlySet<string>): string {
  const keys = Object.keys(body)
    .filter((key) => !exclude.has(key))
    .sort();
  return keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(body[key])}`).join(',');
}
