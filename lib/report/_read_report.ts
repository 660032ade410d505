/**
 * Test helper: the data a written `report.html` embeds, for comparing with what the manifest on
 * disk says.
 *
 * @module
 */

import { join } from "node:path";
import type { ReportData } from "./data.ts";
import { REPORT_FILE } from "./write.ts";

/** The text of the page's `<script type="application/json" id=…>` element. */
export function embeddedJsonText(html: string, id: string): string {
  const match = new RegExp(`<script type="application/json" id="${id}">([^<]*)</script>`).exec(
    html,
  );
  if (!match) throw new Error(`no #${id} element in the page`);
  return match[1];
}

/** The JSON of the page's `#report-data` element. */
export function embeddedReportData(html: string): ReportData {
  return JSON.parse(embeddedJsonText(html, "report-data"));
}

/** The data embedded in `dir/report.html`. */
export async function readReportData(dir: string): Promise<ReportData> {
  return embeddedReportData(await Deno.readTextFile(join(dir, REPORT_FILE)));
}
