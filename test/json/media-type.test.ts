/** One JSON media-type rule (axum's) for the proxy's batching gate, upstream errors and the simulator. */
import { describe, expect, it } from 'vitest';
import { isJsonMediaType } from '../../src/json/media-type.js';

describe('isJsonMediaType', () => {
  it.each(['application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', ' application/json ;x=y', 'application/vnd.api+json'])(
    'takes %j as JSON',
    (header) => expect(isJsonMediaType(header)).toBe(true),
  );
  it.each([undefined, '', 'text/plain', 'application/json-seq', 'application/jsonx', 'application', 'text/json', 'application/x+json/x'])(
    'does not take %j as JSON',
    (header) => expect(isJsonMediaType(header)).toBe(false),
  );
});
