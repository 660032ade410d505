/**
 * A minimal zip reader for the archives `torch.save` writes: entries STORED (uncompressed) and
 * 64-byte aligned, sizes only in the central directory (the local headers carry a data
 * descriptor flag), and a ZIP64 end-of-central-directory record. Entry data is handed out as
 * views into the one file buffer, so a 1 GB checkpoint is never held twice. DEFLATE entries,
 * which torch never writes but other zip tools do, are inflated into a copy.
 *
 * Every structural field is checked against the file's bounds, and each entry's CRC-32 is
 * verified when the entry is first read, so a truncated or corrupt file fails with a
 * {@link ZipError} naming the file instead of yielding garbage.
 *
 * @module
 */

import { crc32, inflateRawSync } from "node:zlib";

/** Raised for any malformed zip input; the message names the file and the problem. */
export class ZipError extends Error {
  /**
   * Creates a ZipError.
   *
   * @param source file name or label used in the message
   * @param problem what is wrong
   */
  constructor(source: string, problem: string) {
    super(`${source}: not a valid zip archive: ${problem}`);
    this.name = "ZipError";
  }
}

/** Compression methods this reader understands. */
export const ZIP_STORED = 0;
/** Raw DEFLATE; inflated into a copy on read. */
export const ZIP_DEFLATED = 8;

/** One file inside a zip archive, as its central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  readonly name: string;
  /** {@link ZIP_STORED} or {@link ZIP_DEFLATED}. */
  readonly method: number;
  /** Bytes the entry occupies in the file. */
  readonly compressedSize: number;
  /** Bytes of the entry once decompressed. */
  readonly size: number;
  /** CRC-32 of the decompressed bytes. */
  readonly crc32: number;
  /** File offset of the entry's (possibly compressed) data. */
  readonly dataOffset: number;
}

/** Options for {@link ZipArchive}. */
export interface ZipOptions {
  /** Check each entry's CRC-32 on first read (default true; native, about 10 GB/s). */
  verifyCrc?: boolean;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_MIN_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const MAX_COMMENT = 0xffff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** Where the central directory is and how many entries it has. */
interface DirectoryLocation {
  entries: number;
  offset: number;
  size: number;
}

/**
 * A parsed zip archive over one in-memory file. Construction reads and validates the central
 * directory and every local header; {@link ZipArchive.read} returns an entry's bytes.
 */
export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #source: string;
  readonly #verifyCrc: boolean;
  readonly #verified = new Set<string>();

  /**
   * @param bytes the whole archive
   * @param source a name for error messages
   * @throws {ZipError} on a truncated file, bad signatures, ZIP64 inconsistencies, encrypted or
   *   multi-disk archives, duplicate names, or entries pointing outside the file.
   */
  constructor(bytes: Uint8Array, source = "<memory>", options: ZipOptions = {}) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#source = source;
    this.#verifyCrc = options.verifyCrc ?? true;
    this.entries = this.#readDirectory(this.#locateDirectory());
  }

  /** Entry names in central-directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether the archive has an entry called `name`. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The decompressed bytes of entry `name`: a view into the file for STORED entries, a new
   * buffer for DEFLATE ones.
   *
   * @throws {ZipError} if there is no such entry, it fails to inflate, or its CRC-32 disagrees.
   */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw this.#error(`no entry "${name}"`);
    const raw = this.#bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let data: Uint8Array;
    if (entry.method === ZIP_STORED) {
      data = raw;
    } else {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (e) {
        throw this.#error(`entry "${name}" does not inflate (${(e as Error).message})`);
      }
      if (data.byteLength !== entry.size) {
        throw this.#error(
          `entry "${name}" inflates to ${data.byteLength} bytes, directory says ${entry.size}`,
        );
      }
    }
    if (this.#verifyCrc && !this.#verified.has(name)) {
      const actual = crc32(data) >>> 0;
      if (actual !== entry.crc32) {
        throw this.#error(
          `entry "${name}" is corrupt: CRC-32 is ${hex32(actual)}, directory says ${
            hex32(entry.crc32)
          }`,
        );
      }
      this.#verified.add(name);
    }
    return data;
  }

  #error(problem: string): ZipError {
    return new ZipError(this.#source, problem);
  }

  /** Reads a u64 that must fit a JS number (any real file offset does). */
  #u64(at: number, field: string): number {
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#error(`${field} ${v} is out of range`);
    return Number(v);
  }

  #locateDirectory(): DirectoryLocation {
    const dv = this.#view;
    const len = this.#bytes.byteLength;
    if (len < EOCD_SIZE) {
      throw this.#error(
        `file is ${len} bytes, too short for an end-of-central-directory record (truncated?)`,
      );
    }
    // The record sits at the very end, followed only by a comment of at most 64 KiB.
    let eocd = -1;
    for (let at = len - EOCD_SIZE; at >= Math.max(0, len - EOCD_SIZE - MAX_COMMENT); at--) {
      if (
        dv.getUint32(at, true) === SIG_EOCD && at + EOCD_SIZE + dv.getUint16(at + 20, true) <= len
      ) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) {
      throw this.#error("no end-of-central-directory record found (truncated or not a zip file?)");
    }
    const disk = dv.getUint16(eocd + 4, true);
    const cdDisk = dv.getUint16(eocd + 6, true);
    let entries = dv.getUint16(eocd + 10, true);
    let size = dv.getUint32(eocd + 12, true);
    let offset = dv.getUint32(eocd + 16, true);
    const locator = eocd - ZIP64_LOCATOR_SIZE;
    if (locator >= 0 && dv.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
      const at = this.#u64(locator + 8, "ZIP64 end-of-central-directory offset");
      if (at + ZIP64_EOCD_MIN_SIZE > locator) {
        throw this.#error(
          `ZIP64 end-of-central-directory offset ${at} is outside the file (truncated?)`,
        );
      }
      if (dv.getUint32(at, true) !== SIG_ZIP64_EOCD) {
        throw this.#error(`bad ZIP64 end-of-central-directory signature at byte ${at}`);
      }
      if (dv.getUint32(at + 16, true) !== 0 || dv.getUint32(at + 20, true) !== 0) {
        throw this.#error("multi-disk archives are not supported");
      }
      entries = this.#u64(at + 32, "ZIP64 entry count");
      size = this.#u64(at + 40, "ZIP64 central directory size");
      offset = this.#u64(at + 48, "ZIP64 central directory offset");
    } else if (entries === U16_MAX || size === U32_MAX || offset === U32_MAX) {
      throw this.#error("end-of-central-directory record needs ZIP64 but has no ZIP64 locator");
    } else if (disk !== 0 || cdDisk !== 0) {
      throw this.#error("multi-disk archives are not supported");
    }
    if (offset + size > eocd) {
      throw this.#error(
        `central directory (bytes ${offset}..${offset + size}) runs past its end record at ${eocd}`,
      );
    }
    return { entries, offset, size };
  }

  #readDirectory(dir: DirectoryLocation): Map<string, ZipEntry> {
    const dv = this.#view;
    const bytes = this.#bytes;
    const names = new TextDecoder("utf-8");
    const entries = new Map<string, ZipEntry>();
    const end = dir.offset + dir.size;
    let at = dir.offset;
    for (let i = 0; i < dir.entries; i++) {
      if (at + CENTRAL_HEADER_SIZE > end) {
        throw this.#error(`central directory ends after ${i} of ${dir.entries} entries`);
      }
      if (dv.getUint32(at, true) !== SIG_CENTRAL) {
        throw this.#error(`bad central directory signature at byte ${at} (entry ${i})`);
      }
      const flags = dv.getUint16(at + 8, true);
      const method = dv.getUint16(at + 10, true);
      const crc = dv.getUint32(at + 16, true);
      let compressedSize = dv.getUint32(at + 20, true);
      let size = dv.getUint32(at + 24, true);
      const nameLen = dv.getUint16(at + 28, true);
      const extraLen = dv.getUint16(at + 30, true);
      const commentLen = dv.getUint16(at + 32, true);
      let disk = dv.getUint16(at + 34, true);
      let localOffset = dv.getUint32(at + 42, true);
      const next = at + CENTRAL_HEADER_SIZE + nameLen + extraLen + commentLen;
      if (next > end) throw this.#error(`central directory entry ${i} runs past the directory`);
      const nameBytes = bytes.subarray(
        at + CENTRAL_HEADER_SIZE,
        at + CENTRAL_HEADER_SIZE + nameLen,
      );
      const name = names.decode(nameBytes);
      // ZIP64 extra field: 8-byte values for exactly those fields saturated in the fixed header,
      // in this order.
      const extraStart = at + CENTRAL_HEADER_SIZE + nameLen;
      for (let x = extraStart; x + 4 <= extraStart + extraLen;) {
        const id = dv.getUint16(x, true);
        const len = dv.getUint16(x + 2, true);
        if (x + 4 + len > extraStart + extraLen) {
          throw this.#error(`entry "${name}" has an extra field running past its header`);
        }
        if (id === ZIP64_EXTRA_ID) {
          let p = x + 4;
          const take = (field: string): number => {
            if (p + 8 > x + 4 + len) {
              throw this.#error(`entry "${name}" has a ZIP64 extra field without its ${field}`);
            }
            const v = this.#u64(p, `entry "${name}" ZIP64 ${field}`);
            p += 8;
            return v;
          };
          if (size === U32_MAX) size = take("size");
          if (compressedSize === U32_MAX) compressedSize = take("compressed size");
          if (localOffset === U32_MAX) localOffset = take("local header offset");
          if (disk === U16_MAX) {
            if (p + 4 > x + 4 + len) {
              throw this.#error(`entry "${name}" has a ZIP64 extra field without its disk number`);
            }
            disk = dv.getUint32(p, true);
          }
        }
        x += 4 + len;
      }
      if (disk !== 0) {
        throw this.#error(
          `entry "${name}" is on disk ${disk}; multi-disk archives are not supported`,
        );
      }
      if (flags & FLAG_ENCRYPTED) throw this.#error(`entry "${name}" is encrypted`);
      if (method !== ZIP_STORED && method !== ZIP_DEFLATED) {
        throw this.#error(
          `entry "${name}" uses compression method ${method}; only 0 (stored) and 8 (deflate) are supported`,
        );
      }
      if (method === ZIP_STORED && compressedSize !== size) {
        throw this.#error(
          `stored entry "${name}" has compressed size ${compressedSize} but size ${size}`,
        );
      }
      if (entries.has(name)) throw this.#error(`duplicate entry "${name}"`);
      const dataOffset = this.#checkLocalHeader(name, nameBytes, localOffset, dir.offset);
      if (dataOffset + compressedSize > dir.offset) {
        throw this.#error(
          `entry "${name}" data (bytes ${dataOffset}..${
            dataOffset + compressedSize
          }) runs into the central directory at ${dir.offset}`,
        );
      }
      entries.set(name, { name, method, compressedSize, size, crc32: crc, dataOffset });
      at = next;
    }
    return entries;
  }

  /** Validates an entry's local header and returns where its data starts. */
  #checkLocalHeader(name: string, nameBytes: Uint8Array, at: number, limit: number): number {
    const dv = this.#view;
    if (at + LOCAL_HEADER_SIZE > limit) {
      throw this.#error(`entry "${name}" local header offset ${at} is out of range`);
    }
    if (dv.getUint32(at, true) !== SIG_LOCAL) {
      throw this.#error(`bad local header signature at byte ${at} for entry "${name}"`);
    }
    const nameLen = dv.getUint16(at + 26, true);
    const extraLen = dv.getUint16(at + 28, true);
    const dataOffset = at + LOCAL_HEADER_SIZE + nameLen + extraLen;
    if (dataOffset > limit) {
      throw this.#error(`entry "${name}" local header runs past the central directory`);
    }
    const localName = this.#bytes.subarray(
      at + LOCAL_HEADER_SIZE,
      at + LOCAL_HEADER_SIZE + nameLen,
    );
    if (!equalBytes(localName, nameBytes)) {
      throw this.#error(`entry "${name}" local header names a different file`);
    }
    return dataOffset;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}
