// The browser app, built on the npm package in $SANDRUN_PKG (default ../pkg, made by `make pkg`).
// The package is mapped by an alias rather than installed, so that `make www` needs no npm
// install: the alias points at the package's own browser entry (full/index.js, what a bundler
// picks for `@sandrun/sdk/full` through the "browser" export condition), and Vite turns its
// `new URL('./sandrun_sdk_bg.wasm', import.meta.url)` into an asset as for any consumer.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..', process.env.SANDRUN_PKG || 'pkg');

export default {
  root: here,
  base: './',
  resolve: {
    alias: [
      { find: /^@sandrun\/sdk\/full$/, replacement: path.join(pkg, 'full', 'index.js') },
      { find: /^@sandrun\/sdk$/, replacement: path.join(pkg, 'index.js') },
    ],
  },
  // The dev server serves the package from outside the app's folder; pre-bundling would move
  // the module away from its .wasm (the package README says to exclude it).
  server: { fs: { allow: [here, pkg] } },
  optimizeDeps: { exclude: ['@sandrun/sdk', '@sandrun/sdk/full'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
};
