import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import type { HDAccount, LocalAccount } from "viem";

/**
 * The operator's signing key for one service: BIP-39 mnemonic at m/44'/60'/0'/0/{hdIndex}, as WAVS.
 * @throws when the mnemonic is not valid BIP-39 (the message never contains it)
 */
export function deriveServiceSigner(mnemonic: string, hdIndex: number): HDAccount {
  try {
    return mnemonicToAccount(mnemonic.trim(), { addressIndex: hdIndex });
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
    if (/^0x[0-9a-fA-F]{64}$/.test(value)) return privateKeyToAccount(value as `0x${string}`);
    return mnemonicToAccount(value);
  } catch {
    throw new Error("WAVS_AGGREGATOR_EVM_CREDENTIAL is neither a private key nor a valid mnemonic");
  }
}
