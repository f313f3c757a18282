// build.mjs - bundles the console (src/main.js and the CSS it imports) with esbuild into
// OUT (default ../build/web): every asset is named by its content hash (served "immutable"),
// index.html (served "no-cache") is written last and names them; files of older builds are
// removed. Usage: node web/build.mjs OUT
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, '..', 'build', 'web'));
mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const made = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = made.find((f) => /^app-.*\.js$/.test(f));
const css = made.find((f) => /^app-.*\.css$/.test(f));
if (!js || !css) throw new Error(`esbuild made no app .js/.css: ${made.join(' ')}`);
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%APP_JS%', js)
  .replace('%APP_CSS%', css);
writeFileSync(join(out, 'index.html.tmp'), html);
renameSync(join(out, 'index.html.tmp'), join(out, 'index.html'));
for (const f of readdirSync(out))
  if (f !== 'index.html' && !made.includes(f)) rmSync(join(out, f), { recursive: true, force: true });
console.log(`web: ${out}/index.html -> ${js}, ${css}`);
