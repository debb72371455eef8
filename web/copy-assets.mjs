// Copies the UI's static files next to the compiled modules in dist/web, where the server
// serves them. Part of `npm run build`; no bundler: browsers load the ES modules directly.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'web');
mkdirSync(out, { recursive: true });
for (const file of ['index.html', 'style.css', 'favicon.svg']) copyFileSync(join(here, file), join(out, file));
