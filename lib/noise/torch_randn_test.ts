import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "../io/safetensors.ts";
import { toFloat32 } from "../io/tensor.ts";
import { parseTorchSeed, TorchGenerator, torchRandn } from "./torch_randn.ts";

const FIXTURE = fileURLToPath(
  new URL("../testdata/ldm-reference/randn.safetensors", import.meta.url),
);
const TOLERANCE = 1e-6;
const fixture = await readSafetensors(FIXTURE);

function reference(name: string): Float32Array {
  const tensor = fixture.tensors.get(name);
  if (!tensor) throw new Error(`${FIXTURE} has no tensor ${name}`);
  return toFloat32(tensor);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("torchRandn matches every torch.randn tensor of the fixture", () => {
  let worst = 0;
  let checked = 0;
  for (const [name, tensor] of fixture.tensors) {
    const match = /^seed(\d+)_/.exec(name);
    if (!match) continue;
    const error = maxAbsDiff(torchRandn(tensor.shape, BigInt(match[1])), toFloat32(tensor));
    assert.ok(error <= TOLERANCE, `${name}: max abs error ${error}`);
    worst = Math.max(worst, error);
    checked++;
  }
  assert.equal(checked, 48);
  console.log(`randn: ${checked} tensors, max abs error ${worst}`);
});

Deno.test("successive draws from one generator continue torch's stream", () => {
  const generator = new TorchGenerator(5);
  const first = generator.randn([1, 3, 16, 16]);
  const second = generator.randn([1, 3, 16, 16]);
  const errors = [
    maxAbsDiff(first, reference("stream_seed5_first_1x3x16x16")),
    maxAbsDiff(second, reference("stream_seed5_second_1x3x16x16")),
  ];
  assert.ok(errors.every((e) => e <= TOLERANCE), `errors ${errors}`);
  console.log(`randn stream: max abs error ${Math.max(...errors)}`);
});

Deno.test("small draws share the cached Box-Muller normal across calls", () => {
  // 7 values use 4 pairs: the 8th normal is cached and must start the next draw.
  const generator = new TorchGenerator(42);
  const joined = new Float32Array(15);
  joined.set(generator.randn([7]), 0);
  joined.set(generator.randn([8]), 7);
  assert.ok(maxAbsDiff(joined, reference("seed42_15")) <= TOLERANCE);
});

Deno.test("manualSeed clears the cached normal", () => {
  const generator = new TorchGenerator(0);
  generator.randn([1]); // leaves the sine half cached
  generator.manualSeed(0);
  assert.ok(maxAbsDiff(generator.randn([1]), reference("seed0_1")) <= TOLERANCE);
  assert.equal(generator.initialSeed, 0n);
});

Deno.test("the shape only matters through its element count", () => {
  const flat = torchRandn([150], 1234);
  assert.ok(maxAbsDiff(flat, reference("seed1234_2x3x5x5")) <= TOLERANCE);
  const into = new TorchGenerator(1234).randnInto(new Float32Array(150));
  assert.deepEqual(into, flat);
  assert.equal(torchRandn([2, 0, 3], 1).length, 0);
});

Deno.test("seeds above 2**32 use the low 32 bits, as torch's mt19937 does", () => {
  const ref = reference("seed4294967303_1x3x16x16");
  // As a number and as a bigint.
  assert.ok(maxAbsDiff(torchRandn([1, 3, 16, 16], 2 ** 32 + 7), ref) <= TOLERANCE);
  assert.ok(maxAbsDiff(torchRandn([1, 3, 16, 16], 2n ** 32n + 7n), ref) <= TOLERANCE);
  assert.deepEqual(torchRandn([1, 3, 16, 16], 7), torchRandn([1, 3, 16, 16], 2 ** 32 + 7));
});

Deno.test("seed 2**64-1 is accepted", () => {
  const max = 2n ** 64n - 1n;
  assert.equal(parseTorchSeed(max), max);
  const generator = new TorchGenerator(max);
  assert.equal(generator.initialSeed, max);
  assert.deepEqual(generator.randn([17]), torchRandn([17], 0xffffffff));
});

Deno.test("invalid seeds raise a RangeError naming the value", () => {
  const cases: [number | bigint, string][] = [
    [-1, "-1"],
    [1.5, "1.5"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [2 ** 53, String(2 ** 53)],
    [-1n, "-1n"],
    [2n ** 64n, `${2n ** 64n}n`],
  ];
  for (const [seed, shown] of cases) {
    assert.throws(
      () => torchRandn([4], seed),
      (e: unknown) => e instanceof RangeError && e.message.includes(shown),
      `seed ${shown}`,
    );
    assert.throws(() => new TorchGenerator(0).manualSeed(seed), RangeError);
  }
  assert.throws(() => parseTorchSeed("3" as unknown as number), RangeError);
});

Deno.test("invalid shapes are rejected", () => {
  assert.throws(() => torchRandn([2, -1], 0), /invalid dimension -1/);
  assert.throws(() => torchRandn([2.5], 0), /invalid dimension 2.5/);
});
