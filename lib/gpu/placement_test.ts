import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildDenoiseLoopGraph,
  buildUnetGraph,
  parseUnetConfig,
  randomWeights,
  unetParameterShapes,
} from "../models/mod.ts";
import { saveModel } from "../onnx/serialize.ts";
import { parsePlacementLog, summarizeCpuPlacement } from "./placement.ts";
import { placementProblem, runWorker } from "./check.ts";

const TINY = new URL("../testdata/ldm-reference/tiny-ldm/", import.meta.url);

Deno.test("placement is read from onnxruntime's real verbose log (CPU provider, Loop model)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fluidity-placement-" });
  try {
    const config = parseUnetConfig(
      JSON.parse(await Deno.readTextFile(new URL("unet/config.json", TINY))),
    );
    const unet = buildUnetGraph(config, randomWeights(unetParameterShapes(config), 1));
    const path = join(dir, "unet_loop.onnx");
    await saveModel(path, buildDenoiseLoopGraph(unet));
    const { result, stderr } = await runWorker("placement", { path, device: "cpu", threads: 1 });
    assert.equal(result.ok, true, result.error);
    // The real lines, e.g. "2026-… [V:onnxruntime:, session_state.cc:1380
    // VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 667"
    assert.match(stderr, /VerifyEachNodeIsAssignedToAnEp\] Node placements/);
    const sessions = parsePlacementLog(stderr);
    assert.equal(sessions.length, 1);
    const [session] = sessions;
    assert.equal(session.providers.length, 1);
    assert.equal(session.providers[0].provider, "CPUExecutionProvider");
    const count = Number(
      /All nodes placed on \[CPUExecutionProvider\]\. Number of nodes: (\d+)/.exec(stderr)![1],
    );
    assert.equal(session.providers[0].count, count);
    // The count covers the Loop body: far more nodes than the main graph's two.
    assert.ok(count > 100, `only ${count} nodes`);
    const summary = summarizeCpuPlacement(session);
    assert.equal(summary.onlyProvider, "CPUExecutionProvider");
    assert.equal(summary.total, count);
    assert.equal(summary.cpu, count);
    assert.deepEqual(summary.cpuCompute, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The messages onnxruntime writes when a second provider takes part, in the format of
 * session_state.cc (VerifyEachNodeIsAssignedToAnEp), cuda_execution_provider.cc (GetCapability),
 * fallback_cpu_capability.cc and transformer_memcpy.cc; the line heads as the CPU run prints them.
 */
const CUDA_SESSION = [
  "2026-12-03 08:21:31.000000001 [I:onnxruntime:, cuda_execution_provider.cc:2590 GetCapability] CUDA kernel not found in registries for Op type: Col2Im node name: up/Col2Im",
  "2026-12-03 08:21:31.000000002 [I:onnxruntime:, fallback_cpu_capability.cc:178 GetCpuPreferredNodes] ORT optimization- Force fallback to CPU execution for node: mid/Shape_1/Gather because the CPU execution path is deemed faster than overhead involved with execution on other EPs  capable of executing this node",
  "2026-12-03 08:21:31.000000003 [I:onnxruntime:, transformer_memcpy.cc:393 AddCopyNode] Add MemcpyFromHost after up/Col2Im for CUDAExecutionProvider",
  "2026-12-03 08:21:31.000000004 [I:onnxruntime:, transformer_memcpy.cc:393 AddCopyNode] Add MemcpyToHost before up/Col2Im for CPUExecutionProvider",
  "2026-12-03 08:21:31.000000005 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements",
  "2026-12-03 08:21:31.000000006 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 3",
  "2026-12-03 08:21:31.000000007 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Conv (down/Conv)",
  "2026-12-03 08:21:31.000000008 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MemcpyFromHost (Memcpy)",
  "2026-12-03 08:21:31.000000009 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MemcpyToHost (Memcpy_token_1)",
  "2026-12-03 08:21:31.000000010 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 4",
  "2026-12-03 08:21:31.000000011 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Shape (mid/Shape_1)",
  "2026-12-03 08:21:31.000000012 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Gather (mid/Shape_1/Gather)",
  "2026-12-03 08:21:31.000000013 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Concat (mid/attn/Concat)",
  "2026-12-03 08:21:31.000000014 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Col2Im (up/Col2Im)",
  "2026-12-03 08:21:31.000000015 [V:onnxruntime:, session_state.cc:232 CreateGraphInfo] Done saving OrtValue mappings.",
].join("\n");

Deno.test("a mixed placement: providers, nodes, CUDA gaps, forced fallbacks and copies", () => {
  const [s] = parsePlacementLog(CUDA_SESSION + "\n");
  assert.deepEqual(s.providers.map((p) => [p.provider, p.count, p.nodes.length]), [
    ["CUDAExecutionProvider", 3, 3],
    ["CPUExecutionProvider", 4, 4],
  ]);
  assert.deepEqual(s.providers[1].nodes[0], { op: "Shape", name: "mid/Shape_1" });
  assert.deepEqual(s.noCudaKernel, [{ op: "Col2Im", name: "up/Col2Im" }]);
  assert.deepEqual(s.forcedToCpu, ["mid/Shape_1/Gather"]);
  assert.deepEqual(s.memcpy.map((m) => m.direction), ["FromHost", "ToHost"]);

  // Concat is a shape op by name, but our graph says it reads float32: real work on the CPU.
  const summary = summarizeCpuPlacement(
    s,
    (name) => name === "mid/attn/Concat" ? false : undefined,
  );
  assert.equal(summary.total, 7);
  assert.equal(summary.cpu, 4);
  assert.equal(summary.cpuShapeOnly, 2);
  assert.deepEqual(summary.cpuCompute, ["Concat (mid/attn/Concat)", "Col2Im (up/Col2Im)"]);
  assert.equal(summary.memcpy, 2);
  assert.deepEqual(summary.noCudaKernel, ["Col2Im (up/Col2Im)"]);
  assert.equal(summary.onlyProvider, undefined);
});

Deno.test("two sessions in one log give two placements, each with its own messages", () => {
  const second = [
    "2026-12-03 08:21:40.1 [I:onnxruntime:, transformer_memcpy.cc:393 AddCopyNode] Add MemcpyFromHost after x for CUDAExecutionProvider",
    "2026-12-03 08:21:40.2 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements",
    "2026-12-03 08:21:40.3 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CUDAExecutionProvider]. Number of nodes: 12",
  ].join("\n");
  const sessions = parsePlacementLog(`${CUDA_SESSION}\nnot a log line\n${second}`);
  assert.equal(sessions.length, 2);
  assert.equal(sessions[0].memcpy.length, 2);
  assert.equal(sessions[1].memcpy.length, 1);
  assert.equal(sessions[1].noCudaKernel.length, 0);
  const summary = summarizeCpuPlacement(sessions[1]);
  assert.equal(summary.onlyProvider, "CUDAExecutionProvider");
  assert.equal(summary.cpu, 0);
  assert.equal(summary.total, 12);
});

Deno.test("on CUDA, compute nodes on the CPU fail the check; shape computations do not", () => {
  const [mixed] = parsePlacementLog(CUDA_SESSION);
  const judged = placementProblem(
    summarizeCpuPlacement(mixed, (name) => name === "mid/attn/Concat" ? false : undefined),
    "cuda",
  );
  assert.equal(
    judged,
    "2 compute nodes on the CPU (Concat (mid/attn/Concat), Col2Im (up/Col2Im)); " +
      "no CUDA kernel for Col2Im (up/Col2Im)",
  );
  // Only Shape/Gather (shape computations) on the CPU: fine.
  const shapeOnly = CUDA_SESSION.split("\n")
    .filter((l) => !/Concat|Col2Im/.test(l))
    .join("\n");
  const [s] = parsePlacementLog(shapeOnly);
  assert.equal(summarizeCpuPlacement(s).cpuShapeOnly, 2);
  assert.equal(placementProblem(summarizeCpuPlacement(s), "cuda"), undefined);
  // A CUDA session with every node on the CPU fails; the CPU self-test judges nothing.
  const allCpu = [
    "2026-12-03 08:21:40.2 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements",
    "2026-12-03 08:21:40.3 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 9",
  ].join("\n");
  const cpuSummary = summarizeCpuPlacement(parsePlacementLog(allCpu)[0]);
  assert.equal(placementProblem(cpuSummary, "cuda"), "all 9 nodes on the CPU");
  assert.equal(placementProblem(cpuSummary, "cpu"), undefined);
});
