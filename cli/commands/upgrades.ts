import { CliError, flagReader, type ParsedArgs } from "../args";
import { callNode, resolveNode } from "../node-client";
import type { Output } from "../output";

type UpgradeView = {
  id: number;
  service_id: string;
  status: string;
  uri: string;
  changes: string[];
  error: string | null;
  attempts: number;
  created_at: number;
};

const line = (u: UpgradeView) =>
  `${String(u.id).padStart(5)}  ${u.status.padEnd(17)}  ${u.service_id.slice(0, 12)}…  ${new Date(u.created_at).toISOString()}  ${u.uri}` +
  (u.changes.length ? `\n         ${u.changes.join("\n         ")}` : "") +
  (u.error ? `\n         ${u.error}` : "");

/**
 * `upgrades [--status S --service-id ID --limit N]`: service upgrades seen on chain;
 * `upgrades approve ID` / `upgrades reject ID`: the operator's word on one awaiting approval.
 */
export async function upgradesCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const node = await resolveNode(flags);
  const action = args.positionals[1];
  if (action === "approve" || action === "reject") {
    flags.done();
    const id = args.positionals[2];
    if (!id || !/^\d+$/.test(id))
      throw new CliError(`usage: wavs-edge upgrades ${action} ID (the id from \`wavs-edge upgrades\`)`, 2);
    const upgrade = JSON.parse(await callNode(node, "POST", `/services/upgrades/${id}/${action}`)) as UpgradeView;
    out.result(upgrade, `upgrade ${id}: ${upgrade.status}`);
    return;
  }
  if (action !== undefined)
    throw new CliError(`unknown upgrades action "${action}": approve ID, reject ID, or none to list`, 2);
  const query = flags.query(["status", "service-id", "limit"]);
  flags.done();
  const { upgrades } = JSON.parse(await callNode(node, "GET", `/services/upgrades${query}`)) as {
    upgrades: UpgradeView[];
  };
  out.result({ upgrades }, upgrades.length ? upgrades.map(line).join("\n") : "no service upgrades");
}
