import assert from "node:assert/strict";
import { inferenceTimesteps, numpyArange, numpyLinspace, roundHalfEven } from "./timesteps.ts";

Deno.test("roundHalfEven rounds ties to even like np.round", () => {
  const cases: [number, number][] = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-1.5, -2],
    [-2.5, -2],
    [2.4, 2],
    [2.6, 3],
  ];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, String(x));
});

Deno.test("numpyLinspace includes both ends exactly", () => {
  const values = numpyLinspace(0, 999, 7);
  assert.equal(values[0], 0);
  assert.equal(values[6], 999);
  assert.equal(values[3], 999 / 2);
  assert.deepEqual(Array.from(numpyLinspace(0, 999, 1)), [0]);
});

Deno.test("numpyArange has ceil((stop-start)/step) values", () => {
  assert.deepEqual(Array.from(numpyArange(10, 0, -2.5)), [10, 7.5, 5, 2.5]);
  assert.equal(numpyArange(0, 1, -1).length, 0);
});

Deno.test("leading spacing: multiples of N // n plus steps_offset", () => {
  assert.deepEqual(Array.from(inferenceTimesteps(1000, 7, "leading", 1)), [
    853,
    711,
    569,
    427,
    285,
    143,
    1,
  ]);
});

Deno.test("trailing and linspace spacings cover the schedule from its last timestep", () => {
  for (const n of [1, 7, 10, 50, 999, 1000]) {
    const linspace = inferenceTimesteps(1000, n, "linspace", 5);
    assert.equal(linspace.length, n);
    assert.equal(linspace[0], n === 1 ? 0 : 999);
    assert.equal(linspace[n - 1], 0);
    const trailing = inferenceTimesteps(1000, n, "trailing", 5);
    assert.equal(trailing[0], 999);
    for (const ts of [linspace, trailing]) {
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i] < ts[i - 1], `n=${n} not descending`);
    }
  }
  assert.deepEqual(Array.from(inferenceTimesteps(1000, 10, "trailing", 0)), [
    999,
    899,
    799,
    699,
    599,
    499,
    399,
    299,
    199,
    99,
  ]);
});

Deno.test("trailing spacing keeps numpy's float arange length, as diffusers 0.31 does", () => {
  // 1000 / (1000 / 61) rounds above 61, so np.arange yields 62 values and the last is -1;
  // DDIMScheduler.step rejects that timestep rather than indexing from the end as torch would.
  const timesteps = inferenceTimesteps(1000, 61, "trailing", 0);
  assert.equal(timesteps.length, 62);
  assert.equal(timesteps[61], -1);
});
