/**
 * The contract between face-recognition networks and the rest of fluidity: a face embedder turns
 * decoded images into identity descriptors. The real one is face-api's `face_recognition_model`
 * run on onnxruntime (see `face_recognition.ts`); analysis code depends only on this interface.
 *
 * @module
 */

/**
 * face-api's (and dlib's) convention: two descriptors closer than this Euclidean distance are
 * taken to be the same person.
 */
export const SAME_PERSON_THRESHOLD = 0.6;

/** Length of a descriptor of face-api's `face_recognition_model`. */
export const DESCRIPTOR_LENGTH = 128;

/** What identifies the embedding network, recorded in manifests beside every number it produced. */
export interface EmbedderInfo {
  /** Human-readable name, e.g. `face-api face_recognition_model (ResNet-34, 128-D)`. */
  name: string;
  /** npm package and version the weights came from, e.g. `@vladmandic/face-api@1.7.15`. */
  source: string;
  /** SHA-256 of the ONNX graph the descriptors were computed with. */
  sha256: string;
  /** Descriptor length. */
  dimension: number;
  /** Distance below which two faces count as the same person. */
  threshold: number;
  /** Short description of the preprocessing (crop, resize, mean subtraction). */
  preprocessing: string;
}

/** A loaded face embedder. */
export interface FaceEmbedder {
  /** What network this is. */
  readonly info: EmbedderInfo;
  /**
   * Descriptors of `count` RGB images, NCHW float32 in [0, 1] (the layout `sample` returns), each
   * `size` × `size` pixels. Returns `count` × `info.dimension` floats, row-major.
   */
  embed(images: Float32Array, count: number, size: number): Promise<Float32Array>;
  /** Frees the onnxruntime session. */
  release(): Promise<void>;
}

/** Euclidean distance between descriptor `i` of `a` and descriptor `j` of `b`. */
export function descriptorDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dimension = DESCRIPTOR_LENGTH,
  i = 0,
  j = 0,
): number {
  let sum = 0;
  for (let k = 0; k < dimension; k++) {
    const d = a[i * dimension + k] - b[j * dimension + k];
    sum += d * d;
  }
  return Math.sqrt(sum);
}
