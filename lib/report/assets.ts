/**
 * The files a report page inlines: uPlot (vendored, MIT, see `vendor_test.ts`), the page's
 * script and its stylesheet. Read once, on the first page made, and kept: `deno task report` over
 * many runs reads them once.
 *
 * @module
 */

/** The texts inlined into every report page. */
export interface ReportAssets {
  /** uPlot's IIFE build (defines the global `uPlot`). */
  uplotJs: string;
  /** uPlot's stylesheet. */
  uplotCss: string;
  /** uPlot's MIT license, kept with the copy inlined into each page as its terms require. */
  uplotLicense: string;
  /** The page script (`assets/report.js`). */
  reportJs: string;
  /** The page stylesheet (`assets/report.css`). */
  reportCss: string;
}

/** Where each asset lives, relative to this module. */
const FILES: Record<keyof ReportAssets, string> = {
  uplotJs: "./vendor/uplot/uPlot.iife.min.js",
  uplotCss: "./vendor/uplot/uPlot.min.css",
  uplotLicense: "./vendor/uplot/LICENSE",
  reportJs: "./assets/report.js",
  reportCss: "./assets/report.css",
};

/**
 * Text that would end the element an asset is inlined into (or, in a script, switch the HTML
 * parser into its escaped state): a file holding it cannot be inlined as it is.
 */
const BREAKS_OUT: Record<keyof ReportAssets, RegExp> = {
  uplotJs: /<\/script|<!--|<script/i,
  uplotCss: /<\/style/i,
  uplotLicense: /\*\/|<\/script/i,
  reportJs: /<\/script|<!--|<script/i,
  reportCss: /<\/style/i,
};

let cached: ReportAssets | undefined;

/**
 * The assets, read on the first call (synchronously: page making stays a plain function).
 * @throws {Error} naming the file when one is missing or holds text that cannot be inlined
 */
export function reportAssets(): ReportAssets {
  if (cached) return cached;
  const assets = {} as ReportAssets;
  for (const [name, file] of Object.entries(FILES) as [keyof ReportAssets, string][]) {
    const url = new URL(file, import.meta.url);
    const text = Deno.readTextFileSync(url);
    if (BREAKS_OUT[name].test(text)) {
      throw new Error(
        `${url.pathname} cannot be inlined into the report page: it holds ` +
          `${BREAKS_OUT[name].exec(text)![0]}`,
      );
    }
    assets[name] = text;
  }
  cached = assets;
  return assets;
}
