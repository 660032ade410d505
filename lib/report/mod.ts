/**
 * Run reports: `report.html`, a self-contained page per run folder made from its manifest
 * (frames with their numbers, charts along the path, a scrubber, the pictures and the video).
 *
 * @module
 */

export {
  PATH_LINE_POINTS,
  pathLine,
  plannedFrames,
  type ReportData,
  reportData,
  type ReportFrame,
} from "./data.ts";
export { embedJson, REPORT_CSP, reportHtml, type ReportPageOptions, sortedJson } from "./page.ts";
export { REPORT_FILE, writeReport, type WriteReportOptions, writeReportOrWarn } from "./write.ts";
