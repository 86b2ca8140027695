// The one place the CLI names the SDK. Inside the npm package the CLI sits in cli/ next to
// full/, so this is the package's own Node.js entry (the full one: `--workers` and
// `--consensus` need pools and consensus).
export * from '../full/node.mjs';
