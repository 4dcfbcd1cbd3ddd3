import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console's own build: Preact through esbuild's automatic JSX runtime,
// no inline scripts (the server's CSP allows only 'self').
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  logLevel: 'warn',
});
