/**
 * The deployment files: the Kubernetes manifests parse and say what they must (Indexed Job, GPU,
 * shared volume, shard index from JOB_COMPLETION_INDEX), their shell commands expand to the right
 * command lines, and `deploy/slurm.sh` — run with stub `sbatch`/`srun` and faked array-task
 * environments — shards a real run on the tiny model and merges it into exactly what a single
 * process computes.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Manifest } from "../lib/experiments/manifest.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const deployDir = join(root, "deploy");

// ---------------------------------------------------------------------------------------------
// A YAML reader for the block-style subset these files use (mappings, sequences, flow lists of
// scalars, quoted and plain scalars, `>-` folded text, comments, `---`); anything else throws.

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  number: number;
}

function stripComment(text: string): string {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || text[i - 1] === " ")) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

function scalar(text: string, where: number): Yaml {
  const t = text.trim();
  if (t.startsWith('"')) return JSON.parse(t);
  if (t.startsWith("'")) {
    if (!t.endsWith("'")) throw new Error(`line ${where}: unterminated quote`);
    return t.slice(1, -1).replaceAll("''", "'");
  }
  if (t.startsWith("[")) {
    if (!t.endsWith("]")) throw new Error(`line ${where}: unterminated flow list`);
    const inner = t.slice(1, -1).trim();
    return inner === "" ? [] : inner.split(",").map((part) => scalar(part, where));
  }
  if (t.startsWith("{") || t.startsWith("&") || t.startsWith("*") || t.startsWith("!")) {
    throw new Error(`line ${where}: unsupported YAML: ${t}`);
  }
  if (t === "" || t === "~" || t === "null") return null;
  if (t === "true" || t === "false") return t === "true";
  if (/^[-+]?\d+$/.test(t)) return Number(t);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

const BLOCK_SCALAR = new Set([">-", ">", "|"]);

/** Folded (`>`, `>-`: lines joined by spaces) or literal (`|`) text of one indentation level. */
function blockScalar(style: string, body: string[]): string {
  return style === "|" ? body.join("\n") + "\n" : body.join(" ") + (style === ">" ? "\n" : "");
}

function parseBlock(lines: Line[], start: number, indent: number): [Yaml, number] {
  const first = lines[start];
  if (first.text.startsWith("- ") || first.text === "-") {
    const items: Yaml[] = [];
    let i = start;
    while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith("-")) {
      const rest = lines[i].text.slice(1).trimStart();
      const childIndent = indent + (lines[i].text.length - rest.length);
      // The item's first line without its dash, then the lines indented under it.
      const item: Line[] = [{ indent: childIndent, text: rest, number: lines[i].number }];
      let j = i + 1;
      while (j < lines.length && lines[j].indent > indent) item.push(lines[j++]);
      if (rest === "") throw new Error(`line ${lines[i].number}: empty list item`);
      if (BLOCK_SCALAR.has(rest)) items.push(blockScalar(rest, item.slice(1).map((l) => l.text)));
      else if (/^[\w./-]+:( |$)/.test(rest)) items.push(parseBlock(item, 0, childIndent)[0]);
      else items.push(scalar(rest, lines[i].number));
      i = j;
    }
    return [items, i];
  }
  const map: { [key: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i].indent === indent) {
    const { text, number } = lines[i];
    const match = /^([\w./-]+):(?: (.*))?$/.exec(text);
    if (!match) throw new Error(`line ${number}: expected "key: value", got ${text}`);
    const [, key, value = ""] = match;
    if (key in map) throw new Error(`line ${number}: duplicate key ${key}`);
    i++;
    if (BLOCK_SCALAR.has(value)) {
      const body: string[] = [];
      while (i < lines.length && lines[i].indent > indent) body.push(lines[i++].text);
      map[key] = blockScalar(value, body);
    } else if (value.trim() !== "") {
      map[key] = scalar(value, number);
    } else if (i < lines.length && lines[i].indent > indent) {
      [map[key], i] = parseBlock(lines, i, lines[i].indent);
    } else {
      map[key] = null;
    }
  }
  if (i < lines.length && lines[i].indent > indent) {
    throw new Error(`line ${lines[i].number}: unexpected indentation`);
  }
  return [map, i];
}

/** Parses every document of a YAML file (the subset described above). */
function parseYamlDocuments(text: string): Yaml[] {
  if (text.includes("\t")) throw new Error("tabs are not allowed in YAML indentation");
  const documents: Line[][] = [[]];
  text.split("\n").forEach((raw, n) => {
    if (raw.trim() === "---") return documents.push([]);
    const stripped = stripComment(raw);
    if (stripped.trim() === "") return;
    const indent = stripped.length - stripped.trimStart().length;
    documents.at(-1)!.push({ indent, text: stripped.trim(), number: n + 1 });
  });
  return documents.filter((d) => d.length > 0).map((lines) => {
    const [value, end] = parseBlock(lines, 0, lines[0].indent);
    if (end !== lines.length) throw new Error(`line ${lines[end].number}: unexpected content`);
    return value;
  });
}

// ---------------------------------------------------------------------------------------------

async function pythonYaml(path: string): Promise<unknown[] | null> {
  try {
    const { success, stdout } = await new Deno.Command("python3", {
      args: [
        "-c",
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        path,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    return success ? JSON.parse(new TextDecoder().decode(stdout)) : null;
  } catch {
    return null;
  }
}

async function readYaml(name: string) {
  const path = join(deployDir, name);
  const documents = parseYamlDocuments(await Deno.readTextFile(path));
  // Where PyYAML is installed, a real YAML parser must read the same.
  const reference = await pythonYaml(path);
  if (reference) assert.deepEqual(documents, reference, `${name}: PyYAML reads it differently`);
  return documents as Doc[];
}

/** A parsed Kubernetes object, navigated freely in the checks below. */
// deno-lint-ignore no-explicit-any
type Doc = Record<string, any>;

Deno.test("the tiny YAML reader: what it accepts and what it refuses", () => {
  assert.deepEqual(
    parseYamlDocuments(
      'a: 1\nb: "x # y" # comment\nc:\n  - d: [1, "two"]\n    e: >-\n      one\n      two\n  - 3\n' +
        "  - >-\n    three\n    four\n---\nf: ~\n",
    ),
    [{ a: 1, b: "x # y", c: [{ d: [1, "two"], e: "one two" }, 3, "three four"] }, { f: null }],
  );
  for (const bad of ["a: 1\n  b: 2\n", "a: 1\na: 2\n", "a: &x 1\n", "just text\n", "a:\n\t- 1\n"]) {
    assert.throws(() => parseYamlDocuments(bad), Error, bad);
  }
});

/** Runs `sh -c command` with a stub `deno` on PATH; returns the arguments deno was called with. */
async function expandWithStubDeno(command: string, env: Record<string, string>, cwd: string) {
  const bin = await Deno.makeTempDir({ prefix: "stub_bin_" });
  try {
    await Deno.writeTextFile(join(bin, "deno"), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    await Deno.chmod(join(bin, "deno"), 0o755);
    const out = await new Deno.Command("sh", {
      args: ["-c", command],
      cwd,
      env: { ...env, PATH: `${bin}:${Deno.env.get("PATH")}` },
      stdout: "piped",
    }).output();
    assert.ok(out.success);
    return new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
}

Deno.test({
  name: "k8s-indexed-job.yaml: Indexed Job, a GPU per pod, shared volume, shard = completion index",
  ignore: Deno.build.os === "windows",
  async fn() {
    const [claim, job] = await readYaml("k8s-indexed-job.yaml");
    assert.equal(claim.kind, "PersistentVolumeClaim");
    assert.deepEqual(claim.spec.accessModes, ["ReadWriteMany"]);
    assert.equal(job.kind, "Job");
    assert.equal(job.apiVersion, "batch/v1");
    const spec = job.spec;
    assert.equal(spec.completionMode, "Indexed");
    assert.equal(spec.parallelism, spec.completions);
    const pod = spec.template.spec;
    assert.equal(pod.restartPolicy, "Never");
    const [container] = pod.containers;
    assert.equal(container.resources.limits["nvidia.com/gpu"], 1);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(Number(env.SHARDS), spec.completions, "SHARDS must equal completions");
    assert.equal(pod.volumes[0].persistentVolumeClaim.claimName, claim.metadata.name);
    assert.equal(container.volumeMounts[0].name, pod.volumes[0].name);
    assert.ok(env.FLUIDITY_MODELS.startsWith(container.volumeMounts[0].mountPath));
    assert.deepEqual(container.command, ["sh", "-c"]);
    // The command line each pod runs, as its shell expands it.
    for (let index = 0; index < spec.completions; index++) {
      const args = await expandWithStubDeno(
        container.args[0],
        { JOB_COMPLETION_INDEX: String(index), SHARDS: env.SHARDS },
        root,
      );
      assert.deepEqual(args, [
        "run",
        "-A",
        "lib/cli/run.ts",
        "experiments/path1.ts",
        "--device",
        "cuda",
        "--shard",
        `${index}/${spec.completions}`,
        "--out",
        `/data/results/path1/shard-${index}`,
      ]);
    }
    await Deno.stat(join(root, "experiments/path1.ts"));
  },
});

Deno.test({
  name: "k8s-merge-job.yaml: merges every shard folder into the run folder",
  ignore: Deno.build.os === "windows",
  async fn() {
    const [merge] = await readYaml("k8s-merge-job.yaml");
    const [shardClaim] = await readYaml("k8s-indexed-job.yaml");
    assert.equal(merge.kind, "Job");
    const pod = merge.spec.template.spec;
    assert.equal(pod.volumes[0].persistentVolumeClaim.claimName, shardClaim.metadata.name);
    const [container] = pod.containers;
    assert.equal(container.resources.limits?.["nvidia.com/gpu"], undefined, "no GPU needed");
    const data = await Deno.makeTempDir();
    try {
      for (const i of [0, 1, 2, 3]) {
        await Deno.mkdir(join(data, `results/path1/shard-${i}`), { recursive: true });
      }
      const args = await expandWithStubDeno(container.args[0].replaceAll("/data", data), {}, root);
      assert.deepEqual(args, [
        "run",
        "-A",
        "lib/cli/merge.ts",
        `${data}/results/path1`,
        ...[0, 1, 2, 3].map((i) => `${data}/results/path1/shard-${i}`),
      ]);
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------

/** Stub sbatch (records its arguments, prints a job id) and srun (runs its arguments). */
async function stubSlurm(bin: string) {
  await Deno.writeTextFile(
    join(bin, "sbatch"),
    `#!/usr/bin/env bash
n=$(ls "$STUB_LOG" | wc -l)
printf '%s\\0' "$@" > "$STUB_LOG/call-$n"
echo "$((1000 + n));testcluster"
`,
  );
  await Deno.writeTextFile(join(bin, "srun"), '#!/usr/bin/env bash\nexec "$@"\n');
  for (const name of ["sbatch", "srun"]) await Deno.chmod(join(bin, name), 0o755);
}

function sbatchCall(bytes: string): string[] {
  return bytes.split("\0").slice(0, -1);
}

function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** A manifest without what legitimately differs between runs of the same spec. */
function stable(manifest: Manifest): unknown {
  const copy = structuredClone(manifest) as Partial<Manifest> & Record<string, unknown>;
  for (const key of ["createdAt", "updatedAt", "runtime", "runId", "mergedFrom"]) delete copy[key];
  delete (copy.model as Record<string, unknown>).dir;
  delete (copy.summary as Record<string, unknown> | null)?.samplingMs;
  for (const frame of copy.frames!) delete (frame as Partial<typeof frame>).timings;
  return copy;
}

Deno.test({
  name: "deploy/slurm.sh: array of shards + dependent merge = a single-process run (tiny model)",
  ignore: Deno.build.os === "windows",
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "slurm_test_" });
    try {
      const bin = join(tmp, "bin");
      const calls = join(tmp, "calls");
      await Deno.mkdir(bin);
      await Deno.mkdir(calls);
      await stubSlurm(bin);
      const out = join(tmp, "run");
      const runArgs = ["experiments/path1.ts", "--model", "tiny", "--frames", "5", "--steps", "10"];
      const PATH = `${bin}:${Deno.env.get("PATH")}`;
      const deno = Deno.execPath();
      // A fresh models folder: both shards start by converting the tiny model at the same time.
      const models = join(tmp, "models");

      const submit = await new Deno.Command("bash", {
        args: [join(deployDir, "slurm.sh"), ...runArgs],
        cwd: tmp, // not the project root: the script finds it
        env: { PATH, STUB_LOG: calls, SHARDS: "2", OUT: out, DEVICE: "cpu", DENO: deno },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const submitted = new TextDecoder().decode(submit.stdout);
      assert.ok(submit.success, new TextDecoder().decode(submit.stderr));
      assert.match(submitted, /submitted 2 shard\(s\) as array job 1000 and the merge as job 1001/);

      const array = sbatchCall(await Deno.readTextFile(join(calls, "call-0")));
      const merge = sbatchCall(await Deno.readTextFile(join(calls, "call-1")));
      assert.equal(option(array, "array"), "0-1");
      assert.equal(option(array, "chdir"), root);
      assert.ok(array.includes("--parsable"));
      assert.deepEqual(array.slice(-runArgs.length - 1), [join(deployDir, "slurm.sh"), ...runArgs]);
      assert.equal(option(merge, "dependency"), "afterok:1000");
      assert.equal(option(merge, "chdir"), root);
      assert.equal(option(merge, "gres"), undefined, "the merge needs no GPU");
      const exported = Object.fromEntries(
        option(array, "export")!.split(",").slice(1).map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
      );
      assert.deepEqual(exported, {
        FLUIDITY_SLURM_MODE: "shard",
        FLUIDITY_OUT: out,
        FLUIDITY_SHARDS: "2",
        FLUIDITY_DEVICE: "cpu",
        DENO: deno,
      });

      // What Slurm would do: run both array tasks (at once), then the merge.
      const tasks = await Promise.all([0, 1].map((id) =>
        new Deno.Command("bash", {
          args: array.slice(-runArgs.length - 1),
          cwd: root,
          env: {
            PATH,
            FLUIDITY_MODELS: models,
            ...exported,
            SLURM_ARRAY_JOB_ID: "1000",
            SLURM_ARRAY_TASK_ID: String(id),
            SLURM_ARRAY_TASK_COUNT: "2",
          },
          stdout: "piped",
          stderr: "piped",
        }).output()
      ));
      for (const task of tasks) assert.ok(task.success, new TextDecoder().decode(task.stderr));
      const conversions = tasks.map((t) => new TextDecoder().decode(t.stderr))
        .join("\n").split("\n").filter((l) => l.startsWith("converting "));
      assert.equal(conversions.length, 1, "the model was converted once for both shards");

      const merged = await new Deno.Command("bash", {
        args: ["-c", option(merge, "wrap")!],
        cwd: root,
        env: { PATH },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(merged.success, new TextDecoder().decode(merged.stderr));
      // Shards compute no identity numbers (a merge has no model); analyze adds them, as the
      // README says to.
      const analyzed = await new Deno.Command(deno, {
        args: ["run", "-A", "lib/cli/analyze.ts", out, "--device", "cpu"],
        cwd: root,
        env: { FLUIDITY_MODELS: models },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(analyzed.success, new TextDecoder().decode(analyzed.stderr));

      const single = join(tmp, "single");
      const reference = await new Deno.Command(deno, {
        args: ["run", "-A", "lib/cli/run.ts", ...runArgs, "--device", "cpu", "--out", single],
        cwd: root,
        env: { FLUIDITY_MODELS: models },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(reference.success, new TextDecoder().decode(reference.stderr));

      const read = async (dir: string): Promise<Manifest> =>
        JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
      const [a, b] = [await read(out), await read(single)];
      assert.deepEqual(a.frames.map((f) => f.index), [0, 1, 2, 3, 4]);
      assert.deepEqual(stable(a), stable(b));
      for (
        const picture of ["contact_sheet.png", "path_plot.png", "video.gif", "identity_plot.png"]
      ) {
        assert.deepEqual(
          await Deno.readFile(join(out, picture)),
          await Deno.readFile(join(single, picture)),
          picture,
        );
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy/slurm.sh refuses bad submissions before calling sbatch",
  ignore: Deno.build.os === "windows",
  async fn() {
    for (
      const [env, args, message] of [
        [{ SHARDS: "0" }, ["experiments/path1.ts"], /SHARDS must be a positive integer/],
        [{ SHARDS: "x" }, ["experiments/path1.ts"], /SHARDS must be a positive integer/],
        [{}, ["experiments/nope.ts"], /no experiment file/],
        [{}, [], /usage/],
        [{ OUT: "a,b" }, ["experiments/path1.ts"], /must not contain a comma/],
      ] as const
    ) {
      const result = await new Deno.Command("bash", {
        args: [join(deployDir, "slurm.sh"), ...args],
        cwd: root,
        env: { ...env, PATH: "/usr/bin:/bin" }, // no sbatch: it must not get that far
        stderr: "piped",
      }).output();
      assert.equal(result.code, 2);
      assert.match(new TextDecoder().decode(result.stderr), message);
    }
  },
});
