// Consumer: webpack 5 with no loader or plugin for the wasm — `new URL('./sandrun_sdk_bg.wasm',
// import.meta.url)` in the package's entry is enough for webpack to emit it as an asset.
const path = require('node:path');
module.exports = {
  mode: 'production',
  entry: './main.js',
  output: { path: path.join(__dirname, 'dist'), filename: 'main.bundle.js', publicPath: 'auto', clean: true },
  performance: { hints: false },
};
