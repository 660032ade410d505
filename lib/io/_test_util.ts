/**
 * Test helpers that write torch-style checkpoints byte by byte, so the readers can be tested on
 * layouts and attacks that the reference fixtures do not contain. Not part of the library API.
 *
 * @module
 */

import { crc32, deflateRawSync } from "node:zlib";

/** Emits pickle opcodes one at a time, as `torch.save` (protocol 2) would. */
export class PickleBuilder {
  #out: number[] = [];

  /** Raw bytes (an opcode and its arguments). */
  raw(...bytes: number[]): this {
    this.#out.push(...bytes);
    return this;
  }
  #u32(v: number): number[] {
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  }
  /** PROTO n. */
  proto(n = 2): this {
    return this.raw(0x80, n);
  }
  /** GLOBAL "module\nname\n" (text form, as protocol 2 writes it). */
  global(module: string, name: string): this {
    return this.raw(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  /** SHORT_BINUNICODE module, SHORT_BINUNICODE name, STACK_GLOBAL (protocol 4 form). */
  stackGlobal(module: string, name: string): this {
    return this.shortStr(module).shortStr(name).raw(0x93);
  }
  /** BINUNICODE. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x58, ...this.#u32(b.length), ...b);
  }
  /** SHORT_BINUNICODE. */
  shortStr(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x8c, b.length, ...b);
  }
  /** BININT1, BININT2 or BININT, whichever fits a non-negative value. */
  int(v: number): this {
    if (v < 0x100) return this.raw(0x4b, v);
    if (v < 0x10000) return this.raw(0x4d, v & 0xff, v >>> 8);
    return this.raw(0x4a, ...this.#u32(v));
  }
  /** A tuple of non-negative ints. */
  intTuple(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  /** MARK. */
  mark(): this {
    return this.raw(0x28);
  }
  /** TUPLE (from MARK). */
  tuple(): this {
    return this.raw(0x74);
  }
  /** EMPTY_TUPLE. */
  emptyTuple(): this {
    return this.raw(0x29);
  }
  /** EMPTY_DICT. */
  emptyDict(): this {
    return this.raw(0x7d);
  }
  /** SETITEMS (from MARK). */
  setItems(): this {
    return this.raw(0x75);
  }
  /** REDUCE. */
  reduce(): this {
    return this.raw(0x52);
  }
  /** BUILD. */
  build(): this {
    return this.raw(0x62);
  }
  /** BINPERSID. */
  persid(): this {
    return this.raw(0x51);
  }
  /** NEWFALSE. */
  false(): this {
    return this.raw(0x89);
  }
  /** STOP. */
  stop(): this {
    return this.raw(0x2e);
  }
  /** The pickle so far. */
  bytes(): Uint8Array {
    return new Uint8Array(this.#out);
  }
}

/** One tensor of a hand-built state dict. */
export interface FixtureTensor {
  /** State-dict key. */
  name: string;
  /** Storage class name, e.g. "FloatStorage". */
  storageType: string;
  /** Storage key (the zip entry `data/<key>`). */
  key: string;
  /** Elements in the storage. */
  storageNumel: number;
  /** Element offset of the tensor in its storage. */
  offset: number;
  /** Tensor size. */
  shape: number[];
  /** Tensor stride, in elements. */
  stride: number[];
  /** Wrap in torch._utils._rebuild_parameter as nn.Parameter pickles do. */
  parameter?: boolean;
}

/** Appends `_rebuild_tensor_v2(...)` for one tensor, in torch's opcode order. */
export function pickleTensor(p: PickleBuilder, t: FixtureTensor): PickleBuilder {
  if (t.parameter) p.global("torch._utils", "_rebuild_parameter").mark();
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", t.storageType).str(t.key).str("cpu").int(t.storageNumel)
    .tuple().persid();
  p.int(t.offset).intTuple(t.shape).intTuple(t.stride).false();
  p.global("collections", "OrderedDict").emptyTuple().reduce();
  p.tuple().reduce();
  if (t.parameter) {
    p.raw(0x88).global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
  }
  return p;
}

/** A protocol-2 pickle of `OrderedDict(name → tensor)`, optionally with a `_metadata` BUILD. */
export function stateDictPickle(
  tensors: readonly FixtureTensor[],
  withMetadata = false,
): Uint8Array {
  const p = new PickleBuilder().proto(2).global("collections", "OrderedDict").emptyTuple().reduce();
  p.mark();
  for (const t of tensors) pickleTensor(p.str(t.name), t);
  p.setItems();
  if (withMetadata) {
    // What state_dict()'s `_metadata` attribute pickles to: {"_metadata": {"": {"version": 1}}}.
    p.emptyDict().mark().str("_metadata").emptyDict().mark().str("").emptyDict().mark()
      .str("version").int(1).setItems().setItems().setItems().build();
  }
  return p.stop().bytes();
}

/** Options for {@link buildZip}. */
export interface ZipBuildOptions {
  /** Write sizes and offsets only in ZIP64 extra fields (as torch does for huge files). */
  zip64Extra?: boolean;
  /** Names of entries to DEFLATE instead of STORE. */
  deflate?: ReadonlySet<string>;
}

const le = {
  u16: (v: number) => [v & 0xff, (v >>> 8) & 0xff],
  u32: (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff],
  u64: (v: number) => [...le.u32(v % 2 ** 32), ...le.u32(Math.floor(v / 2 ** 32))],
};

/**
 * Writes a zip the way torch's writer does: data-descriptor flag with zero sizes in the local
 * headers, data padded to 64-byte alignment with an "FB" extra field, and a ZIP64
 * end-of-central-directory record before the classic one.
 */
export function buildZip(
  entries: [string, Uint8Array][],
  options: ZipBuildOptions = {},
): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  const push = (target: number[], bytes: ArrayLike<number>) => {
    for (let i = 0; i < bytes.length; i++) target.push(bytes[i]);
  };
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const deflate = options.deflate?.has(name) ?? false;
    const stored = deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const crc = crc32(data) >>> 0;
    const offset = out.length;
    const headerEnd = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (headerEnd % 64)) % 64;
    push(out, [
      ...le.u32(0x04034b50),
      ...le.u16(20),
      ...le.u16(0x0808),
      ...le.u16(deflate ? 8 : 0),
    ]);
    push(out, [...le.u32(0), ...le.u32(0), ...le.u32(0), ...le.u32(0)]);
    push(out, [...le.u16(nameBytes.length), ...le.u16(4 + pad)]);
    push(out, nameBytes);
    push(out, [0x46, 0x42, ...le.u16(pad)]);
    push(out, new Uint8Array(pad).fill(0x5a));
    push(out, stored);
    push(out, [
      ...le.u32(0x08074b50),
      ...le.u32(crc),
      ...le.u32(stored.length),
      ...le.u32(data.length),
    ]);
    const big = options.zip64Extra ?? false;
    const extra = big
      ? [
        ...le.u16(1),
        ...le.u16(24),
        ...le.u64(data.length),
        ...le.u64(stored.length),
        ...le.u64(offset),
      ]
      : [];
    const sat = (v: number) => (big ? 0xffffffff : v);
    push(central, [...le.u32(0x02014b50), ...le.u16(0x031e), ...le.u16(45), ...le.u16(0x0808)]);
    push(central, [...le.u16(deflate ? 8 : 0), ...le.u32(0), ...le.u32(crc)]);
    push(central, [...le.u32(sat(stored.length)), ...le.u32(sat(data.length))]);
    push(central, [
      ...le.u16(nameBytes.length),
      ...le.u16(extra.length),
      ...le.u16(0),
      ...le.u16(0),
    ]);
    push(central, [...le.u16(0), ...le.u32(0), ...le.u32(sat(offset))]);
    push(central, nameBytes);
    push(central, extra);
  }
  const cdOffset = out.length;
  push(out, central);
  const eocd64 = out.length;
  push(out, [
    ...le.u32(0x06064b50),
    ...le.u64(44),
    ...le.u16(0x031e),
    ...le.u16(45),
    ...le.u32(0),
    ...le.u32(0),
  ]);
  push(out, [
    ...le.u64(entries.length),
    ...le.u64(entries.length),
    ...le.u64(central.length),
    ...le.u64(cdOffset),
  ]);
  push(out, [...le.u32(0x07064b50), ...le.u32(0), ...le.u64(eocd64), ...le.u32(1)]);
  push(out, [
    ...le.u32(0x06054b50),
    ...le.u16(0),
    ...le.u16(0),
    ...le.u16(entries.length),
    ...le.u16(entries.length),
  ]);
  push(out, [...le.u32(central.length), ...le.u32(cdOffset), ...le.u16(0)]);
  return new Uint8Array(out);
}

/** A torch-style checkpoint zip: `archive/data.pkl`, `archive/data/<key>`, `archive/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  extra: [string, Uint8Array][] = [],
): Uint8Array {
  const entries: [string, Uint8Array][] = [["archive/data.pkl", pickle]];
  for (const [key, bytes] of Object.entries(storages)) entries.push([`archive/data/${key}`, bytes]);
  entries.push(["archive/version", new TextEncoder().encode("3\n")], ...extra);
  return buildZip(entries);
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const a = Float32Array.from(values);
  return new Uint8Array(a.buffer);
}
