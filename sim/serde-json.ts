/**
 * A byte-level JSON deserializer that fails exactly like TEI's request parsing.
 *
 * TEI parses bodies with axum's `Json` extractor: serde_json 1.0.140 (`Deserializer::from_slice`,
 * no `end()` call, so trailing bytes after the value are ignored) wrapped in serde_path_to_error
 * 0.1.17, feeding serde-derived types. Rejection texts quote serde_json's message, the path and
 * the byte position ("inputs: invalid type: ... at line 1 column 17"), and the position depends
 * on how far the parser had read when the error was raised. To reproduce those texts this file
 * mirrors serde_json's control flow function by function (de.rs and read.rs): the same peeks,
 * the same `fix_position` points, the same path triggers. Names follow the Rust source so the
 * two can be read side by side.
 */
import { type Content, FALSE, type MapState, NONE, type None, type SeqState, TRUE, UNIT } from './serde/content.js';
import {
  type Chain,
  custom,
  EOF_WHILE_PARSING_LIST,
  EOF_WHILE_PARSING_OBJECT,
  EOF_WHILE_PARSING_VALUE,
  EXPECTED_LIST_COMMA_OR_END,
  EXPECTED_OBJECT_COMMA_OR_END,
  EXPECTED_SOME_VALUE,
  invalidLength,
  invalidType,
  invalidValue,
  JsonDeError,
  KEY_MUST_BE_A_STRING,
  oneOf,
  TRAILING_COMMA,
} from './serde/error.js';
import { isDigit, type ParserNumber, unexpectedNumber } from './serde/number.js';
import { ValueScanner } from './serde/scan.js';

export * from './serde/content.js';
export * from './serde/error.js';
export { unexpectedNumber, type ParserNumber } from './serde/number.js';

/**
 * The deserializer: serde_json's `Deserializer<SliceRead>`, its `Deserializer` impl by type
 * (bool, option, usize, string, identifier, unit enum, seq, map, struct, any), on top of the
 * reader (serde/read.ts), the number parser (serde/number.ts) and value scanning (serde/scan.ts).
 */
export class SerdeJson extends ValueScanner {
  // ---------------------------------------------------------------- de.rs: Deserializer impl

  /**
   * The shape shared by deserialize_seq/map/struct/any for '[' and '{': visit, then always run
   * end_seq/end_map (Rust evaluates both halves of the tuple), first error wins, then
   * fix_position.
   */
  protected compound<T>(open: number, visit: () => T): T {
    this.checkRecursion();
    this.eat();
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      result = visit();
    } catch (error) {
      failure = error;
      failed = true;
    }
    this.leaveRecursion();
    try {
      if (open === 0x5b) this.endSeq();
      else this.endMap();
    } catch (error) {
      if (!failed) {
        failure = error;
        failed = true;
      }
    }
    if (failed) throw this.fixPosition(failure);
    return result as T;
  }

  deserializeBool(chain: Chain, expected = 'a boolean'): boolean {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x74) {
        this.eat();
        this.parseIdent('rue');
        return true;
      }
      if (peek === 0x66) {
        this.eat();
        this.parseIdent('alse');
        return false;
      }
      throw this.fixPosition(this.peekInvalidType(expected));
    });
  }

  /** deserialize_option: null is None, anything else is deserialized as Some(T). */
  deserializeOption<T>(chain: Chain, some: (chain: Chain) => T): T | null {
    const peek = this.withPath(chain, () => this.parseWhitespace());
    if (peek === 0x6e) {
      return this.withPath(chain, () => {
        this.eat();
        this.parseIdent('ull');
        return null;
      });
    }
    return some(chain);
  }

  /** deserialize_u64 for a `usize`: returns the value (exact below 2^53). */
  deserializeUsize(chain: Chain): number {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      let n: ParserNumber;
      if (peek === 0x2d) {
        this.eat();
        n = this.parseAnyNumber(false);
      } else if (isDigit(peek)) {
        n = this.parseAnyNumber(true);
      } else {
        throw this.fixPosition(this.peekInvalidType('usize'));
      }
      if (n.kind === 'u64') return Number(n.digits);
      if (n.kind === 'i64') throw this.fixPosition(invalidValue(unexpectedNumber(n), 'usize'));
      throw this.fixPosition(invalidType(unexpectedNumber(n), 'usize'));
    });
  }

  deserializeString(chain: Chain, expected = 'a string'): string {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x22) {
        this.eat();
        return this.parseStr();
      }
      throw this.fixPosition(this.peekInvalidType(expected));
    });
  }

  /** A string matched against fixed names: an enum variant identifier. */
  protected deserializeIdentifier(chain: Chain, accept: (name: string) => JsonDeError | undefined): string {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x22) {
        this.eat();
        const name = this.parseStr();
        const error = accept(name);
        if (error !== undefined) throw this.fixPosition(error);
        return name;
      }
      throw this.fixPosition(this.peekInvalidType('variant identifier'));
    });
  }

  /**
   * deserialize_enum for a derived enum of unit variants. `variants` maps every accepted name
   * (aliases included) to a value; `expected` is serde's VARIANTS list (sorted aliases).
   */
  deserializeUnitEnum<T>(chain: Chain, variants: ReadonlyMap<string, T>, expected: readonly string[]): T {
    return this.withPath(chain, () => {
      const unknownVariant = (name: string): JsonDeError | undefined =>
        variants.has(name) ? undefined : custom(`unknown variant \`${name}\`, expected ${oneOf(expected)}`);
      const peek = this.parseWhitespace();
      if (peek === 0x22) {
        return variants.get(this.deserializeIdentifier(chain, unknownVariant)) as T;
      }
      if (peek === 0x7b) {
        this.checkRecursion();
        this.eat();
        const name = this.deserializeIdentifier(chain, unknownVariant);
        this.parseObjectColon();
        // unit_variant: the value must be null.
        this.withPath([...chain, { kind: 'map', key: name }], () => {
          const p = this.parseWhitespace();
          if (p < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
          if (p === 0x6e) {
            this.eat();
            this.parseIdent('ull');
            return;
          }
          throw this.fixPosition(this.peekInvalidType('unit'));
        });
        this.leaveRecursion();
        const close = this.parseWhitespace();
        if (close === 0x7d) {
          this.eat();
          return variants.get(name) as T;
        }
        if (close >= 0) throw this.error(EXPECTED_SOME_VALUE);
        throw this.error(EOF_WHILE_PARSING_OBJECT);
      }
      if (peek >= 0) throw this.peekError(EXPECTED_SOME_VALUE);
      throw this.peekError(EOF_WHILE_PARSING_VALUE);
    });
  }

  /** deserialize_seq with Vec's visitor. */
  deserializeVec<T>(chain: Chain, element: (chain: Chain) => T): T[] {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek !== 0x5b) throw this.fixPosition(this.peekInvalidType('a sequence'));
      return this.compound(peek, () => {
        const values: T[] = [];
        const state: SeqState = { first: true, index: 0 };
        for (;;) {
          const value = this.nextElement(state, chain, element);
          if (value === NONE) return values;
          values.push(value);
        }
      });
    });
  }

  /** SeqAccess::next_element_seed, as wrapped by serde_path_to_error. */
  nextElement<T>(state: SeqState, chain: Chain, element: (chain: Chain) => T): T | None {
    const index = state.index;
    state.index += 1;
    const hasNext = this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_LIST);
      if (peek === 0x5d) return false;
      if (state.first) {
        state.first = false;
        return true;
      }
      if (peek === 0x2c) {
        this.eat();
        const after = this.parseWhitespace();
        if (after === 0x5d) throw this.peekError(TRAILING_COMMA);
        if (after < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
        return true;
      }
      throw this.peekError(EXPECTED_LIST_COMMA_OR_END);
    });
    if (!hasNext) return NONE;
    const elementChain: Chain = [...chain, { kind: 'seq', index }];
    return this.withPath(elementChain, () => element(elementChain));
  }

  /** MapAccess::next_key_seed for string keys; undefined at the end of the map. */
  nextKey(state: MapState, chain: Chain): string | undefined {
    // A failing key was never captured: serde_path_to_error records an unknown segment.
    return this.withPath([...chain, { kind: 'unknown' }], () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
      if (peek === 0x7d) return undefined;
      if (state.first) {
        state.first = false;
        if (peek !== 0x22) throw this.peekError(KEY_MUST_BE_A_STRING);
      } else if (peek === 0x2c) {
        this.eat();
        const after = this.parseWhitespace();
        if (after === 0x7d) throw this.peekError(TRAILING_COMMA);
        if (after < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
        if (after !== 0x22) throw this.peekError(KEY_MUST_BE_A_STRING);
      } else {
        throw this.peekError(EXPECTED_OBJECT_COMMA_OR_END);
      }
      this.eat();
      return this.parseStr();
    });
  }

  /** MapAccess::next_value_seed: the colon belongs to the map, the value to its key's path. */
  nextValue<T>(chain: Chain, key: string, value: (chain: Chain) => T): T {
    this.withPath(chain, () => this.parseObjectColon());
    const valueChain: Chain = [...chain, { kind: 'map', key }];
    return this.withPath(valueChain, () => value(valueChain));
  }

  /** IgnoredAny for an unknown field. */
  ignoreField(chain: Chain): void {
    this.withPath(chain, () => this.ignoreValue());
  }

  /** deserialize_any into serde's Content, as untagged enums buffer their input. */
  deserializeContent(chain: Chain): Content {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      switch (peek) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          return UNIT;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          return TRUE;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          return FALSE;
        case 0x2d:
          this.eat();
          return { t: 'num', n: this.parseAnyNumber(false) };
        case 0x22:
          this.eat();
          return { t: 'str', v: this.parseStr() };
        case 0x5b:
          return this.compound(peek, () => {
            const values: Content[] = [];
            const state: SeqState = { first: true, index: 0 };
            for (;;) {
              const value = this.nextElement(state, chain, (c) => this.deserializeContent(c));
              if (value === NONE) return { t: 'seq', v: values } as const;
              values.push(value);
            }
          });
        case 0x7b:
          return this.compound(peek, () => {
            const entries: Array<[Content, Content]> = [];
            const state: MapState = { first: true };
            for (;;) {
              const key = this.nextKey(state, chain);
              if (key === undefined) return { t: 'map', v: entries } as const;
              entries.push([{ t: 'str', v: key }, this.nextValue(chain, key, (c) => this.deserializeContent(c))]);
            }
          });
        default:
          if (isDigit(peek)) return { t: 'num', n: this.parseAnyNumber(true) };
          throw this.peekError(EXPECTED_SOME_VALUE);
      }
    });
  }

  /**
   * deserialize_any with a visitor that only accepts strings and sequences (the default
   * visit_* methods reject everything else with `invalid type`).
   */
  deserializeAnyStringOrSeq<T>(chain: Chain, expected: string, visitStr: (value: string) => T, visitSeq: () => T): T {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      try {
        switch (peek) {
          case 0x6e:
            this.eat();
            this.parseIdent('ull');
            throw invalidType('null', expected);
          case 0x74:
            this.eat();
            this.parseIdent('rue');
            throw invalidType('boolean `true`', expected);
          case 0x66:
            this.eat();
            this.parseIdent('alse');
            throw invalidType('boolean `false`', expected);
          case 0x2d:
            this.eat();
            throw invalidType(unexpectedNumber(this.parseAnyNumber(false)), expected);
          case 0x22:
            this.eat();
            return visitStr(this.parseStr());
          case 0x5b:
            return this.compound(peek, visitSeq);
          case 0x7b:
            return this.compound(peek, () => {
              throw invalidType('map', expected);
            });
          default:
            if (isDigit(peek)) throw invalidType(unexpectedNumber(this.parseAnyNumber(true)), expected);
            throw this.peekError(EXPECTED_SOME_VALUE);
        }
      } catch (error) {
        throw this.fixPosition(error);
      }
    });
  }

  /**
   * deserialize_struct for a derived struct: a map with named fields, or a sequence with the
   * fields in order.
   */
  deserializeStruct(chain: Chain, spec: StructSpec): Record<string, unknown> {
    return this.withPath(chain, () => {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      if (peek === 0x7b) return this.compound(peek, () => this.visitStructMap(chain, spec));
      if (peek === 0x5b) return this.compound(peek, () => this.visitStructSeq(chain, spec));
      throw this.fixPosition(this.peekInvalidType(`struct ${spec.name}`));
    });
  }

  protected visitStructMap(chain: Chain, spec: StructSpec): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    const state: MapState = { first: true };
    for (;;) {
      const key = this.nextKey(state, chain);
      if (key === undefined) break;
      const field = spec.fields.find((f) => f.name === key);
      if (field === undefined) {
        this.nextValue(chain, key, (c) => this.ignoreField(c));
        continue;
      }
      if (seen.has(key)) throw custom(`duplicate field \`${key}\``);
      out[key] = this.nextValue(chain, key, (c) => field.read(this, c));
      seen.add(key);
    }
    for (const field of spec.fields) {
      if (seen.has(field.name)) continue;
      if (field.fallback === 'default') out[field.name] = field.defaultValue;
      else if (field.fallback === 'none') out[field.name] = null;
      else throw custom(`missing field \`${field.name}\``);
    }
    return out;
  }

  protected visitStructSeq(chain: Chain, spec: StructSpec): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const state: SeqState = { first: true, index: 0 };
    const expecting = `struct ${spec.name} with ${spec.fields.length} element${spec.fields.length === 1 ? '' : 's'}`;
    spec.fields.forEach((field, i) => {
      const value = this.nextElement(state, chain, (c) => field.read(this, c));
      if (value !== NONE) out[field.name] = value;
      else if (field.fallback === 'default') out[field.name] = field.defaultValue;
      else throw invalidLength(i, expecting);
    });
    return out;
  }
}

/**
 * How a derived struct fills a field that is absent: `#[serde(default)]` ('default'), an
 * `Option` without it ('none': None in a map, an error in a sequence), or required.
 */
export type FieldFallback = 'default' | 'none' | 'required';

export interface FieldSpec {
  readonly name: string;
  readonly fallback: FieldFallback;
  readonly defaultValue?: unknown;
  readonly read: (de: SerdeJson, chain: Chain) => unknown;
}

export interface StructSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}
