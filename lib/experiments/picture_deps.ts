/**
 * The real picture and path functions (`lib/render`, `lib/paths`) without the model modules, for
 * work that only assembles frames (`merge`): no onnxruntime is loaded.
 *
 * @module
 */

import * as paths from "../paths/mod.ts";
import * as render from "../render/mod.ts";
import type { PictureDeps } from "./finish.ts";
import type { PathApi } from "./plan.ts";

/** The real picture dependencies. */
export function defaultPictureDeps(): PictureDeps {
  return {
    paths: paths as unknown as PathApi,
    decodePng: render.decodePng,
    contactSheet: render.contactSheet,
    gridSheet: render.gridSheet,
    pathPlot: render.pathPlot,
    encodeGif: render.encodeGif,
    encodeMp4: render.encodeMp4,
    findFfmpeg: () => render.findFfmpeg(),
  };
}
