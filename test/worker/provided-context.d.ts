// What the global setups (test/worker/*.global.ts, run in Node) hand the workerd tests through
// `inject(...)`. Kept apart from them so the Worker's tsconfig can type the tests without Node types.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** http-server.global.ts */
    httpServerPort: number;
    /** source-servers.global.ts */
    sourceServerUrl: string;
    ipfsGatewayUrl: string;
    anvilRpcUrl: string;
    ociRegistryHost: string;
  }
}
