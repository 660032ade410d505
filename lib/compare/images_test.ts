import assert from "node:assert/strict";
import { compareImages, type SameSizeComparison } from "./images.ts";
import { DEFAULT_TOLERANCE, judge } from "./tolerance.ts";
import { gradientImage } from "./_test_util.ts";

const W = 32, H = 24;

function sameSize(c: ReturnType<typeof compareImages>): SameSizeComparison {
  assert.ok(c.sameSize, "expected images of equal size");
  return c;
}

Deno.test("compareImages: identical images", () => {
  const a = gradientImage(W, H, 3);
  const c = sameSize(compareImages({ width: W, height: H, rgba: a }, {
    width: W,
    height: H,
    rgba: a.slice(),
  }));
  assert.equal(c.identical, true);
  assert.equal(c.maxAbsDiff, 0);
  assert.equal(c.psnr, Infinity);
  assert.equal(c.ssim, 1);
  assert.equal(c.differingPixels, 0);
  assert.equal(c.differingShare, 0);
  assert.equal(judge(c).status, "identical");
});

Deno.test("compareImages: a 1-level change on one pixel is within the default tolerance", () => {
  const a = gradientImage(W, H, 1);
  const b = a.slice();
  const p = (5 * W + 7) * 4;
  for (let ch = 0; ch < 3; ch++) b[p + ch] = b[p + ch] < 255 ? b[p + ch] + 1 : 254;
  const c = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: b }),
  );
  assert.equal(c.identical, false);
  assert.equal(c.maxAbsDiff, 1);
  // MSE = 3 unit squares over W·H·3 values.
  assert.ok(Math.abs(c.psnr - 10 * Math.log10((255 * 255 * W * H) / 1)) < 1e-9);
  assert.ok(c.ssim > 0.999 && c.ssim < 1, `ssim ${c.ssim}`);
  assert.equal(c.differingPixels, 0, "a 1-level change is below the default pixel threshold");
  assert.equal(judge(c).status, "within-tolerance");

  // With pixelmatch's threshold at 0 the pixel counts, and the diff picture marks exactly it.
  const strict = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: b }, {
      pixelThreshold: 0,
    }),
  );
  assert.equal(strict.differingPixels, 1);
  assert.equal(strict.differingShare, 1 / (W * H));
  const diff = strict.diffImage!;
  assert.deepEqual([...diff.subarray(p, p + 3)], [255, 0, 0]);
  let red = 0;
  for (let i = 0; i < diff.length; i += 4) {
    if (diff[i] === 255 && diff[i + 1] === 0 && diff[i + 2] === 0) red++;
  }
  assert.equal(red, 1);
});

Deno.test("compareImages: a 1-level change everywhere stays within tolerance", () => {
  const a = gradientImage(W, H, 2);
  const b = a.map((v, i) => (i % 4 === 3 ? v : v < 255 ? v + 1 : v - 1));
  const c = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: b }),
  );
  assert.equal(c.maxAbsDiff, 1);
  assert.ok(Math.abs(c.psnr - 10 * Math.log10(255 * 255)) < 1e-9, `psnr ${c.psnr}`);
  assert.equal(c.differingPixels, 0);
  assert.equal(judge(c).status, "within-tolerance");
});

Deno.test("compareImages: a big change is different, on every criterion", () => {
  const a = gradientImage(W, H, 4);
  const b = a.slice();
  let changed = 0;
  for (let y = 4; y < 16; y++) {
    for (let x = 8; x < 24; x++) {
      const p = (y * W + x) * 4;
      for (let ch = 0; ch < 3; ch++) b[p + ch] = 255 - a[p + ch];
      changed++;
    }
  }
  const c = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: b }),
  );
  assert.ok(c.maxAbsDiff > 100);
  assert.ok(c.psnr < 30, `psnr ${c.psnr}`);
  assert.ok(c.ssim < DEFAULT_TOLERANCE.minSsim, `ssim ${c.ssim}`);
  // Inverted pixels whose value is near 127.5 barely move, so at most the changed block counts.
  assert.ok(c.differingPixels > changed / 2 && c.differingPixels <= changed);
  const verdict = judge(c);
  assert.equal(verdict.status, "different");
  assert.deepEqual(verdict.failed, ["maxDiff", "minPsnr", "minSsim", "maxShare"]);
  assert.equal(verdict.reasons.length, 4, verdict.reasons.join("; "));
});

Deno.test("compareImages: a size mismatch is a result, not an exception", () => {
  const c = compareImages(
    { width: W, height: H, rgba: gradientImage(W, H) },
    { width: H, height: W, rgba: gradientImage(H, W) },
  );
  assert.equal(c.sameSize, false);
  assert.equal(c.identical, false);
  assert.ok(!c.sameSize && c.message.includes(`${W}×${H}`) && c.message.includes(`${H}×${W}`));
  assert.equal(judge(c).status, "different");
});

Deno.test("compareImages: SSIM still sees differences in images smaller than its window", () => {
  const a = gradientImage(6, 6, 1);
  const b = a.slice();
  b[0] ^= 0x40;
  const c = sameSize(
    compareImages({ width: 6, height: 6, rgba: a }, { width: 6, height: 6, rgba: b }),
  );
  assert.ok(c.ssim < 1, `ssim ${c.ssim}`);
});

Deno.test("compareImages: unaligned views and bad rasters", () => {
  const a = gradientImage(W, H, 5);
  const buffer = new Uint8Array(a.length + 1);
  buffer.set(a, 1);
  const c = sameSize(
    compareImages({ width: W, height: H, rgba: buffer.subarray(1) }, {
      width: W,
      height: H,
      rgba: a,
    }),
  );
  assert.equal(c.identical, true);
  assert.throws(
    () =>
      compareImages({ width: W, height: H, rgba: a.subarray(4) }, { width: W, height: H, rgba: a }),
    /image A: .* bytes of RGBA/,
  );
  assert.throws(
    () =>
      compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: a }, {
        pixelThreshold: 2,
      }),
    /pixelThreshold/,
  );
});

Deno.test("compareImages: the default pixel threshold ignores ±2 levels and counts a 3-level grey change", () => {
  const a = gradientImage(W, H, 6).map((v, i) => (i % 4 === 3 ? v : 100 + (v % 50)));
  // Every sign pattern of ±2 over R, G, B, one pattern per pixel.
  const b = a.map((v, i) => {
    if (i % 4 === 3) return v;
    const pattern = (i >> 2) % 8;
    return v + (((pattern >> (i % 4)) & 1) ? 2 : -2);
  });
  const c = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: b }),
  );
  assert.equal(c.maxAbsDiff, 2);
  assert.equal(c.differingPixels, 0);
  assert.equal(judge(c).status, "within-tolerance");

  const grey3 = a.map((v, i) => (i % 4 === 3 ? v : v + 3));
  const d = sameSize(
    compareImages({ width: W, height: H, rgba: a }, { width: W, height: H, rgba: grey3 }),
  );
  assert.equal(d.differingPixels, W * H);
  assert.equal(judge(d).status, "different");
});
