/**
 * fluidity: a reproducible harness for the experiments of *Leveraging Generative AI Models to
 * Explore Human Identity* (arXiv 2505.14843) — faces from CompVis/ldm-celebahq-256 with a colour
 * injected into the latents at the first denoising steps, moved along paths in the RGB cube.
 *
 * This is the one public entry point; it re-exports the library's API.
 *
 * @example
 * ```ts
 * import { loadModel, resolveModel, sample, torchRandn } from "./mod.ts";
 * const noise = torchRandn([1, 3, 64, 64], 42); // = torch.manual_seed(42); torch.randn(1,3,64,64)
 * const model = await loadModel(await resolveModel("tiny"));
 * const { images } = await sample(model, { seed: 42, steps: 50, colors: ["#ff0000", [0, 0, 1]] });
 * ```
 *
 * @module
 */

export * from "./lib/io/mod.ts";
export {
  MT19937,
  parseTorchSeed,
  TorchGenerator,
  torchRandn,
  type TorchSeed,
} from "./lib/noise/mod.ts";
export * from "./lib/schedulers/mod.ts";
export * from "./lib/pipelines/mod.ts";
export * from "./lib/gpu/mod.ts";
export {
  buildRandomModel,
  COMPVIS_CELEBAHQ,
  convertDiffusers,
  CONVERTER_VERSION,
  ConvertError,
  type ConvertOptions,
  defaultLatentScale,
  type RandomModelOptions,
} from "./lib/convert/convert.ts";
export { currentKeyName, normalizeKeys } from "./lib/convert/keys.ts";
export {
  hubDownload,
  type HubDownloadOptions,
  HubError,
  type HubErrorKind,
} from "./lib/hub/mod.ts";
export * from "./lib/paths/mod.ts";
export {
  type ContactFrame,
  contactSheet,
  type ContactSheetOptions,
  decodePng,
  encodeGif,
  encodeMp4,
  encodePng,
  type FfmpegLookup,
  findFfmpeg,
  gridSheet,
  type GridSheetInput,
  type GridSheetOptions,
  imageToRgba,
  type Mp4Options,
  pathPlot,
  type PathPlotInput,
  type RgbaImage,
  type VideoOptions,
} from "./lib/render/mod.ts";
export * from "./lib/identity/mod.ts";
export * from "./lib/report/mod.ts";
export * from "./lib/serve/mod.ts";
