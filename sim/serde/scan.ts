/**
 * The value-level scanning of serde_json's de.rs: the `:` after a key, the end of a sequence or a
 * map (trailing commas and characters), skipping a value nobody reads (`ignore_value`), and
 * `peek_invalid_type`, which reads the offending value to name it in an "invalid type" message.
 * The typed deserializers (serde-json.ts) stand on these.
 */
import {
  EOF_WHILE_PARSING_LIST,
  EOF_WHILE_PARSING_OBJECT,
  EOF_WHILE_PARSING_VALUE,
  EXPECTED_COLON,
  EXPECTED_LIST_COMMA_OR_END,
  EXPECTED_OBJECT_COMMA_OR_END,
  EXPECTED_SOME_VALUE,
  invalidType,
  JsonDeError,
  KEY_MUST_BE_A_STRING,
  rustDebugString,
  TRAILING_CHARACTERS,
  TRAILING_COMMA,
} from './error.js';
import { isDigit, NumberParser, unexpectedNumber } from './number.js';

/** The reader, numbers, and value scanning. */
export class ValueScanner extends NumberParser {
  protected parseObjectColon(): void {
    const c = this.parseWhitespace();
    if (c === 0x3a) {
      this.eat();
      return;
    }
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
    throw this.peekError(EXPECTED_COLON);
  }

  protected endSeq(): void {
    const c = this.parseWhitespace();
    if (c === 0x5d) {
      this.eat();
      return;
    }
    if (c === 0x2c) {
      this.eat();
      if (this.parseWhitespace() === 0x5d) throw this.peekError(TRAILING_COMMA);
      throw this.peekError(TRAILING_CHARACTERS);
    }
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_LIST);
    throw this.peekError(TRAILING_CHARACTERS);
  }

  protected endMap(): void {
    const c = this.parseWhitespace();
    if (c === 0x7d) {
      this.eat();
      return;
    }
    if (c === 0x2c) throw this.peekError(TRAILING_COMMA);
    if (c < 0) throw this.peekError(EOF_WHILE_PARSING_OBJECT);
    throw this.peekError(TRAILING_CHARACTERS);
  }

  /** ignore_value: skips any value (IgnoredAny), checking its syntax but not its strings' UTF-8. */
  ignoreValue(): void {
    const frames: number[] = [];
    let enclosing: number | undefined;
    for (;;) {
      const peek = this.parseWhitespace();
      if (peek < 0) throw this.peekError(EOF_WHILE_PARSING_VALUE);
      let frame: number | undefined;
      switch (peek) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          break;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          break;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          break;
        case 0x2d:
          this.eat();
          this.ignoreInteger();
          break;
        case 0x22:
          this.eat();
          this.ignoreStr();
          break;
        case 0x5b:
        case 0x7b:
          if (enclosing !== undefined) frames.push(enclosing);
          enclosing = undefined;
          this.eat();
          frame = peek;
          break;
        default:
          if (isDigit(peek)) {
            this.ignoreInteger();
            break;
          }
          throw this.peekError(EXPECTED_SOME_VALUE);
      }

      let acceptComma: boolean;
      let current: number;
      if (frame !== undefined) {
        acceptComma = false;
        current = frame;
      } else if (enclosing !== undefined) {
        acceptComma = true;
        // serde_json's enclosing.take(): the value is overwritten below before it is read again.
        current = enclosing;
      } else {
        const popped = frames.pop();
        if (popped === undefined) return;
        acceptComma = true;
        current = popped;
      }

      for (;;) {
        const c = this.parseWhitespace();
        if (c === 0x2c && acceptComma) {
          this.eat();
          break;
        } else if ((c === 0x5d && current === 0x5b) || (c === 0x7d && current === 0x7b)) {
          // closes the current frame
        } else if (c >= 0) {
          if (acceptComma) {
            throw this.peekError(current === 0x5b ? EXPECTED_LIST_COMMA_OR_END : EXPECTED_OBJECT_COMMA_OR_END);
          }
          break;
        } else {
          throw this.peekError(current === 0x5b ? EOF_WHILE_PARSING_LIST : EOF_WHILE_PARSING_OBJECT);
        }
        this.eat();
        const popped = frames.pop();
        if (popped === undefined) return;
        current = popped;
        acceptComma = true;
      }

      if (current === 0x7b) {
        const c = this.parseWhitespace();
        if (c === 0x22) this.eat();
        else if (c >= 0) throw this.peekError(KEY_MUST_BE_A_STRING);
        else throw this.peekError(EOF_WHILE_PARSING_OBJECT);
        this.ignoreStr();
        const colon = this.parseWhitespace();
        if (colon === 0x3a) this.eat();
        else if (colon >= 0) throw this.peekError(EXPECTED_COLON);
        else throw this.peekError(EOF_WHILE_PARSING_OBJECT);
      }
      enclosing = current;
    }
  }

  /** peek_invalid_type: reads the offending value to name it in the message. */
  peekInvalidType(expected: string): unknown {
    const c = this.peekOrNull();
    let error: JsonDeError;
    try {
      switch (c) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          error = invalidType('null', expected);
          break;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          error = invalidType('boolean `true`', expected);
          break;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          error = invalidType('boolean `false`', expected);
          break;
        case 0x2d:
          this.eat();
          error = invalidType(unexpectedNumber(this.parseAnyNumber(false)), expected);
          break;
        case 0x22:
          this.eat();
          error = invalidType(`string ${rustDebugString(this.parseStr())}`, expected);
          break;
        case 0x5b:
          error = invalidType('sequence', expected);
          break;
        case 0x7b:
          error = invalidType('map', expected);
          break;
        default:
          if (isDigit(c)) {
            error = invalidType(unexpectedNumber(this.parseAnyNumber(true)), expected);
            break;
          }
          return this.peekError(EXPECTED_SOME_VALUE);
      }
    } catch (scanError) {
      return scanError;
    }
    return this.fixPosition(error);
  }
}
