/**
 * Deploys the service contracts (WavsServiceManager, SimpleTrigger, SimpleSubmit) and adds triggers,
 * for `npm start`, `npm run demo` and tests.
 */
import {
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  defineChain,
  getAddress,
  getAbiItem,
  http,
  isHex,
  parseEventLogs,
  toHex,
  type Account,
  type Address,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { simpleSubmitAbi, simpleSubmitBytecode } from "./contracts/simple-submit";
import { simpleTriggerAbi, simpleTriggerBytecode } from "./contracts/simple-trigger";
import { wavsServiceManagerAbi, wavsServiceManagerBytecode } from "./contracts/wavs-service-manager";

export type DeployContractsParameters = {
  rpcUrl: string;
  /** Sends the transactions and owns the service manager. */
  deployer: Account;
  /** The operator set; `operator` defaults to the signing address. */
  operators: readonly { signingAddress: Address; weight: bigint | number; operator?: Address }[];
  /** Quorum fraction: signers must hold at least numerator/denominator of the total weight. */
  threshold: { numerator: bigint | number; denominator: bigint | number };
  serviceUri?: string;
  /** The service's signature_kind.prefix the manager verifies: "eip191" (default) or null (bare envelope hash). */
  signaturePrefix?: "eip191" | null;
};

export type DeployContractsReturnType = {
  serviceManager: Address;
  trigger: Address;
  submit: Address;
};

/**
 * Deploys WavsServiceManager (owned by `deployer`), registers the operators, sets the service URI,
 * then deploys SimpleTrigger and SimpleSubmit (bound to the manager).
 * @throws when a transaction fails or reverts.
 */
export async function deployContracts(params: DeployContractsParameters): Promise<DeployContractsReturnType> {
  const { rpcUrl, deployer, operators, threshold, serviceUri } = params;
  const { wallet, client } = await createClients(rpcUrl, deployer);

  const serviceManager = await deployed(
    client,
    await wallet.deployContract({
      abi: wavsServiceManagerAbi,
      bytecode: wavsServiceManagerBytecode,
      args: [
        deployer.address,
        BigInt(threshold.numerator),
        BigInt(threshold.denominator),
        params.signaturePrefix === null,
      ],
    }),
  );

  for (const { signingAddress, weight, operator = signingAddress } of operators) {
    await mined(
      client,
      await wallet.writeContract({
        address: serviceManager,
        abi: wavsServiceManagerAbi,
        functionName: "setOperator",
        args: [operator, signingAddress, BigInt(weight)],
      }),
    );
  }

  if (serviceUri !== undefined) {
    await mined(
      client,
      await wallet.writeContract({
        address: serviceManager,
        abi: wavsServiceManagerAbi,
        functionName: "setServiceURI",
        args: [serviceUri],
      }),
    );
  }

  const trigger = await deployed(
    client,
    await wallet.deployContract({ abi: simpleTriggerAbi, bytecode: simpleTriggerBytecode }),
  );
  const submit = await deployed(
    client,
    await wallet.deployContract({ abi: simpleSubmitAbi, bytecode: simpleSubmitBytecode, args: [serviceManager] }),
  );

  return { serviceManager, trigger, submit };
}

export type AddTriggerParameters = {
  rpcUrl: string;
  account: Account;
  /** SimpleTrigger address. */
  trigger: Address;
  /** Request bytes; a string is taken as hex when it is 0x-prefixed hex, else as UTF-8 text. */
  data: Uint8Array | string;
};

export type AddTriggerReturnType = {
  triggerId: bigint;
  txHash: Hash;
  blockNumber: bigint;
};

/**
 * Calls SimpleTrigger.addTrigger and reads the new trigger id from its NewTrigger event.
 * @throws when the transaction reverts or emits no NewTrigger.
 */
export async function addTrigger(params: AddTriggerParameters): Promise<AddTriggerReturnType> {
  const { rpcUrl, account, trigger, data } = params;
  const { wallet, client } = await createClients(rpcUrl, account);

  const bytes: Hex = typeof data === "string" && isHex(data) ? data : toHex(data);
  const txHash = await wallet.writeContract({
    address: trigger,
    abi: simpleTriggerAbi,
    functionName: "addTrigger",
    args: [bytes],
  });
  const receipt = await mined(client, txHash);

  const [log] = parseEventLogs({ abi: simpleTriggerAbi, eventName: "NewTrigger", logs: receipt.logs });
  if (!log) throw new Error(`addTrigger ${txHash} emitted no NewTrigger event`);
  const [info] = decodeAbiParameters(triggerInfoParameters, log.args.triggerData);
  return { triggerId: info.triggerId, txHash, blockNumber: receipt.blockNumber };
}

/** ABI of the TriggerInfo tuple that NewTrigger carries abi-encoded. */
export const triggerInfoParameters = getAbiItem({ abi: simpleTriggerAbi, name: "getTrigger" }).outputs;

async function createClients(rpcUrl: string, account: Account) {
  const transport = http(rpcUrl);
  const id = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({
    id,
    name: `evm:${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain, transport });
  const client = createPublicClient({ chain, transport });
  return { wallet, client };
}

async function mined(client: PublicClient, hash: Hash): Promise<TransactionReceipt> {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return receipt;
}

async function deployed(client: PublicClient, hash: Hash): Promise<Address> {
  const receipt = await mined(client, hash);
  if (!receipt.contractAddress) throw new Error(`transaction ${hash} created no contract`);
  return getAddress(receipt.contractAddress);
}
