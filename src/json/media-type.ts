/**
 * Whether a Content-Type names JSON, by the rule TEI's HTTP layer applies (axum's
 * `json_content_type`): `application/json` or `application/<anything>+json`, parameters allowed,
 * case-insensitive. One rule for the three places that ask: which client bodies the proxy may
 * batch (a body TEI would refuse as not JSON passes through for TEI to answer), which upstream
 * errors are JSON, and the simulator's own 415.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  // What nearly every client sends, asked once per request: no regular expression for it.
  if (header === 'application/json') return true;
  const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;.*)?$/s.exec(header);
  if (match === null) return false;
  const type = (match[1] as string).toLowerCase();
  const subtype = (match[2] as string).toLowerCase();
  return type === 'application' && (subtype === 'json' || subtype.endsWith('+json'));
}
