/** `npm run trigger -- N`: calls SimpleTrigger.addTrigger('{"x":N}') on the running devnet and waits for the result. */
import { readFile } from "node:fs/promises";
import { privateKeyToAccount } from "viem/accounts";
import { addTrigger } from "../devnet/index";
import type { Devnet } from "../devnet/index";
import { waitForResult } from "../devnet/index";

const x = process.argv[2] ?? "7";
if (!/^\d+$/.test(x)) {
  console.error("usage: npm run trigger -- <non-negative integer>");
  process.exit(2);
}
try {
  const devnet = JSON.parse(await readFile("devnet.json", "utf8")) as Devnet;
  const started = performance.now();
  const { triggerId, txHash } = await addTrigger({
    rpcUrl: devnet.chain.rpc_url,
    account: privateKeyToAccount(devnet.accounts.trigger_private_key),
    trigger: devnet.contracts.trigger,
    data: new TextEncoder().encode(`{"x":${x}}`),
  });
  console.log(`trigger ${triggerId} sent in ${txHash}`);
  const result = await waitForResult({ rpcUrl: devnet.chain.rpc_url, submit: devnet.contracts.submit, triggerId });
  console.log(
    `result onchain: ${result.data}  (event ${result.eventId}, ${Math.round(performance.now() - started)} ms)`,
  );
} catch (e) {
  console.error(`✗ ${(e as Error).message.split("\n")[0]}`);
  process.exit(1);
}
