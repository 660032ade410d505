import assert from "node:assert/strict";
import { logF32, sincosF32 } from "./avx_mathfun.ts";

const ULP_AT_ONE = 2 ** -23;

Deno.test("logF32 stays within a few float32 ulps of the exact logarithm on (0, 1]", () => {
  for (let k = 1; k <= 1 << 24; k += 997) {
    const x = 1 - (k - 1) * 2 ** -24; // the arguments torch's normal fill produces
    const exact = Math.log(x);
    const ulp = Math.max(Math.abs(exact), 2 ** -20) * ULP_AT_ONE;
    assert.ok(Math.abs(logF32(x) - exact) <= 4 * ulp, `log(${x}): ${logF32(x)} vs ${exact}`);
    assert.equal(Math.fround(logF32(x)), logF32(x));
  }
  assert.equal(logF32(1), 0);
});

Deno.test("sincosF32 stays within float32 rounding of sin/cos on [0, 2π)", () => {
  const twoPi = Math.fround(2 * Math.PI);
  for (let k = 0; k < 1 << 24; k += 1009) {
    const theta = Math.fround(twoPi * k * 2 ** -24);
    const { sin, cos } = sincosF32(theta);
    assert.ok(Math.abs(sin - Math.sin(theta)) <= 4 * ULP_AT_ONE, `sin(${theta})`);
    assert.ok(Math.abs(cos - Math.cos(theta)) <= 4 * ULP_AT_ONE, `cos(${theta})`);
    assert.equal(Math.fround(sin), sin);
    assert.equal(Math.fround(cos), cos);
  }
});
