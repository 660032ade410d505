/**
 * How model graphs obtain their parameters: through a {@link ParamSource} that is asked for each
 * checkpoint tensor by its diffusers key and expected shape. One source feeds real checkpoint
 * tensors into the graph; another only records the requests, which is how the parameter-shape
 * tables are derived from the very code that builds the graphs (so the two cannot drift apart).
 *
 * @module
 */

import type { GraphBuilder } from "../onnx/graph_builder.ts";
import { type DType, numel, type RawTensor } from "../io/tensor.ts";

/** Supplies model parameters to graph-building code. */
export interface ParamSource {
  /**
   * The graph value holding checkpoint tensor `name`, which must have exactly `shape`.
   * Asking twice for one name returns the same value.
   */
  param(name: string, shape: readonly number[]): string;
}

/** A checkpoint that does not fit the architecture; the message lists every problem. */
export class WeightError extends Error {
  /** Keys the architecture needs that the checkpoint lacks. */
  readonly missing: string[];
  /** Keys whose shape or dtype is wrong. */
  readonly mismatched: string[];

  /** @param label what was checked; @param problems one line per bad key */
  constructor(label: string, missing: string[], mismatched: string[], problems: string[]) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length
      ? `\n  ... and ${problems.length - shown.length} more`
      : "";
    super(`${label}: checkpoint does not fit the architecture:\n  ${shown.join("\n  ")}${more}`);
    this.name = "WeightError";
    this.missing = missing;
    this.mismatched = mismatched;
  }
}

const FLOAT_DTYPES: readonly DType[] = ["F32", "F16", "BF16", "F64"];

/**
 * Checks that `weights` holds every tensor of `expected` with that exact shape and a float
 * dtype. Extra tensors (e.g. a VQModel's encoder) are ignored.
 *
 * @throws {WeightError} naming each missing key with its expected shape, and each misshaped key
 *   with the expected and the actual shape
 */
export function checkWeights(
  expected: ReadonlyMap<string, readonly number[]>,
  weights: ReadonlyMap<string, RawTensor>,
  label: string,
): void {
  const missing: string[] = [];
  const mismatched: string[] = [];
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (!t) {
      missing.push(name);
      problems.push(`missing tensor "${name}" (expected shape [${shape}])`);
    } else if (!sameShape(t.shape, shape)) {
      mismatched.push(name);
      problems.push(`tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
    } else if (!FLOAT_DTYPES.includes(t.dtype)) {
      mismatched.push(name);
      problems.push(`tensor "${name}" has dtype ${t.dtype}, expected F32, F16 or BF16`);
    }
  }
  if (problems.length > 0) throw new WeightError(label, missing, mismatched, problems);
}

/** Stores checkpoint tensors as float32 initializers under their checkpoint keys. */
export class CheckpointParams implements ParamSource {
  readonly #builder: GraphBuilder;
  readonly #weights: ReadonlyMap<string, RawTensor>;
  readonly #label: string;

  /**
   * @param builder the graph to add initializers to
   * @param weights checkpoint tensors by diffusers key (any float dtype)
   * @param label checkpoint name for error messages
   */
  constructor(builder: GraphBuilder, weights: ReadonlyMap<string, RawTensor>, label: string) {
    this.#builder = builder;
    this.#weights = weights;
    this.#label = label;
  }

  /** @inheritdoc */
  param(name: string, shape: readonly number[]): string {
    if (this.#builder.getInitializer(name)) return name;
    const t = this.#weights.get(name);
    if (!t || !sameShape(t.shape, shape)) {
      const problem = t
        ? `tensor "${name}" has shape [${t.shape}], expected [${shape}]`
        : `missing tensor "${name}" (expected shape [${shape}])`;
      throw new WeightError(this.#label, t ? [] : [name], t ? [name] : [], [problem]);
    }
    return this.#builder.initializer(name, t);
  }
}

/**
 * Records the name and shape of every parameter a graph asks for, declaring each as a graph
 * input so the graph stays well formed without any weight data.
 */
export class ShapeRecorder implements ParamSource {
  /** Requested parameters in the order the graph first used them. */
  readonly shapes = new Map<string, number[]>();
  readonly #builder: GraphBuilder;

  /** @param builder a throwaway graph the requests are declared in */
  constructor(builder: GraphBuilder) {
    this.#builder = builder;
  }

  /** @inheritdoc */
  param(name: string, shape: readonly number[]): string {
    const known = this.shapes.get(name);
    if (known) {
      if (!sameShape(known, shape)) {
        throw new Error(`parameter "${name}" requested as [${shape}] and as [${known}]`);
      }
      return name;
    }
    this.shapes.set(name, [...shape]);
    return this.#builder.input(name, "float32", [...shape]);
  }
}

/** Total number of scalars in a shape table. */
export function countParameters(shapes: ReadonlyMap<string, readonly number[]>): number {
  let total = 0;
  for (const shape of shapes.values()) total += numel(shape);
  return total;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
