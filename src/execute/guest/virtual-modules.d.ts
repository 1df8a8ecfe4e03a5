// Modules the Worker Loader supplies next to the guest's main module (see load-component.ts).
declare module "wavs-guest:component" {
  /** jco's `--instantiation async` entry point. */
  export function instantiate(
    getCoreModule: (name: string) => WebAssembly.Module | Promise<WebAssembly.Module>,
    imports: Record<string, unknown>,
  ): Promise<unknown>;
}

declare module "wavs-guest:core-modules" {
  const modules: Record<string, WebAssembly.Module>;
  export default modules;
}

declare module "wavs-guest:component-info" {
  /** What the Worker read from the component's binary. */
  const info: { imports: string[]; jspi: boolean };
  export default info;
}
