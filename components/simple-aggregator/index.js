// simple-aggregator: submits every quorum to one contract, read from the component's config
// (`chain`, e.g. "evm:31337", and `service_handler`, a 0x address), as WAVS's simple aggregator.

import host from "host";

export function processInput(_input) {
  const chain = host.configVar("chain");
  const handler = host.configVar("service_handler");
  if (!chain) throw "simple-aggregator: the `chain` config variable is required";
  if (!handler || !/^0x[0-9a-fA-F]{40}$/.test(handler)) {
    throw "simple-aggregator: the `service_handler` config variable must be a 0x address";
  }
  const raw = new Uint8Array(20);
  for (let i = 0; i < 20; i++) raw[i] = parseInt(handler.slice(2 + 2 * i, 4 + 2 * i), 16);
  return [{ tag: "submit", val: { tag: "evm", val: { chain, address: { rawBytes: raw }, gasPrice: undefined } } }];
}

export function handleTimerCallback(_input) {
  throw "simple-aggregator: no timers are used";
}

export function handleSubmitCallback(_input, _txResult) {}
