/**
 * Identity measurement: the face-embedder contract and face-api's recognition net converted to
 * ONNX (weights, graph, face crop, loader).
 *
 * @module
 */

export * from "./embedder.ts";
export {
  FACE_API_PACKAGE,
  faceApiPackageDir,
  faceApiVersion,
  type FaceApiWeights,
  FaceApiWeightsError,
  type NamedTensor,
  readFaceApiWeights,
} from "./face_api_weights.ts";
export {
  cropFaces,
  type FaceBox,
  type PixelBox,
  pixelBox,
  resizeBilinearChw,
} from "./face_crop.ts";
export {
  buildFaceRecognitionGraph,
  FACE_API_MEAN_RGB,
  FACE_NET_INPUT,
  FACE_NET_INPUT_SIZE,
  FACE_NET_OUTPUT,
  FaceNetWeightsError,
} from "./face_recognition_graph.ts";
export {
  CELEBAHQ_FACE_BOX,
  convertFaceRecognitionNet,
  defaultFaceNetDir,
  describePreprocessing,
  FACE_NET_CONVERTER_VERSION,
  FACE_NET_NAME,
  FACE_RECOGNITION_MODEL,
  type FaceEmbedderOptions,
  type FaceNetCacheInfo,
  loadFaceEmbedder,
  runFaceNet,
} from "./face_recognition.ts";
