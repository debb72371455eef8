#!/usr/bin/env node
// Thin launcher so `npx hotpath` and the installed bin run the compiled CLI.
import '../dist/src/cli/main.js';
