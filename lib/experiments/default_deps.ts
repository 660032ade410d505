/**
 * The real implementations of {@link RunnerDeps}: `lib/pipelines` (onnxruntime), `lib/paths`,
 * `lib/render`. Imported only when a run needs them, so specs and unit tests stay light.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import * as pipelines from "../pipelines/mod.ts";
import * as render from "../render/mod.ts";
import type { RunnerDeps, RunnerModel } from "./deps.ts";
import { verifyModelFiles } from "../pipelines/model_files.ts";
import { defaultPictureDeps } from "./picture_deps.ts";

/** The real runner dependencies. */
export function defaultDeps(): RunnerDeps {
  return {
    ...defaultPictureDeps(),
    resolveModel: (spec, log) => pipelines.resolveModel(spec, { log }),
    verifyModel: verifyModelFiles,
    loadModel: (dir, options) => pipelines.loadModel(dir, options),
    sample: (model: RunnerModel, options) =>
      pipelines.sample(model as unknown as pipelines.LoadedModel, options),
    onnxruntimeVersion: () => {
      const versions = ort.env.versions as Record<string, string | undefined>;
      return Promise.resolve(versions.node ?? versions.common ?? "unknown");
    },
    imageToRgba: render.imageToRgba,
    encodePng: render.encodePng,
    // The face net's module (and its one-off conversion) only when a run computes identity.
    loadEmbedder: async (options) => {
      const { loadFaceEmbedder } = await import("../identity/face_recognition.ts");
      return loadFaceEmbedder(options);
    },
  };
}
