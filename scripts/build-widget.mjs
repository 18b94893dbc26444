// Bundles the widget's modules (bot/channels/widget/static/src/) into the one classic
// script that sites embed (bot/channels/widget/static/widget.js), with esbuild from
// package-lock.json. The bundle is committed, so the assistant serves it without Node;
// tests/js/bundle.test.mjs fails when it is older than its sources.
//
//   node scripts/build-widget.mjs          write widget.js
//   node scripts/build-widget.mjs --check  exit 1 when widget.js is stale
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WIDGET_ENTRY = "bot/channels/widget/static/src/main.js";
export const WIDGET_BUNDLE = "bot/channels/widget/static/widget.js";

// "use strict": the modules were written as ES modules, which are always strict; the
// bundle keeps that meaning.
const BANNER = `/*!
 * Cloud advisor chat widget. Built from bot/channels/widget/static/src/ by
 * scripts/build-widget.mjs (npm run build:widget): edit those modules, not this file.
 * Embedding, payloads and security: the comment at the top of src/main.js.
 */
"use strict";`;

/** The bundle's text, built in memory. */
export async function buildWidget() {
  const result = await esbuild.build({
    absWorkingDir: ROOT, // the file names in the bundle's comments stay relative
    entryPoints: [WIDGET_ENTRY],
    outfile: WIDGET_BUNDLE,
    bundle: true,
    // A classic script, not a module: embeds are `<script src=…>` without type="module",
    // and `document.currentScript` (where the widget finds its server) is only set for
    // classic scripts. The IIFE keeps every name off the embedding page's globals.
    format: "iife",
    // Syntax every browser with fetch, URL and Promise runs; newer syntax is lowered.
    target: ["es2017"],
    // Not minified: the served file stays readable when someone debugs an embed.
    minify: false,
    legalComments: "none",
    banner: { js: BANNER },
    write: false,
    logLevel: "silent"
  });
  return result.outputFiles[0].text;
}

/** The committed bundle's text. */
export function committedWidget() {
  return readFile(path.join(ROOT, WIDGET_BUNDLE), "utf8");
}

async function main() {
  const built = await buildWidget();
  if (process.argv.includes("--check")) {
    if (built !== (await committedWidget())) {
      console.error(`${WIDGET_BUNDLE} is stale: run npm run build:widget`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(path.join(ROOT, WIDGET_BUNDLE), built);
  console.log(`wrote ${WIDGET_BUNDLE} (${built.length} bytes)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
