/**
 * A restricted unpickler: it decodes the opcodes of pickle protocols 0–5 that checkpoints use and
 * builds plain JavaScript values, and it never executes anything. A pickle names functions and
 * classes as globals ("module.name") and asks for them to be called (REDUCE, NEWOBJ); here a
 * global resolves only if the caller lists it in {@link UnpickleOptions.globals}, and only those
 * listed values are ever applied. Any other global, such as `os.system` or `builtins.eval`, is
 * refused with an error naming it.
 *
 * Python values map to: None → `null`, bool → boolean, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes → Uint8Array, list → array, tuple → frozen array,
 * dict → Map, set → Set.
 *
 * @module
 */

/** Raised for a malformed or disallowed pickle; the message names the source and byte offset. */
export class PickleError extends Error {
  /**
   * Creates a PickleError.
   *
   * @param source file name or label used in the message
   * @param problem what is wrong
   */
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = "PickleError";
  }
}

/** A whitelisted callable: receives the argument tuple of a REDUCE or NEWOBJ. */
export type PickleCallable = (args: readonly unknown[]) => unknown;

/** Options for {@link unpickle}. */
export interface UnpickleOptions {
  /**
   * The only globals the pickle may name, keyed "module.name". A function value may be applied
   * by REDUCE/NEWOBJ; any other value (for example a marker for a storage type) is inert.
   * Plain `Error`s thrown by these functions are reported as {@link PickleError}s with the
   * offset; errors of any other class propagate unchanged.
   */
  globals: ReadonlyMap<string, unknown>;
  /**
   * Resolves persistent ids (BINPERSID/PERSID); without it such a pickle is refused. Errors are
   * treated as for {@link UnpickleOptions.globals}.
   */
  persistentLoad?: (pid: unknown) => unknown;
  /** A name for error messages. */
  source?: string;
}

const HIGHEST_PROTOCOL = 5;

/** Opcode names, for error messages about opcodes this reader refuses. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/** Name of a pickle opcode byte, e.g. `REDUCE`, or `0x..` if it is not an opcode at all. */
export function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, "0")}`;
}

/**
 * Decodes one pickle. Only the globals in `options.globals` can be referenced, and only the
 * function values among them are ever called.
 *
 * @param bytes the pickle stream (up to and including STOP; trailing bytes are ignored)
 * @returns the unpickled top-level object
 * @throws {PickleError} naming the offending global, opcode and byte offset.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  return new Unpickler(bytes, options).load();
}

class Unpickler {
  readonly #bytes: Uint8Array;
  readonly #dv: DataView;
  readonly #globals: ReadonlyMap<string, unknown>;
  readonly #persistentLoad?: (pid: unknown) => unknown;
  readonly #source: string;
  readonly #stack: unknown[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, unknown>();
  #pos = 0;
  /** Offset of the opcode being executed, for error messages. */
  #opAt = 0;
  #op = 0;

  constructor(bytes: Uint8Array, options: UnpickleOptions) {
    this.#bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#globals = options.globals;
    this.#persistentLoad = options.persistentLoad;
    this.#source = options.source ?? "<pickle>";
  }

  #fail(problem: string): PickleError {
    return new PickleError(
      this.#source,
      `pickle: ${problem} (opcode ${opcodeName(this.#op)} at byte ${this.#opAt})`,
    );
  }

  /** Advances past `n` argument bytes and returns where they start. */
  #take(n: number): number {
    if (n < 0 || this.#pos + n > this.#bytes.byteLength) {
      throw this.#fail(
        `needs ${n} argument bytes but the pickle ends at byte ${this.#bytes.byteLength} (truncated?)`,
      );
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  #u8(): number {
    return this.#bytes[this.#take(1)];
  }
  #u16(): number {
    return this.#dv.getUint16(this.#take(2), true);
  }
  #u32(): number {
    return this.#dv.getUint32(this.#take(4), true);
  }
  #i32(): number {
    return this.#dv.getInt32(this.#take(4), true);
  }
  #u64(): number {
    const v = this.#dv.getBigUint64(this.#take(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#fail(`length ${v} is out of range`);
    return Number(v);
  }
  #slice(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }
  #utf8(n: number): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.#slice(n));
    } catch (e) {
      if (e instanceof PickleError) throw e;
      throw this.#fail("string is not valid UTF-8");
    }
  }
  #latin1(n: number): string {
    return new TextDecoder("latin1").decode(this.#slice(n));
  }
  /** A text argument terminated by a newline (protocol 0 style). */
  #line(): string {
    const end = this.#bytes.indexOf(0x0a, this.#pos);
    if (end < 0) throw this.#fail("text argument has no terminating newline (truncated?)");
    const s = new TextDecoder("utf-8").decode(this.#bytes.subarray(this.#pos, end));
    this.#pos = end + 1;
    return s;
  }
  /** Little-endian two's-complement integer of `n` bytes (LONG1/LONG4). */
  #long(n: number): number | bigint {
    const b = this.#slice(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return intValue(v);
  }

  #push(v: unknown): void {
    this.#stack.push(v);
  }
  #pop(): unknown {
    if (this.#stack.length === 0 || this.#stack.length <= (this.#marks.at(-1) ?? -1)) {
      throw this.#fail("stack underflow");
    }
    return this.#stack.pop();
  }
  #top(): unknown {
    if (this.#stack.length === 0 || this.#stack.length <= (this.#marks.at(-1) ?? -1)) {
      throw this.#fail("stack underflow");
    }
    return this.#stack[this.#stack.length - 1];
  }
  /** Pops everything above the most recent MARK, and the mark itself. */
  #popMark(): unknown[] {
    const m = this.#marks.pop();
    if (m === undefined) throw this.#fail("no MARK on the stack");
    return this.#stack.splice(m);
  }
  #memoGet(i: number): unknown {
    if (!this.#memo.has(i)) throw this.#fail(`memo key ${i} was never stored`);
    return this.#memo.get(i);
  }
  #memoPut(i: number): void {
    this.#memo.set(i, this.#top());
  }

  #resolveGlobal(module: string, name: string): unknown {
    const qualified = `${module}.${name}`;
    if (!this.#globals.has(qualified)) {
      throw this.#fail(
        `refusing global ${qualified}: not in the allowed list (${
          [...this.#globals.keys()].join(", ")
        })`,
      );
    }
    return this.#globals.get(qualified);
  }

  #apply(callable: unknown, args: unknown): unknown {
    if (typeof callable !== "function") {
      throw this.#fail(`cannot call ${describe(callable)}`);
    }
    if (!Array.isArray(args)) throw this.#fail(`arguments are ${describe(args)}, not a tuple`);
    try {
      return (callable as PickleCallable)(args);
    } catch (e) {
      throw this.#located(e);
    }
  }

  #persistent(pid: unknown): unknown {
    if (!this.#persistentLoad) throw this.#fail("persistent ids are not allowed here");
    try {
      return this.#persistentLoad(pid);
    } catch (e) {
      throw this.#located(e);
    }
  }

  /**
   * A plain `Error` from a caller's function states a problem with the pickle's content, so it
   * becomes a PickleError with the offset; typed errors (a ZipError for a corrupt storage, say)
   * already say what went wrong and pass through.
   */
  #located(e: unknown): unknown {
    return e instanceof Error && e.constructor === Error ? this.#fail(e.message) : e;
  }

  #setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) throw this.#fail(`cannot set items on ${describe(target)}`);
    if (items.length % 2 !== 0) throw this.#fail("odd number of items for a dict");
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  #append(target: unknown, items: unknown[]): void {
    if (!Array.isArray(target) || Object.isFrozen(target)) {
      throw this.#fail(`cannot append to ${describe(target)}`);
    }
    for (const item of items) target.push(item);
  }

  load(): unknown {
    const len = this.#bytes.byteLength;
    while (this.#pos < len) {
      this.#opAt = this.#pos;
      const op = this.#bytes[this.#pos++];
      this.#op = op;
      switch (op) {
        case 0x80: { // PROTO
          const proto = this.#u8();
          if (proto > HIGHEST_PROTOCOL) throw this.#fail(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: // FRAME: a read-ahead hint; the payload is ordinary opcodes.
          this.#u64();
          break;
        case 0x2e: { // STOP
          if (this.#marks.length > 0) throw this.#fail("STOP with an unclosed MARK");
          if (this.#stack.length !== 1) {
            throw this.#fail(`STOP with ${this.#stack.length} values on the stack, expected 1`);
          }
          return this.#stack[0];
        }
        case 0x28: // MARK
          this.#marks.push(this.#stack.length);
          break;
        case 0x30: // POP
          this.#pop();
          break;
        case 0x31: // POP_MARK
          this.#popMark();
          break;
        case 0x32: // DUP
          this.#push(this.#top());
          break;

        case 0x4e: // NONE
          this.#push(null);
          break;
        case 0x88: // NEWTRUE
          this.#push(true);
          break;
        case 0x89: // NEWFALSE
          this.#push(false);
          break;
        case 0x4a: // BININT
          this.#push(this.#i32());
          break;
        case 0x4b: // BININT1
          this.#push(this.#u8());
          break;
        case 0x4d: // BININT2
          this.#push(this.#u16());
          break;
        case 0x8a: // LONG1
          this.#push(this.#long(this.#u8()));
          break;
        case 0x8b: { // LONG4
          const n = this.#i32();
          if (n < 0) throw this.#fail(`negative LONG4 length ${n}`);
          this.#push(this.#long(n));
          break;
        }
        case 0x49: { // INT (text); "00"/"01" are protocol 0's False/True
          const s = this.#line().trim();
          if (s === "00" || s === "01") this.#push(s === "01");
          else this.#push(parseIntText(s, () => this.#fail(`bad INT literal "${s}"`)));
          break;
        }
        case 0x4c: { // LONG (text)
          const s = this.#line().trim().replace(/L$/, "");
          this.#push(parseIntText(s, () => this.#fail(`bad LONG literal "${s}"`)));
          break;
        }
        case 0x47: // BINFLOAT: big-endian, unlike everything else
          this.#push(this.#dv.getFloat64(this.#take(8), false));
          break;
        case 0x46: { // FLOAT (text)
          const s = this.#line().trim();
          const v = Number(s);
          if (s === "" || (Number.isNaN(v) && s.toLowerCase() !== "nan")) {
            throw this.#fail(`bad FLOAT literal "${s}"`);
          }
          this.#push(v);
          break;
        }

        case 0x58: // BINUNICODE
          this.#push(this.#utf8(this.#u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.#push(this.#utf8(this.#u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.#push(this.#utf8(this.#u64()));
          break;
        case 0x54: { // BINSTRING: Python 2 str, decoded as Latin-1
          const n = this.#i32();
          if (n < 0) throw this.#fail(`negative BINSTRING length ${n}`);
          this.#push(this.#latin1(n));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.#push(this.#latin1(this.#u8()));
          break;
        case 0x42: // BINBYTES
          this.#push(this.#slice(this.#u32()).slice());
          break;
        case 0x43: // SHORT_BINBYTES
          this.#push(this.#slice(this.#u8()).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.#push(this.#slice(this.#u64()).slice());
          break;

        case 0x29: // EMPTY_TUPLE
          this.#push(Object.freeze([]));
          break;
        case 0x85: // TUPLE1
          this.#push(Object.freeze([this.#pop()]));
          break;
        case 0x86: { // TUPLE2
          const b = this.#pop();
          const a = this.#pop();
          this.#push(Object.freeze([a, b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.#pop();
          const b = this.#pop();
          const a = this.#pop();
          this.#push(Object.freeze([a, b, c]));
          break;
        }
        case 0x74: // TUPLE
          this.#push(Object.freeze(this.#popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          this.#push([]);
          break;
        case 0x6c: // LIST
          this.#push(this.#popMark());
          break;
        case 0x7d: // EMPTY_DICT
          this.#push(new Map());
          break;
        case 0x64: { // DICT
          const d = new Map();
          this.#setItems(d, this.#popMark());
          this.#push(d);
          break;
        }
        case 0x8f: // EMPTY_SET
          this.#push(new Set());
          break;
        case 0x91: // FROZENSET
          this.#push(Object.freeze(new Set(this.#popMark())));
          break;
        case 0x90: { // ADDITEMS
          const items = this.#popMark();
          const target = this.#top();
          if (!(target instanceof Set) || Object.isFrozen(target)) {
            throw this.#fail(`cannot add items to ${describe(target)}`);
          }
          for (const item of items) target.add(item);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.#pop();
          const key = this.#pop();
          this.#setItems(this.#top(), [key, value]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.#popMark();
          this.#setItems(this.#top(), items);
          break;
        }
        case 0x61: { // APPEND
          const item = this.#pop();
          this.#append(this.#top(), [item]);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.#popMark();
          this.#append(this.#top(), items);
          break;
        }

        case 0x71: // BINPUT
          this.#memoPut(this.#u8());
          break;
        case 0x72: // LONG_BINPUT
          this.#memoPut(this.#u32());
          break;
        case 0x94: // MEMOIZE
          this.#memoPut(this.#memo.size);
          break;
        case 0x70: { // PUT (text)
          const s = this.#line();
          this.#memoPut(memoIndex(s, () => this.#fail(`bad PUT index "${s}"`)));
          break;
        }
        case 0x68: // BINGET
          this.#push(this.#memoGet(this.#u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.#push(this.#memoGet(this.#u32()));
          break;
        case 0x67: { // GET (text)
          const s = this.#line();
          this.#push(this.#memoGet(memoIndex(s, () => this.#fail(`bad GET index "${s}"`))));
          break;
        }

        case 0x63: { // GLOBAL: "module\nname\n"
          const module = this.#line();
          const name = this.#line();
          this.#push(this.#resolveGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== "string" || typeof name !== "string") {
            throw this.#fail("STACK_GLOBAL needs two strings");
          }
          this.#push(this.#resolveGlobal(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.#pop();
          const callable = this.#pop();
          this.#push(this.#apply(callable, args));
          break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args); whitelisted classes build fully here
          const args = this.#pop();
          const cls = this.#pop();
          this.#push(this.#apply(cls, args));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.#pop();
          const args = this.#pop();
          const cls = this.#pop();
          if (!(kwargs instanceof Map) || kwargs.size > 0) {
            throw this.#fail("keyword arguments are not supported");
          }
          this.#push(this.#apply(cls, args));
          break;
        }
        case 0x62: { // BUILD
          const state = this.#pop();
          const target = this.#top();
          // A dict subclass's instance attributes (an OrderedDict state dict's `_metadata`, which
          // records module versions) carry no tensors, so they are accepted and dropped.
          if (!(target instanceof Map)) {
            throw this.#fail(`cannot set state ${describe(state)} on ${describe(target)}`);
          }
          break;
        }
        case 0x51: // BINPERSID
          this.#push(this.#persistent(this.#pop()));
          break;
        case 0x50: // PERSID (text)
          this.#push(this.#persistent(this.#line()));
          break;

        default:
          throw this.#fail(`unsupported opcode ${opcodeName(op)}`);
      }
    }
    throw new PickleError(
      this.#source,
      `pickle: ends at byte ${len} without a STOP opcode (truncated?)`,
    );
  }
}

function intValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

function parseIntText(s: string, fail: () => Error): number | bigint {
  if (!/^[+-]?\d+$/.test(s)) throw fail();
  return intValue(BigInt(s));
}

function memoIndex(s: string, fail: () => Error): number {
  const t = s.trim();
  if (!/^\d+$/.test(t)) throw fail();
  return Number(t);
}

/** A short description of an unpickled value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return Object.isFrozen(v) ? `a ${v.length}-tuple` : `a list of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Set) return "a set";
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "function") return `function ${v.name || "<anonymous>"}`;
  if (typeof v === "object") return "an object";
  return String(v);
}
