#!/usr/bin/env bash
# fluidity on Slurm: a job array with one task per shard, then a merge job that starts once every
# shard has succeeded. See deploy/README.md.
#
# Submit (on the login node, from anywhere):
#   SHARDS=8 deploy/slurm.sh experiments/path1.ts [run options, e.g. --frames 300]
#
# Environment of the submission:
#   SHARDS       number of shards = array tasks (default 4)
#   OUT          run folder (default results/<experiment>/<UTC time>); shard i writes OUT/shard-i,
#                the merged run lands in OUT itself. Re-submitting with the same OUT resumes.
#   DEVICE       --device of the shards (default cuda)
#   SBATCH_ARGS  extra sbatch options for both jobs, e.g. "--partition=gpu --account=lab"
#   DENO         the deno executable on the compute nodes (default: deno on PATH)
#
# The #SBATCH lines below are the shard tasks' defaults (the array range is set at submission);
# the merge job needs no GPU and is submitted with --wrap.
#SBATCH --job-name=fluidity
#SBATCH --array=0-3
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=24:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail

die() {
  echo "deploy/slurm.sh: $*" >&2
  exit 2
}

DENO=${DENO:-deno}

if [[ ${FLUIDITY_SLURM_MODE:-} == shard ]]; then
  # One array task: shard $SLURM_ARRAY_TASK_ID of $FLUIDITY_SHARDS. (SLURM_ARRAY_TASK_COUNT is the
  # fallback; it is wrong when a single shard is re-submitted with --array=<i>.)
  : "${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}"
  : "${FLUIDITY_OUT:?FLUIDITY_OUT is not set (set by the submission)}"
  shards=${FLUIDITY_SHARDS:-${SLURM_ARRAY_TASK_COUNT:?}}
  # srun makes the shard a job step: Slurm's SIGTERM at the time limit reaches deno, which saves
  # an "interrupted" manifest; the same submission later resumes from it.
  exec srun "$DENO" run -A lib/cli/run.ts "$@" \
    --device "${FLUIDITY_DEVICE:-cuda}" \
    --shard "$SLURM_ARRAY_TASK_ID/$shards" \
    --out "$FLUIDITY_OUT/shard-$SLURM_ARRAY_TASK_ID"
fi

# Submission.
[[ $# -ge 1 ]] || die "usage: [SHARDS=n] [OUT=dir] deploy/slurm.sh <experiment.ts> [run options...]"
experiment=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Jobs run from the project root: hand them a path that means the same file from there.
if [[ -f $experiment ]]; then
  experiment=$(realpath "$experiment")
elif [[ -f $root/$experiment ]]; then
  experiment=$(realpath "$root/$experiment")
else
  die "no experiment file $experiment"
fi
shards=${SHARDS:-4}
[[ $shards =~ ^[1-9][0-9]*$ ]] || die "SHARDS must be a positive integer, got '$shards'"
name=$(basename "$experiment" .ts)
out=${OUT:-results/$name/$(date -u +%Y%m%dT%H%M%SZ)}
[[ $out != *,* ]] || die "OUT must not contain a comma (sbatch --export splits on commas): $out"
device=${DEVICE:-cuda}
# shellcheck disable=SC2206 # word splitting of SBATCH_ARGS is intended
extra=(${SBATCH_ARGS:-})

array_id=$(sbatch --parsable --chdir="$root" ${extra[@]+"${extra[@]}"} \
  --job-name="fluidity-$name" \
  --array="0-$((shards - 1))" \
  --export="ALL,FLUIDITY_SLURM_MODE=shard,FLUIDITY_OUT=$out,FLUIDITY_SHARDS=$shards,FLUIDITY_DEVICE=$device,DENO=$DENO" \
  "$root/deploy/slurm.sh" "$@")
array_id=${array_id%%;*} # --parsable prints "id" or "id;cluster"

shard_dirs=()
for ((i = 0; i < shards; i++)); do shard_dirs+=("$out/shard-$i"); done
merge_command=$(printf '%q ' "$DENO" run -A lib/cli/merge.ts "$out" "${shard_dirs[@]}")
merge_id=$(sbatch --parsable --chdir="$root" ${extra[@]+"${extra[@]}"} \
  --job-name="fluidity-$name-merge" \
  --dependency="afterok:$array_id" \
  --kill-on-invalid-dep=yes \
  --cpus-per-task=2 --mem=8G --time=02:00:00 \
  --output="slurm-%x-%j.out" \
  --wrap="$merge_command")
merge_id=${merge_id%%;*}

echo "submitted $shards shard(s) as array job $array_id and the merge as job $merge_id"
case $out in
  /*) echo "run folder: $out" ;;
  *) echo "run folder: $root/$out" ;;
esac
