/**
 * `npm run gen:sync`: writes the synchronous surface listing (see `src/sync/surface-doc.ts`).
 */
import { writeFileSync } from "node:fs";
import "../src/index.js";
import { SURFACE_FILE, renderSurface } from "../src/sync/surface-doc.js";

writeFileSync(new URL(`../${SURFACE_FILE}`, import.meta.url), renderSurface());
console.log(`wrote ${SURFACE_FILE}`);
