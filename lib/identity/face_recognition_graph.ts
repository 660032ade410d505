/**
 * face-api's `FaceRecognitionNet` (the dlib ResNet-34-style face descriptor, 150×150 RGB in,
 * 128 floats out) as an ONNX graph, operation for operation as `FaceRecognitionNet.forwardInput`
 * of `@vladmandic/face-api` 1.7.15 computes it in TensorFlow.js, but in NCHW:
 *
 * - input `pixels` [N, 3, 150, 150], RGB values in 0..255 (face-api's batch tensor, transposed);
 * - `normalize(x, [122.782, 117.001, 104.298]).div(255)` (mean RGB subtracted, then ÷ 255);
 * - conv layer = conv2d + bias, then the "scale" layer `x * weights + biases`, then ReLU
 *   (`same` padding for stride 1, `valid` for the stride-2 "down" convolutions);
 * - residual = relu(conv(conv(x), no relu) + x); the "down" residual adds a 2×2 average pool
 *   of x, zero-padded in channels, and zero-pads the conv branch by one row and column where
 *   the valid stride-2 convolution came out one smaller than the pool (8→3 vs 4, 4→1 vs 2);
 * - the mean over H and W, then `matMul` with `fc` (no bias) → `descriptor` [N, 128].
 *
 * @module
 */

import { attr } from "../onnx/graph.ts";
import type { OnnxGraph } from "../onnx/graph.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import type { NamedTensor } from "./face_api_weights.ts";

/** Side of the square input face-api resizes faces to for this net. */
export const FACE_NET_INPUT_SIZE = 150;

/** face-api's mean RGB, subtracted from 0..255 pixel values before dividing by 255. */
export const FACE_API_MEAN_RGB: readonly [number, number, number] = [122.782, 117.001, 104.298];

/** Name of the graph input: [N, 3, 150, 150] float32 RGB values in 0..255. */
export const FACE_NET_INPUT = "pixels";

/** Name of the graph output: [N, 128] float32 descriptors. */
export const FACE_NET_OUTPUT = "descriptor";

/** Raised when the weights do not fit the network (missing tensor or wrong shape). */
export class FaceNetWeightsError extends Error {
  /** Creates a FaceNetWeightsError. */
  constructor(message: string) {
    super(message);
    this.name = "FaceNetWeightsError";
  }
}

/** The residual stages after the 7×7 stem: name, output channels, whether it halves H and W. */
const STAGES: readonly { name: string; channels: number; down: boolean }[] = [
  { name: "conv32_1", channels: 32, down: false },
  { name: "conv32_2", channels: 32, down: false },
  { name: "conv32_3", channels: 32, down: false },
  { name: "conv64_down", channels: 64, down: true },
  { name: "conv64_1", channels: 64, down: false },
  { name: "conv64_2", channels: 64, down: false },
  { name: "conv64_3", channels: 64, down: false },
  { name: "conv128_down", channels: 128, down: true },
  { name: "conv128_1", channels: 128, down: false },
  { name: "conv128_2", channels: 128, down: false },
  { name: "conv256_down", channels: 256, down: true },
  { name: "conv256_1", channels: 256, down: false },
  { name: "conv256_2", channels: 256, down: false },
  { name: "conv256_down_out", channels: 256, down: true },
];

/** Output side of a `valid` convolution or pool. */
function validSize(size: number, kernel: number, stride: number): number {
  return Math.floor((size - kernel) / stride) + 1;
}

/**
 * Builds the graph from the decoded `face_recognition_model` weights (TensorFlow layout:
 * filters HWIO, `fc` [256, 128]).
 *
 * @throws {FaceNetWeightsError} when a weight is missing or has an unexpected shape
 */
export function buildFaceRecognitionGraph(tensors: ReadonlyMap<string, NamedTensor>): OnnxGraph {
  const b = new GraphBuilder({ name: "face_recognition_net" });
  const used = new Set<string>();
  const take = (name: string, shape: number[]): NamedTensor => {
    const t = tensors.get(name);
    if (!t) throw new FaceNetWeightsError(`weight "${name}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new FaceNetWeightsError(`weight "${name}" has shape [${t.shape}], expected [${shape}]`);
    }
    used.add(name);
    return t;
  };

  /** conv2d + bias → scale layer → optional ReLU; returns the value name. */
  const convLayer = (
    x: string,
    prefix: string,
    cin: number,
    cout: number,
    kernel: number,
    stride: 1 | 2,
    relu: boolean,
  ): string =>
    b.scope(prefix, () => {
      const filters = take(`${prefix}/conv/filters`, [kernel, kernel, cin, cout]);
      const weight = b.initializer(
        `${prefix}/conv/filters`,
        hwioToOihw(filters.data, kernel, cin, cout),
        [cout, cin, kernel, kernel],
      );
      const bias = b.initializer(
        `${prefix}/conv/bias`,
        take(`${prefix}/conv/bias`, [cout]).data,
        [cout],
      );
      // TF "same" with stride 1 and an odd kernel pads (k-1)/2 each side; "valid" pads nothing.
      const pad = stride === 1 ? (kernel - 1) / 2 : 0;
      let out = b.conv(x, weight, bias, {
        strides: [stride, stride],
        pads: [pad, pad, pad, pad],
      });
      const scale = b.initializer(
        `${prefix}/scale/weights`,
        take(`${prefix}/scale/weights`, [cout]).data,
        [cout, 1, 1],
      );
      const shift = b.initializer(
        `${prefix}/scale/biases`,
        take(`${prefix}/scale/biases`, [cout]).data,
        [cout, 1, 1],
      );
      out = b.add(b.mul(out, scale), shift);
      return relu ? b.node("Relu", [out])[0] : out;
    });

  const pixels = b.input(FACE_NET_INPUT, "float32", [
    "batch",
    3,
    FACE_NET_INPUT_SIZE,
    FACE_NET_INPUT_SIZE,
  ]);
  const normalized = b.scope("normalize", () =>
    b.div(
      b.sub(pixels, b.constFloat([...FACE_API_MEAN_RGB], [1, 3, 1, 1])),
      b.constFloat([255], []),
    ));

  let x = convLayer(normalized, "conv32_down", 3, 32, 7, 2, true);
  let size = validSize(FACE_NET_INPUT_SIZE, 7, 2);
  x = b.scope("stem_pool", () =>
    b.node("MaxPool", [x], {
      kernel_shape: attr.ints([3, 3]),
      strides: attr.ints([2, 2]),
    })[0]);
  size = validSize(size, 3, 2);
  let channels = 32;

  for (const stage of STAGES) {
    const { name, channels: cout, down } = stage;
    if (!down) {
      let out = convLayer(x, `${name}/conv1`, channels, cout, 3, 1, true);
      out = convLayer(out, `${name}/conv2`, cout, cout, 3, 1, false);
      x = b.scope(name, () => b.node("Relu", [b.add(out, x)])[0]);
      continue;
    }
    let out = convLayer(x, `${name}/conv1`, channels, cout, 3, 2, true);
    out = convLayer(out, `${name}/conv2`, cout, cout, 3, 1, false);
    const convSize = validSize(size, 3, 2);
    const poolSize = validSize(size, 2, 2);
    x = b.scope(name, () => {
      let pooled = b.node("AveragePool", [x], {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
      })[0];
      if (convSize !== poolSize) {
        // face-api concatenates a zero row (bottom) and a zero column (right) to the conv branch.
        const grow = poolSize - convSize;
        out = b.pad(out, [0, 0, 0, 0, 0, 0, grow, grow]);
      }
      // ... and zero channels after the pooled input's.
      if (channels !== cout) pooled = b.pad(pooled, [0, 0, 0, 0, 0, cout - channels, 0, 0]);
      return b.node("Relu", [b.add(pooled, out)])[0];
    });
    size = poolSize;
    channels = cout;
  }

  const fc = b.initializer("fc", take("fc", [channels, 128]).data, [channels, 128]);
  const descriptor = b.scope("head", () => b.matmul(b.reduceMean(x, [2, 3], false), fc));
  b.output(descriptor, FACE_NET_OUTPUT, "float32", ["batch", 128]);

  const unused = [...tensors.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new FaceNetWeightsError(`weights not used by the network: ${unused.join(", ")}`);
  }
  b.setMetadata("source", "@vladmandic/face-api face_recognition_model");
  return b.build();
}

/** TensorFlow conv filters [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
function hwioToOihw(data: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < k; h++) {
    for (let w = 0; w < k; w++) {
      for (let i = 0; i < cin; i++) {
        const src = ((h * k + w) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * k + h) * k + w] = data[src + o];
      }
    }
  }
  return out;
}
