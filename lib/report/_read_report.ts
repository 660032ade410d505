/**
 * Test helper: the data a written `report.html` embeds, for comparing with what the manifest on
 * disk says.
 *
 * @module
 */

import { join } from "node:path";
import type { ReportData } from "./data.ts";
import { REPORT_FILE } from "./write.ts";

/** The JSON of the page's `#report-data` element. */
export function embeddedReportData(html: string): ReportData {
  const match = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
  if (!match) throw new Error("no #report-data element in the page");
  return JSON.parse(match[1]);
}

/** The data embedded in `dir/report.html`. */
export async function readReportData(dir: string): Promise<ReportData> {
  return embeddedReportData(await Deno.readTextFile(join(dir, REPORT_FILE)));
}
