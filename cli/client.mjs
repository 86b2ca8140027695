// The SDK client for a command's settings, and attaching to a job by id.
import { Sandrun } from './sdk.mjs';

export function connect(settings) {
  return Sandrun.create({
    endpoint: settings.endpoint,
    trustedWorkers: settings.trustedWorkers,
    ...(settings.timeout ? { timeoutMs: settings.timeout * 1000 } : {}),
  });
}

/** wait()'s options for the settings. */
export function waitOptions(settings) {
  return settings.timeout ? { timeoutMs: settings.timeout * 1000 } : {};
}
