/**
 * Reading onnxruntime's own account of where it placed each node, from its verbose log
 * (session option `logSeverityLevel: 0`; onnxruntime-node has no `logVerbosityLevel`, which
 * onnxruntime-common documents as WebAssembly-only, `lib/inference-session.ts:147`).
 *
 * The messages parsed, as onnxruntime writes them:
 * - `Node placements`, then either ` All nodes placed on [P]. Number of nodes: N` or, per
 *   provider, ` Node(s) placed on [P]. Number of nodes: N` followed by one `  Op (name)` line per
 *   node — `VerifyEachNodeIsAssignedToAnEp` in `onnxruntime/core/framework/session_state.cc`,
 *   which walks Loop bodies too, so one block covers a whole session;
 * - `CUDA kernel not found in registries for Op type: X node name: Y` (the CUDA provider's
 *   `GetCapability`, INFO level: a node the provider cannot take);
 * - `Force fallback to CPU execution for node: Y because …` (`GetCpuPreferredNodes`,
 *   `onnxruntime/core/framework/fallback_cpu_capability.cc`, INFO: nodes moved to the CPU on
 *   purpose, small shape computations whose results the GPU kernels read on the host anyway);
 * - `Add MemcpyFromHost|MemcpyToHost after|before Y for P` (`transformer_memcpy.cc`: a copy
 *   between host and device inserted into the graph).
 *
 * Each line starts with a timestamp and `[V:onnxruntime:<log id>, file.cc:line Function] `.
 *
 * @module
 */

/** A node as onnxruntime's placement log names it. */
export interface PlacedNode {
  /** Operator type. */
  op: string;
  /** Node name (after onnxruntime's graph optimisations). */
  name: string;
}

/** One session's placement, from one `Node placements` block and the messages before it. */
export interface SessionPlacement {
  /** Nodes per execution provider, in log order. `nodes` is empty when all sit on one provider. */
  providers: { provider: string; count: number; nodes: PlacedNode[] }[];
  /** Nodes the CUDA provider reported having no kernel for. */
  noCudaKernel: PlacedNode[];
  /** Names of nodes onnxruntime moved to the CPU on purpose. */
  forcedToCpu: string[];
  /** Host↔device copies inserted into the graph. */
  memcpy: { direction: "FromHost" | "ToHost"; next: string; provider: string }[];
}

/** The message part of one onnxruntime log line, or undefined for other lines. */
export function ortLogMessage(
  line: string,
): { severity: string; source: string; text: string } | undefined {
  // Errors and warnings come wrapped in terminal colour codes.
  // deno-lint-ignore no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
  const match = /\[([VIWEF]):onnxruntime:[^,\]]*, ([^\]]*)\] (.*)$/.exec(plain);
  if (!match) return undefined;
  return { severity: match[1], source: match[2], text: match[3] };
}

function emptyPlacement(): SessionPlacement {
  return { providers: [], noCudaKernel: [], forcedToCpu: [], memcpy: [] };
}

/** The error-level messages of an onnxruntime log (why a provider failed to load, say). */
export function ortErrors(log: string): string[] {
  return log.split(/\r?\n/).map(ortLogMessage)
    .filter((m) => m?.severity === "E" || m?.severity === "F")
    .map((m) => m!.text.replace(/^.*\[ONNXRuntimeError\] : \d+ : \w+ : /, "").trim());
}

/**
 * Parses onnxruntime's verbose log into one {@link SessionPlacement} per session it created, in
 * order (sessions created one after another in a process log one block each).
 */
export function parsePlacementLog(log: string): SessionPlacement[] {
  const sessions: SessionPlacement[] = [];
  let pending = emptyPlacement(); // messages seen before the next `Node placements`
  let current: SessionPlacement | undefined; // the block being read
  let listing: SessionPlacement["providers"][number] | undefined;
  for (const line of log.split(/\r?\n/)) {
    const message = ortLogMessage(line);
    if (!message) continue;
    const text = message.text;
    if (text.trim() === "Node placements") {
      current = pending;
      pending = emptyPlacement();
      sessions.push(current);
      listing = undefined;
      continue;
    }
    const all = /^ ?All nodes placed on \[([^\]]+)\]\. Number of nodes: (\d+)/.exec(text);
    const some = /^ ?Node\(s\) placed on \[([^\]]+)\]\.\s*Number of nodes: (\d+)/.exec(text);
    if (current && (all || some)) {
      const [, provider, count] = (all ?? some)!;
      listing = { provider, count: Number(count), nodes: [] };
      current.providers.push(listing);
      if (all) listing = undefined;
      continue;
    }
    const node = /^ {2}(\S+) \((.*)\)$/.exec(text);
    if (listing && node) {
      listing.nodes.push({ op: node[1], name: node[2] });
      continue;
    }
    listing = undefined;
    const missing = /CUDA kernel not found in registries for Op type: (\S+) node name: (.*)$/.exec(
      text,
    );
    if (missing) {
      pending.noCudaKernel.push({ op: missing[1], name: missing[2].trim() });
      continue;
    }
    const forced = /Force fallback to CPU execution for node: (.*?)(?: because |$)/.exec(text);
    if (forced) {
      pending.forcedToCpu.push(forced[1].trim());
      continue;
    }
    const copy = /Add Memcpy(FromHost|ToHost) (?:after|before) (.*) for (\S+)$/.exec(text);
    if (copy) {
      pending.memcpy.push({
        direction: copy[1] as "FromHost" | "ToHost",
        next: copy[2],
        provider: copy[3],
      });
    }
  }
  return sessions;
}

/**
 * Operators that, placed on the CPU, only compute shapes and indices (int64 metadata the GPU
 * kernels read on the host: Reshape's and Expand's shape, Resize's sizes): onnxruntime's
 * `GetCpuPreferredNodes` moves them there on purpose; they move no activations.
 */
export const SHAPE_OPS: ReadonlySet<string> = new Set([
  "Shape",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Slice",
  "Cast",
  "Reshape",
  "ConstantOfShape",
  "Range",
  "Identity",
]);

/** What the CPU runs in a session whose main provider is another. */
export interface CpuPlacementSummary {
  /** All nodes of the session. */
  total: number;
  /** The provider every node is on, when the log says "All nodes placed on". */
  onlyProvider?: string;
  /** Nodes on the CPU provider. */
  cpu: number;
  /** Of those, shape computations ({@link SHAPE_OPS} on int64 data, or `Shape` itself). */
  cpuShapeOnly: number;
  /** The other CPU nodes: real work on the CPU (`Op (name)`). */
  cpuCompute: string[];
  /** Host↔device copies inserted. */
  memcpy: number;
  /** Nodes the CUDA provider has no kernel for. */
  noCudaKernel: string[];
}

/**
 * Summarises a session's CPU placement. `int64Inputs` tells, for a node name of our graph,
 * whether its inputs are int64 (shape data); nodes onnxruntime created or renamed are judged by
 * operator alone.
 */
export function summarizeCpuPlacement(
  placement: SessionPlacement,
  int64Inputs: (name: string) => boolean | undefined = () => undefined,
): CpuPlacementSummary {
  const total = placement.providers.reduce((sum, p) => sum + p.count, 0);
  const cpuEntries = placement.providers.filter((p) => p.provider === "CPUExecutionProvider");
  const cpu = cpuEntries.reduce((sum, p) => sum + p.count, 0);
  const cpuNodes = cpuEntries.flatMap((p) => p.nodes);
  const compute = cpuNodes.filter((n) => {
    if (n.op === "Shape") return false;
    if (!SHAPE_OPS.has(n.op)) return true;
    return int64Inputs(n.name) === false;
  });
  // With a single provider the log lists no nodes, only "All nodes placed on [P]".
  const only = placement.providers.length === 1 && placement.providers[0].nodes.length === 0
    ? placement.providers[0].provider
    : undefined;
  return {
    total,
    ...(only ? { onlyProvider: only } : {}),
    cpu,
    cpuShapeOnly: cpuNodes.length - compute.length,
    cpuCompute: compute.map((n) => `${n.op} (${n.name})`),
    memcpy: placement.memcpy.length,
    noCudaKernel: placement.noCudaKernel.map((n) => `${n.op} (${n.name})`),
  };
}
