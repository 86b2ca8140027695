// Misuse of @sandrun/sdk: every line marked `// ERROR` must be a tsc --strict error, and no other
// line may be (tests/pkg/run.mjs, "types").
import { Sandrun, ValidationError } from '@sandrun/sdk';
import { retryPlugin } from '@sandrun/sdk'; // ERROR: plugins are in '@sandrun/sdk/full'
import type { Pool } from '@sandrun/sdk'; // ERROR: pools are in '@sandrun/sdk/full'
import { Market } from '@sandrun/sdk'; // ERROR: the chain layer is in '@sandrun/sdk/full'
import { Sandrun as FullSandrun, parseEther } from '@sandrun/sdk/full';

export async function misuse(sandrun: Sandrun): Promise<void> {
  new Sandrun(); // ERROR: no public constructor
  await Sandrun.create({ endpont: 'http://127.0.0.1:8443' }); // ERROR: no such config field
  sandrun.job().file(42, 'x'); // ERROR: a file name is a string
  sandrun.job().entrypoint(); // ERROR: entrypoint needs a name
  sandrun.job().nope(); // ERROR: no such method
  const exec = await sandrun.job().file('main.py', 'print(1)').entrypoint('main.py').submit();
  const s: string = exec.logs(); // ERROR: logs() is an async iterator, not text
  for await (const chunk of exec.logs()) {
    const n: number = chunk; // ERROR: chunks are strings
    void n;
  }
  const id: number = exec.id; // ERROR: ids are strings
  const ok: string = (await exec.verify()).ok; // ERROR: ok is a boolean
  const bytes: string = await exec.download('out/x'); // ERROR: downloads are bytes
  const e = new ValidationError(); // ERROR: a message is required
  const field: number | undefined = e.field; // ERROR: field names are strings
  const status: number = (await exec.wait()).exitCode; // ERROR: exitCode may be undefined
  sandrun.job().outputs('out/*'); // ERROR: outputs takes a list of globs
  sandrun.pool().workers(['http://127.0.0.1:8443']); // ERROR: the core entry's pool() throws (never)
  void [s, id, ok, bytes, e, field, status, retryPlugin as unknown as Pool];
}

export async function chainMisuse(sandrun: FullSandrun): Promise<void> {
  await FullSandrun.create({ chain: { rpcurl: 'http://127.0.0.1:8545' } }); // ERROR: no such chain option
  await (sandrun as unknown as Sandrun).market('0x5FbDB2315678afecb367f032d93F642f64180aa3'); // ERROR: the core entry's Sandrun has no market()
  const market = await sandrun.market('0x5FbDB2315678afecb367f032d93F642f64180aa3');
  const job = { jobHash: '0x', inputCid: 'bafy', k: 2, n: 3, deadline: 1 };
  await market.postJob({ ...job, pricePerNode: 0.01 }); // ERROR: amounts are bigint or a string with a unit, never a float
  await market.postJob(job); // ERROR: pricePerNode is required
  const id: number = (await market.postJob({ ...job, pricePerNode: 1n })).jobId; // ERROR: job ids are bigint
  const paid: number = (await market.finalize(1n)).paid; // ERROR: amounts are bigint
  market.watch('Nope', {}, () => {}); // ERROR: not an event of the contract
  market.watch('JobPosted', {}, (log) => { if (log.event === 'JobPosted') void (log.args.k satisfies string); }); // ERROR: k is a number
  await market.claim('1'); // ERROR: job ids are bigint or number
  parseEther(1); // ERROR: parseEther takes a decimal string
  void [id, paid, Market];
}

import type { Ipfs } from '@sandrun/sdk/full';
import { Sandrun as FullIpfsSandrun } from '@sandrun/sdk/full';

export async function ipfsMisuse(ipfs: Ipfs): Promise<void> {
  await FullIpfsSandrun.create({ ipfs: { gateway: 'http://127.0.0.1:8080' } }); // ERROR: the key is gateways
  await FullIpfsSandrun.create({ ipfs: { pinning: [{ endpoint: 'https://pins.example' }] } }); // ERROR: a service needs its token
  await ipfs.cid(42); // ERROR: a number is not data
  await ipfs.cid('x', { cidVersion: 2 }); // ERROR: CID versions are 0 or 1
  const text: string = await ipfs.get('bafy…'); // ERROR: get gives bytes
  const bytes: Uint8Array = await ipfs.get('bafy…', { stream: true }); // ERROR: with stream: true it is a ReadableStream
  await ipfs.get('bafy…', { format: 'tar' }); // ERROR: formats are car or raw
  const cid: number = (await ipfs.add('x')).cid; // ERROR: CIDs are strings
  await ipfs.pins({ status: ['done'] }); // ERROR: not a pin status
  void [text, bytes, cid];
}

export async function marketMisuse(sandrun: FullSandrun): Promise<void> {
  await FullSandrun.create({ market: 42 }); // ERROR: the market is an address string
  await FullSandrun.create({ limits: { maxPerJob: 0.1 } }); // ERROR: caps are bigint or a string with a unit
  sandrun.job().payment(0.01); // ERROR: amounts are bigint or a string with a unit, never a float
  sandrun.job().deadline('soon'); // ERROR: seconds or a Date
  await FullSandrun.create({ market: { address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', fromBlock: 'latest' } }); // ERROR: fromBlock is a block number
  await sandrun.job().payment('0.01 ether').submit({ onStage: 'progress' }); // ERROR: onStage is a function
  const exec = await sandrun.job().payment('0.01 ether').submit();
  exec.on('done', () => {}); // ERROR: the only event is progress
  const total: number = (await sandrun.job().payment(1n).estimate()).total; // ERROR: amounts are bigint
  void total;
}
