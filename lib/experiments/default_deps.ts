/**
 * The real implementations of {@link RunnerDeps}: `lib/pipelines` (onnxruntime), `lib/paths`,
 * `lib/render`. Imported only when a run needs them, so specs and unit tests stay light.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import * as paths from "../paths/mod.ts";
import * as pipelines from "../pipelines/mod.ts";
import * as render from "../render/mod.ts";
import type { PathApi } from "./plan.ts";
import type { RunnerDeps, RunnerModel } from "./deps.ts";

/** The real runner dependencies. */
export function defaultDeps(): RunnerDeps {
  return {
    resolveModel: (spec, log) => pipelines.resolveModel(spec, { log }),
    loadModel: (dir, options) => pipelines.loadModel(dir, options),
    sample: (model: RunnerModel, options) =>
      pipelines.sample(model as unknown as pipelines.LoadedModel, options),
    onnxruntimeVersion: () => {
      const versions = ort.env.versions as Record<string, string | undefined>;
      return Promise.resolve(versions.node ?? versions.common ?? "unknown");
    },
    paths: paths as unknown as PathApi,
    imageToRgba: render.imageToRgba,
    encodePng: render.encodePng,
    decodePng: render.decodePng,
    contactSheet: render.contactSheet,
    pathPlot: render.pathPlot,
    encodeGif: render.encodeGif,
    encodeMp4: render.encodeMp4,
    findFfmpeg: () => render.findFfmpeg(),
  };
}
