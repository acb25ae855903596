import type { Command } from "commander";
import type { Connection } from "#core/connect.ts";
import type { GroupRecord } from "#core/protocol/index.ts";
import { listAllEndpoints, resolveEndpointId } from "#sdk/index.ts";
import { withConnection } from "../connection.ts";
import { emit, table } from "../output.ts";

interface JsonOption {
  json?: boolean;
}

export function registerGroupCommands(program: Command): void {
  const group = program
    .command("group")
    .description(
      "endpoint groups: a task sent to group:<name> runs on whichever member has a free slot",
    );
  group
    .command("create <name> [endpoints...]")
    .description("create a group (its task queue too) with these member endpoints (names or ids)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry group create qc theta-cpu polaris-cpu")
    .action((name: string, endpoints: string[], opts: JsonOption) =>
      withConnection(async (conn) => {
        const members = await Promise.all(endpoints.map((e) => resolveEndpointId(conn.control, e)));
        const { group: g } = await conn.control.call("createGroup", { name, members });
        emit(
          Boolean(opts.json),
          g,
          () =>
            `group ${g.name} (${g.groupId}): ${g.members.length} member(s); send tasks to group:${g.name}`,
        );
      }),
    );
  group
    .command("add <name> <endpoint>")
    .description("add an endpoint you own to a group; its agents start taking the group's tasks")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry group add qc cloud-cpu")
    .action((name: string, endpoint: string, opts: JsonOption) =>
      withConnection((conn) => changeMembers(conn, "addGroupMember", name, endpoint, opts)),
    );
  group
    .command("remove <name> <endpoint>")
    .description("take an endpoint out of a group; its running group tasks still finish")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry group remove qc theta-cpu")
    .action((name: string, endpoint: string, opts: JsonOption) =>
      withConnection((conn) => changeMembers(conn, "removeGroupMember", name, endpoint, opts)),
    );
  group
    .command("list")
    .description("every group with its members")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry group list")
    .action((opts: JsonOption) => withConnection((conn) => listGroups(conn, opts)));
  group
    .command("delete <name>")
    .description("delete a group and its queue (tasks still queued in it are deleted too)")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExample:\n  ferry group delete qc")
    .action((name: string, opts: JsonOption) =>
      withConnection(async (conn) => {
        const out = await conn.control.call("deleteGroup", { name });
        emit(Boolean(opts.json), out, () => `deleted group ${name} (${out.groupId})`);
      }),
    );
}

async function changeMembers(
  conn: Connection,
  action: "addGroupMember" | "removeGroupMember",
  name: string,
  endpoint: string,
  opts: JsonOption,
): Promise<void> {
  const endpointId = await resolveEndpointId(conn.control, endpoint);
  const { group: g } = await conn.control.call(action, { name, endpointId });
  const verb = action === "addGroupMember" ? "added" : "removed";
  emit(
    Boolean(opts.json),
    g,
    () => `${verb} ${endpoint}: group ${g.name} has ${g.members.length} member(s)`,
  );
}

async function listGroups(conn: Connection, opts: JsonOption): Promise<void> {
  const { groups } = await conn.control.call("listGroups", {});
  if (opts.json) return emit(true, groups, () => "");
  const names = new Map(
    (await listAllEndpoints(conn.control)).map((v) => [v.endpoint.endpointId, v.endpoint.name]),
  );
  const members = (g: GroupRecord) => g.members.map((m) => names.get(m) ?? m).join(", ");
  emit(false, groups, () =>
    groups.length === 0
      ? "no groups yet: ferry group create <name> <endpoint...>"
      : table(
          ["NAME", "ID", "MEMBERS"],
          groups.map((g) => [g.name, g.groupId, members(g) || "(none)"]),
        ),
  );
}
