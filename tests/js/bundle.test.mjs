// The committed bot/channels/widget/static/widget.js is what the assistant serves; it
// must be exactly what scripts/build-widget.mjs makes from src/ today.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildWidget, committedWidget, WIDGET_BUNDLE } from "../../scripts/build-widget.mjs";

test("the committed widget.js is built from the current modules", async () => {
  const [built, committed] = await Promise.all([buildWidget(), committedWidget()]);
  assert.ok(
    built === committed,
    `${WIDGET_BUNDLE} is stale: run \`npm run build:widget\` (or node scripts/build-widget.mjs) and commit it`
  );
});

test("the bundle is one classic script that puts nothing on the page's globals but its API", async () => {
  const built = await buildWidget();
  assert.doesNotMatch(built, /^\s*(import|export)\s/m, "a classic script cannot import or export");
  assert.match(built, /^"use strict";\n\(\(\) => \{\n/m);
  assert.match(built, /\}\)\(\);\n$/);
  assert.match(built, /window\.CloudAdvisor = \{/);
});
