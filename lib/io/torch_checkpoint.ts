/**
 * Reads PyTorch checkpoints in the zip format `torch.save` has written since 1.6 (`.bin`, `.pt`,
 * `.pth`, `.ckpt`): `<archive>/data.pkl` is a pickle of the state dict whose tensors refer, by
 * persistent id, to raw little-endian storages in `<archive>/data/<key>`. The pickle is decoded
 * by the restricted unpickler, which only knows `collections.OrderedDict`, the tensor and
 * parameter rebuild functions and the typed storage classes, so loading a checkpoint can never
 * run code. Contiguous tensors are views into the file's buffer; strided ones are copied.
 *
 * @module
 */

import { type DType, DTYPE_SIZE, numel, type RawTensor } from "./tensor.ts";
import { describe, type PickleCallable, unpickle } from "./pickle.ts";
import { ZipArchive } from "./zip.ts";

/** Raised for a checkpoint that is well-formed zip and pickle but not a usable torch file. */
export class TorchCheckpointError extends Error {
  /**
   * Creates a TorchCheckpointError.
   *
   * @param source file name or label used in the message
   * @param problem what is wrong
   */
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = "TorchCheckpointError";
  }
}

/** The typed storage classes a checkpoint may name, and the element type each holds. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

/** The value a `torch.*Storage` global resolves to: inert, it only says which dtype. */
class StorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}

/** A storage loaded from `data/<key>`: raw bytes of `numel` elements of one dtype. */
class Storage {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}
}

/** Tensors built by this reader, to tell them apart from other values when flattening. */
type Tensors = WeakSet<RawTensor>;

const PICKLE_PROTO = 0x80;
const ZIP_LOCAL_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY_SIGNATURE = [0x50, 0x4b, 0x05, 0x06];
const TAR_MAGIC_OFFSET = 257;

/**
 * Parses a torch zip checkpoint held in memory into a flat state dict: tensor name → tensor.
 * If the top-level object is a dict with a `state_dict` entry (as training checkpoints are),
 * that entry is used. Nested dicts are flattened with `.`-joined names; values that are not
 * tensors (step counters, version numbers) are skipped.
 *
 * @param bytes the whole file
 * @param source a name for error messages
 * @throws {TorchCheckpointError} for legacy (pre-1.6) or big-endian files, missing entries or
 *   storages, and tensors that do not fit their storage;
 *   {@link import("./zip.ts").ZipError} for a damaged archive;
 *   {@link import("./pickle.ts").PickleError} for a damaged pickle or any disallowed global.
 */
export function parseTorchCheckpoint(
  bytes: Uint8Array,
  source = "<memory>",
): Map<string, RawTensor> {
  const tensors: Tensors = new WeakSet();
  const top = unpickleTorchArchive(bytes, source, tensors);
  let root = top;
  if (root instanceof Map && root.get("state_dict") instanceof Map) root = root.get("state_dict");
  if (!(root instanceof Map)) {
    throw new TorchCheckpointError(
      source,
      `top-level object is ${describe(top)}, not a dict of tensors`,
    );
  }
  const out = new Map<string, RawTensor>();
  flatten(root, "", tensors, out);
  if (out.size === 0) throw new TorchCheckpointError(source, "checkpoint holds no tensors");
  return out;
}

/**
 * Reads a torch zip checkpoint from a path (or bytes already in memory); see
 * {@link parseTorchCheckpoint}.
 */
export async function readTorchCheckpoint(
  input: string | Uint8Array,
): Promise<Map<string, RawTensor>> {
  if (typeof input === "string") return parseTorchCheckpoint(await Deno.readFile(input), input);
  return parseTorchCheckpoint(input);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

/** Recognises what a file is before treating it as a zip, to name legacy formats plainly. */
function checkContainer(bytes: Uint8Array, source: string): void {
  if (startsWith(bytes, ZIP_LOCAL_SIGNATURE) || startsWith(bytes, ZIP_EMPTY_SIGNATURE)) return;
  const legacy = "legacy torch format not supported";
  const resave =
    "load it with torch and torch.save it again (torch >= 1.6), or convert it to safetensors";
  if (bytes.byteLength > 0 && bytes[0] === PICKLE_PROTO) {
    throw new TorchCheckpointError(
      source,
      `${legacy}: this is a pre-1.6 (non-zip) pickle stream; ${resave}`,
    );
  }
  const tar = new TextDecoder().decode(bytes.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5));
  if (tar === "ustar") {
    throw new TorchCheckpointError(source, `${legacy}: this is a pre-1.0 tar archive; ${resave}`);
  }
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new TorchCheckpointError(
    source,
    `not a torch zip checkpoint (file is ${bytes.byteLength} bytes and starts with ${
      head || "nothing"
    })`,
  );
}

function unpickleTorchArchive(bytes: Uint8Array, source: string, tensors: Tensors): unknown {
  checkContainer(bytes, source);
  const zip = new ZipArchive(bytes, source);
  const pickles = zip.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new TorchCheckpointError(
      source,
      pickles.length === 0
        ? `no <archive>/data.pkl entry; is this a torch checkpoint? (entries: ${
          zip.names().slice(0, 5).join(", ")
        }${zip.entries.size > 5 ? ", …" : ""})`
        : `several data.pkl entries (${pickles.join(", ")})`,
    );
  }
  const prefix = pickles[0].slice(0, -"data.pkl".length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== "little") {
      throw new TorchCheckpointError(
        source,
        `byte order "${order}" is not supported (big-endian checkpoint); only little-endian files load`,
      );
    }
  }

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
      throw new Error(
        `persistent id ${describe(pid)} is not ('storage', type, key, location, numel)`,
      );
    }
    const [, type, key, , count] = pid;
    if (!(type instanceof StorageType)) throw new Error(`storage type is ${describe(type)}`);
    if (typeof key !== "string") throw new Error(`storage key is ${describe(key)}`);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new Error(`storage "${key}" has element count ${describe(count)}`);
    }
    const cached = storages.get(key);
    if (cached) {
      if (cached.dtype !== type.dtype || cached.numel !== count) {
        throw new Error(
          `storage "${key}" is referenced as ${type.name} of ${count} and as ${cached.dtype} of ${cached.numel}`,
        );
      }
      return cached;
    }
    const entry = `${prefix}data/${key}`;
    if (!zip.has(entry)) throw new Error(`storage "${key}" has no zip entry ${entry}`);
    const data = zip.read(entry);
    const want = count * DTYPE_SIZE[type.dtype];
    if (data.byteLength !== want) {
      throw new Error(
        `storage "${key}" (${type.name} of ${count} elements) needs ${want} bytes, entry ${entry} has ${data.byteLength}`,
      );
    }
    const storage = new Storage(key, type.dtype, count, data);
    storages.set(key, storage);
    return storage;
  };

  const globals = new Map<string, unknown>([
    ["collections.OrderedDict", orderedDict],
    ["torch._utils._rebuild_tensor_v2", (args: readonly unknown[]) => rebuildTensor(args, tensors)],
    [
      "torch._utils._rebuild_parameter",
      (args: readonly unknown[]) => rebuildParameter(args, tensors),
    ],
  ]);
  for (const [name, dtype] of Object.entries(TORCH_STORAGE_DTYPES)) {
    globals.set(`torch.${name}`, new StorageType(`torch.${name}`, dtype));
  }
  return unpickle(zip.read(pickles[0]), {
    globals,
    persistentLoad,
    source: `${source} (${pickles[0]})`,
  });
}

/** `collections.OrderedDict()` or `OrderedDict(pairs)`; a JS Map keeps insertion order too. */
const orderedDict: PickleCallable = (args) => {
  if (args.length === 0) return new Map();
  const [items] = args;
  if (args.length === 1 && items instanceof Map) return new Map(items);
  if (args.length === 1 && Array.isArray(items)) {
    const out = new Map();
    for (const pair of items) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Error(`OrderedDict item ${describe(pair)} is not a (key, value) pair`);
      }
      out.set(pair[0], pair[1]);
    }
    return out;
  }
  throw new Error(`OrderedDict called with ${args.length} arguments`);
};

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`tensor ${what} ${describe(v)} is not a tuple of non-negative integers`);
  }
  return v as number[];
}

/**
 * `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata])`: a view when the layout is contiguous, else a contiguous copy.
 */
function rebuildTensor(args: readonly unknown[], tensors: Tensors): RawTensor {
  if (args.length !== 6 && args.length !== 7) {
    throw new Error(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
  }
  const [storage, offset] = args;
  if (!(storage instanceof Storage)) throw new Error(`tensor storage is ${describe(storage)}`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new Error(`tensor storage offset ${describe(offset)} is not a non-negative integer`);
  }
  const start = offset as number;
  const shape = intList(args[2], "size");
  const stride = intList(args[3], "stride");
  if (stride.length !== shape.length) {
    throw new Error(`tensor size [${shape}] and stride [${stride}] differ in rank`);
  }
  const n = numel(shape);
  const itemSize = DTYPE_SIZE[storage.dtype];
  let tensor: RawTensor;
  if (n === 0) {
    tensor = { dtype: storage.dtype, shape: [...shape], bytes: storage.bytes.subarray(0, 0) };
  } else {
    let last = start;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
    if (last >= storage.numel) {
      throw new Error(
        `tensor of size [${shape}], stride [${stride}], offset ${start} reaches element ${last} but storage "${storage.key}" has ${storage.numel}`,
      );
    }
    const bytes = isContiguous(shape, stride)
      ? storage.bytes.subarray(start * itemSize, (start + n) * itemSize)
      : gatherStrided(storage.bytes, itemSize, start, shape, stride);
    tensor = { dtype: storage.dtype, shape: [...shape], bytes };
  }
  tensors.add(tensor);
  return tensor;
}

/** `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: the data tensor. */
function rebuildParameter(args: readonly unknown[], tensors: Tensors): RawTensor {
  const [data] = args;
  if (args.length !== 3 || !isTensor(data, tensors)) {
    throw new Error(
      `_rebuild_parameter expects (tensor, requires_grad, hooks), got ${args.length} arguments`,
    );
  }
  return data;
}

function isTensor(v: unknown, tensors: Tensors): v is RawTensor {
  return typeof v === "object" && v !== null && tensors.has(v as RawTensor);
}

/** Row-major contiguity; dimensions of extent 1 may have any stride, as in torch. */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Copies a strided tensor into a new row-major buffer, a run at a time when the last stride is 1. */
function gatherStrided(
  src: Uint8Array,
  itemSize: number,
  start: number,
  shape: readonly number[],
  stride: readonly number[],
): Uint8Array {
  const rank = shape.length;
  const out = new Uint8Array(numel(shape) * itemSize);
  const inner = shape[rank - 1];
  const innerStride = stride[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let o = 0;
  for (;;) {
    let base = start;
    for (let d = 0; d < rank - 1; d++) base += index[d] * stride[d];
    if (innerStride === 1) {
      out.set(src.subarray(base * itemSize, (base + inner) * itemSize), o);
      o += inner * itemSize;
    } else {
      for (let i = 0; i < inner; i++) {
        const from = (base + i * innerStride) * itemSize;
        for (let b = 0; b < itemSize; b++) out[o++] = src[from + b];
      }
    }
    let d = rank - 2;
    while (d >= 0 && ++index[d] === shape[d]) index[d--] = 0;
    if (d < 0) return out;
  }
}

function flatten(
  dict: Map<unknown, unknown>,
  prefix: string,
  tensors: Tensors,
  out: Map<string, RawTensor>,
): void {
  for (const [key, value] of dict) {
    if (typeof key !== "string" && typeof key !== "number") continue;
    const name = `${prefix}${key}`;
    if (isTensor(value, tensors)) out.set(name, value);
    else if (value instanceof Map) flatten(value, `${name}.`, tensors, out);
  }
}
