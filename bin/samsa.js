#!/usr/bin/env node
// The `samsa` command: runs the compiled CLI in dist/. In a clone, dist/ comes from `npm run build`
// (`npm start` and `npm test` build first); an installed package ships it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `samsa: the compiled CLI (dist/src/cli/main.js) is missing; run 'npm install && npm run build' in ${root} first\n`,
  );
  process.exit(1);
}
await import(main.href);
