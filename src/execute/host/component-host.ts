/**
 * What a running component may reach outside its isolate, handed to the guest with each call as
 * an RPC target: the keyvalue store of its own service (and nothing of any other service), and
 * its own service's directory when file_system is granted. The guest holds no bindings, so this
 * object, built by the node for one call, is the only path to storage.
 */
import { RpcTarget } from "cloudflare:workers";
import type { KeyPage, ServiceKeyValue, SwapOutcome } from "../keyvalue/service-key-value";
import type { FileRow } from "./service-files";

/** The methods the guest calls (see guest/keyvalue-imports.ts). */
export interface ComponentHostApi {
  kvGet(bucket: string, key: string): Promise<Uint8Array | null>;
  kvSet(bucket: string, key: string, value: Uint8Array): Promise<void>;
  kvDelete(bucket: string, key: string): Promise<void>;
  kvExists(bucket: string, key: string): Promise<boolean>;
  kvListKeys(bucket: string, cursor: string | null): Promise<KeyPage>;
  kvIncrement(bucket: string, key: string, delta: bigint): Promise<bigint>;
  kvSwap(bucket: string, key: string, expected: Uint8Array | null, value: Uint8Array): Promise<SwapOutcome>;
  kvGetMany(bucket: string, keys: string[]): Promise<(Uint8Array | null)[]>;
  kvSetMany(bucket: string, entries: [string, Uint8Array][]): Promise<void>;
  kvDeleteMany(bucket: string, keys: string[]): Promise<void>;
  /** the service's directory (file_system: true only) */
  fsRead(): Promise<FileRow[]>;
  fsWrite(rows: FileRow[]): Promise<void>;
}

/** One call's host: every method acts on the service fixed at construction. */
export class ComponentHost extends RpcTarget implements ComponentHostApi {
  readonly #kv: DurableObjectStub<ServiceKeyValue>;
  readonly #fileSystem: boolean;

  constructor(
    env: Pick<Env, "SERVICE_KEY_VALUE">,
    serviceId: string,
    options: { fileSystem: boolean } = { fileSystem: false },
  ) {
    super();
    this.#kv = keyValueStub(env, serviceId);
    this.#fileSystem = options.fileSystem;
  }

  async fsRead(): Promise<FileRow[]> {
    this.#checkFileSystem();
    return this.#kv.readFiles();
  }
  async fsWrite(rows: FileRow[]): Promise<void> {
    this.#checkFileSystem();
    return this.#kv.writeFiles(rows);
  }
  #checkFileSystem(): void {
    if (!this.#fileSystem) throw new Error("the component has no file_system permission");
  }

  kvGet(bucket: string, key: string) {
    return this.#kv.get(bucket, key);
  }
  kvSet(bucket: string, key: string, value: Uint8Array) {
    return this.#kv.set(bucket, key, value);
  }
  kvDelete(bucket: string, key: string) {
    return this.#kv.delete(bucket, key);
  }
  kvExists(bucket: string, key: string) {
    return this.#kv.exists(bucket, key);
  }
  kvListKeys(bucket: string, cursor: string | null) {
    return this.#kv.listKeys(bucket, cursor);
  }
  kvIncrement(bucket: string, key: string, delta: bigint) {
    return this.#kv.increment(bucket, key, delta);
  }
  kvSwap(bucket: string, key: string, expected: Uint8Array | null, value: Uint8Array) {
    return this.#kv.swap(bucket, key, expected, value);
  }
  kvGetMany(bucket: string, keys: string[]) {
    return this.#kv.getMany(bucket, keys);
  }
  kvSetMany(bucket: string, entries: [string, Uint8Array][]) {
    return this.#kv.setMany(bucket, entries);
  }
  kvDeleteMany(bucket: string, keys: string[]) {
    return this.#kv.deleteMany(bucket, keys);
  }
}

/** The keyvalue Durable Object of one service. */
export function keyValueStub(
  env: Pick<Env, "SERVICE_KEY_VALUE">,
  serviceId: string,
): DurableObjectStub<ServiceKeyValue> {
  return env.SERVICE_KEY_VALUE.get(env.SERVICE_KEY_VALUE.idFromName(serviceId));
}
