// The `ws` package for tests/node.rs. The runner copies this file into a folder of its own, where
// a bare `import 'ws'` does not resolve: load it from the project's tools/ (SANDRUN_TOOLS, set by
// scripts/test-wasm.sh).
import { createRequire } from 'node:module';
import path from 'node:path';

export function webSocketClass() {
  const tools = process.env.SANDRUN_TOOLS ?? path.join(process.cwd(), 'tools');
  return createRequire(path.join(tools, 'package.json'))('ws');
}
