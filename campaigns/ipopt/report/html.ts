// Assembles the report page: one HTML file with Vega, Vega-Lite and vega-embed inlined, so it
// opens anywhere with no network (a laptop on a plane, an air-gapped cluster login node).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ChartSpec } from "./specs.ts";

/** The UMD bundles, in load order: vega-lite needs the global `vega`, vega-embed both. */
const BUNDLES = [
  { pkg: "vega", file: "vega.min.js" },
  { pkg: "vega-lite", file: "vega-lite.min.js" },
  { pkg: "vega-embed", file: "vega-embed.min.js" },
] as const;

/** The bundles' code, read from node_modules next to each package's entry point. */
export async function readChartLibraries(): Promise<string[]> {
  const require = createRequire(import.meta.url);
  return Promise.all(
    // The packages export only their entry points; the minified UMD builds sit beside them.
    BUNDLES.map(({ pkg, file }) => readFile(join(dirname(require.resolve(pkg)), file), "utf8")),
  );
}

export interface Chart {
  id: string;
  title: string;
  /** One or two sentences under the title: what is drawn and how to read it. */
  note: string;
  spec: ChartSpec;
}

export interface Section {
  title: string;
  /** Charts first, then `html` (already escaped: tables, lists). */
  charts: Chart[];
  html?: string;
}

export interface Page {
  title: string;
  /** Escaped HTML under the title: the run in one paragraph. */
  lead: string;
  sections: Section[];
}

export function renderPage(page: Page, libraries: readonly string[]): string {
  const charts = page.sections.flatMap((s) => s.charts.map(({ id, spec }) => ({ id, spec })));
  const body = page.sections
    .map(
      (s) =>
        `<section><h2>${escapeHtml(s.title)}</h2>\n${s.charts
          .map(
            (c) =>
              `<figure><figcaption><strong>${escapeHtml(c.title)}</strong> ${escapeHtml(c.note)}</figcaption>` +
              `<div class="chart" id="${escapeHtml(c.id)}"></div></figure>`,
          )
          .join("\n")}${s.html ?? ""}</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<p class="lead">${page.lead}</p>
${body}
${libraries.map((code) => `<script>${inlineScript(code)}</script>`).join("\n")}
<script type="application/json" id="report-charts">${inlineJson(charts)}</script>
<script>${BOOT}</script>
</body>
</html>
`;
}

/**
 * Renders every chart to SVG; sets body[data-rendered] to "ok" or "error" when done, which the
 * end-to-end test waits for. A chart that fails says so in its place and on the console.
 */
const BOOT = `
(function () {
  var charts = JSON.parse(document.getElementById("report-charts").textContent);
  Promise.all(charts.map(function (c) {
    return vegaEmbed("#" + c.id, c.spec, { renderer: "svg", actions: false, mode: "vega-lite" })
      .catch(function (e) {
        document.getElementById(c.id).textContent = "chart failed: " + e.message;
        throw e;
      });
  })).then(function () { document.body.dataset.rendered = "ok"; },
    function (e) { console.error(e); document.body.dataset.rendered = "error"; });
})();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1000px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
figure { margin: 1rem 0; } figcaption { margin-bottom: .4rem; color: #444; }
table { border-collapse: collapse; margin: .75rem 0; } th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; font-family: ui-monospace, monospace; }
pre { background: #f7f7f7; padding: .75rem; overflow-x: auto; font-size: 12px; }
.lead { color: #333; } .chart { overflow-x: auto; }
.molecules { display: flex; flex-wrap: wrap; gap: .5rem; } .molecule { margin: 0; width: 180px; }
.molecule figcaption { font: 11px ui-monospace, monospace; word-break: break-all; }
`;

/** Table cells: strings are escaped here; numbers formatted by the caller. */
export function htmlTable(
  id: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns: readonly number[] = [],
): string {
  const cls = (i: number) => (textColumns.includes(i) ? ' class="text"' : "");
  const head = headers.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table id="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Code inside <script>: no `</script` may end it early; source-map comments would fetch. */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/^\/\/# sourceMappingURL=.*$/gm, "");
}

/** JSON inside <script type="application/json">: `<` as \u003c, still valid JSON. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}
