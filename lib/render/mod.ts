/**
 * Pictures and video of rendered frames: PNG conversion and files, contact sheets with colour
 * swatches, seeds × colours grids, plots of colour paths through the RGB cube, and MP4/GIF
 * encoding.
 *
 * @module
 */

export * from "./png.ts";
export * from "./contact_sheet.ts";
export * from "./grid_sheet.ts";
export * from "./path_plot.ts";
export * from "./video.ts";
export * from "./canvas.ts";
export * from "./font.ts";
export * from "./resample.ts";
