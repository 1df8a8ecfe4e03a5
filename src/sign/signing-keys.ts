import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import type { HDAccount, LocalAccount } from "viem";

/**
 * Accounts derived from a mnemonic, kept per isolate: BIP-39 stretches a mnemonic with 2048 rounds of
 * PBKDF2-HMAC-SHA512, which took a third of a node's CPU when done for every event (a CPU profile of
 * bench:e2e). The keys are the secrets' own values, held only in memory, as env holds them.
 */
const derived = new Map<string, LocalAccount>();
/** A node has one mnemonic and a few service indices; a cap keeps a misuse from growing it without end. */
const MAX_DERIVED = 1024;

function remember<A extends LocalAccount>(key: string, derive: () => A): A {
  const known = derived.get(key);
  if (known) return known as A;
  const account = derive();
  if (derived.size >= MAX_DERIVED) derived.clear();
  derived.set(key, account);
  return account;
}

/**
 * The operator's signing key for one service: BIP-39 mnemonic at m/44'/60'/0'/0/{hdIndex}, as WAVS.
 * @throws when the mnemonic is not valid BIP-39 (the message never contains it)
 */
export function deriveServiceSigner(mnemonic: string, hdIndex: number): HDAccount {
  const phrase = mnemonic.trim();
  try {
    return remember(`service:${hdIndex}:${phrase}`, () => mnemonicToAccount(phrase, { addressIndex: hdIndex }));
  } catch {
    throw new Error("WAVS_SIGNING_MNEMONIC is not a valid BIP-39 mnemonic");
  }
}

/**
 * The account that pays for submissions. WAVS_AGGREGATOR_EVM_CREDENTIAL holds a 0x-prefixed private
 * key or a mnemonic (first account).
 * @throws when it is neither (the message never contains it)
 */
export function parseSubmitterCredential(credential: string): LocalAccount {
  const value = credential.trim();
  try {
    return remember(`submitter:${value}`, () =>
      /^0x[0-9a-fA-F]{64}$/.test(value) ? privateKeyToAccount(value as `0x${string}`) : mnemonicToAccount(value),
    );
  } catch {
    throw new Error("WAVS_AGGREGATOR_EVM_CREDENTIAL is neither a private key nor a valid mnemonic");
  }
}
