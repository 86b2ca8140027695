// sandrun dev: the whole local market in one command (dev-node workers, a chain, IPFS, the
// contract, node agents) — the `make stack` of the market issue (issue 11). Reserved until the
// market exists, so that the command name is taken and answers clearly.
import { CliError, EXIT } from '../exit-codes.mjs';

export default {
  name: 'dev',
  summary: 'the local market stack (not available yet)',
  positionals: [0, 0],
  description: 'Starts the local Sandrun market stack (workers, chain, IPFS, node agents). Not available yet: it comes with the marketplace.',
  options: {},
  examples: ['sandrun dev'],
  async handler() {
    throw new CliError('`sandrun dev` needs the Sandrun marketplace, which this version does not have yet; ' +
      'for a local worker run `sandrun-devnode all` from the SDK repository', EXIT.UNSUPPORTED, 'UNSUPPORTED');
  },
};
