/**
 * Resizing RGBA rasters for display: whole-number enlargements replicate pixels (the faces'
 * pixels stay honest and sharp), every other size uses area averaging (each output pixel is the
 * mean of the source area it covers, which neither aliases when shrinking nor blurs when growing).
 *
 * @module
 */

/**
 * Resizes an RGBA raster to `outWidth × outHeight`.
 * @returns a new raster; the input itself when the size is unchanged
 */
export function resizeRgba(
  rgba: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `resizeRgba: rgba has ${rgba.length} bytes, expected ${width}×${height}×4`,
    );
  }
  if (
    !Number.isInteger(outWidth) || outWidth <= 0 || !Number.isInteger(outHeight) || outHeight <= 0
  ) {
    throw new RangeError(
      `resizeRgba: target size must be positive integers, got ${outWidth}×${outHeight}`,
    );
  }
  if (outWidth === width && outHeight === height) return rgba;
  if (outWidth % width === 0 && outHeight % height === 0) {
    return replicate(rgba, width, height, outWidth / width, outHeight / height);
  }
  return areaAverage(rgba, width, height, outWidth, outHeight);
}

function replicate(
  rgba: Uint8Array,
  width: number,
  height: number,
  fx: number,
  fy: number,
): Uint8Array {
  const outWidth = width * fx;
  const out = new Uint8Array(outWidth * height * fy * 4);
  const src32 = new Uint32Array(
    rgba.buffer.slice(rgba.byteOffset, rgba.byteOffset + rgba.byteLength),
  );
  const out32 = new Uint32Array(out.buffer);
  for (let y = 0; y < height * fy; y++) {
    const srcRow = Math.floor(y / fy) * width;
    for (let x = 0; x < outWidth; x++) out32[y * outWidth + x] = src32[srcRow + Math.floor(x / fx)];
  }
  return out;
}

/** Per output index, the source indices it overlaps and the overlap weights (summing to 1). */
function areaWeights(
  inSize: number,
  outSize: number,
): { index: Int32Array; weight: Float64Array; start: Int32Array } {
  const ratio = inSize / outSize;
  const start = new Int32Array(outSize + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outSize; o++) {
    start[o] = index.length;
    const a = o * ratio, b = (o + 1) * ratio;
    for (let i = Math.floor(a); i < Math.min(inSize, Math.ceil(b)); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 1e-12) {
        index.push(i);
        weight.push(w / ratio);
      }
    }
  }
  start[outSize] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}

function areaAverage(
  rgba: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const wx = areaWeights(width, outWidth);
  const wy = areaWeights(height, outHeight);
  // Separable: rows first into a float buffer, then columns.
  const tmp = new Float64Array(outWidth * height * 4);
  for (let y = 0; y < height; y++) {
    for (let o = 0; o < outWidth; o++) {
      for (let k = wx.start[o]; k < wx.start[o + 1]; k++) {
        const s = 4 * (y * width + wx.index[k]), d = 4 * (y * outWidth + o), w = wx.weight[k];
        for (let c = 0; c < 4; c++) tmp[d + c] += rgba[s + c] * w;
      }
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 4);
  const acc = new Float64Array(4);
  for (let o = 0; o < outHeight; o++) {
    for (let x = 0; x < outWidth; x++) {
      acc.fill(0);
      for (let k = wy.start[o]; k < wy.start[o + 1]; k++) {
        const s = 4 * (wy.index[k] * outWidth + x), w = wy.weight[k];
        for (let c = 0; c < 4; c++) acc[c] += tmp[s + c] * w;
      }
      const d = 4 * (o * outWidth + x);
      for (let c = 0; c < 4; c++) out[d + c] = Math.min(255, Math.max(0, Math.round(acc[c])));
    }
  }
  return out;
}
