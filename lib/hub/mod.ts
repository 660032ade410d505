/**
 * Downloads from the Hugging Face hub into its standard cache (shared with `huggingface_hub`
 * and diffusers users), plus a generic progress reporter for long jobs.
 *
 * @module
 */

export {
  COMMIT_HASH,
  denoEnv,
  type EnvLookup,
  hubCacheDir,
  RepoCache,
  repoFolderName,
  validateRepoId,
} from "./cache.ts";
export { etagKind, hashBytes, hashFile } from "./checksum.ts";
export { type FileMetadata, HubClient, type HubClientOptions } from "./client.ts";
export {
  DEFAULT_ENDPOINT,
  hubDownload,
  type HubDownloadOptions,
  type HubDownloadProgress,
  type PipelineComponent,
  pipelineComponents,
  WEIGHT_FILES,
} from "./download.ts";
export { HubError, type HubErrorKind } from "./errors.ts";
export {
  formatDuration,
  formatQuantity,
  formatRate,
  Progress,
  type ProgressOptions,
  type ProgressWriter,
} from "./progress.ts";
