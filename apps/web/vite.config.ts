// The console's build: hashed asset names (the server caches them immutably), no inline
// scripts (the server's Content-Security-Policy forbids them), and two tiny stand-ins for the
// node builtins that @sluice/config's rule schema imports, so the browser validates a rule with
// the very schema the server uses.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const shim = (name: string): string => fileURLToPath(new URL(`./src/shims/${name}`, import.meta.url));

export default defineConfig({
  resolve: {
    conditions: ['source'],
    alias: { 'node:net': shim('node-net.ts'), 'node:os': shim('node-os.ts') },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
