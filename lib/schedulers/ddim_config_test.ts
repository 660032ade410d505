import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DDIMScheduler } from "./ddim.ts";
import { DDIM_DEFAULTS, parseDDIMConfig, SchedulerConfigError } from "./ddim_config.ts";

const tinyConfig = JSON.parse(
  Deno.readTextFileSync(
    fileURLToPath(
      new URL(
        "../testdata/ldm-reference/tiny-ldm/scheduler/scheduler_config.json",
        import.meta.url,
      ),
    ),
  ),
);

Deno.test("the tiny pipeline's config parses with its own values", () => {
  const { config, ignoredKeys } = parseDDIMConfig(tinyConfig);
  for (const key of Object.keys(DDIM_DEFAULTS) as (keyof typeof DDIM_DEFAULTS)[]) {
    assert.deepEqual(config[key], tinyConfig[key], key);
  }
  assert.deepEqual(ignoredKeys, []);
});

Deno.test("missing fields take diffusers' defaults; unknown keys are ignored and listed", () => {
  const { config, ignoredKeys } = parseDDIMConfig({
    _class_name: "DDIMScheduler",
    timestep_values: null,
    tensor_format: "pt",
  });
  assert.deepEqual(config, { ...DDIM_DEFAULTS });
  assert.deepEqual(ignoredKeys, ["timestep_values", "tensor_format"]);
});

function assertFieldError(raw: unknown, field: string, fragment: string) {
  assert.throws(
    () => new DDIMScheduler(raw),
    (e: unknown) =>
      e instanceof SchedulerConfigError && e.field === field && e.message.includes(field) &&
      e.message.includes(fragment),
    `${field}: expected an error mentioning ${fragment}`,
  );
}

Deno.test("unsupported or mistyped fields raise errors naming field and allowed values", () => {
  assertFieldError(
    { beta_schedule: "sigmoid" },
    "beta_schedule",
    '"linear", "scaled_linear", "squaredcos_cap_v2", got "sigmoid"',
  );
  assertFieldError(
    { prediction_type: "x0" },
    "prediction_type",
    '"epsilon", "v_prediction", "sample"',
  );
  assertFieldError(
    { timestep_spacing: "uniform" },
    "timestep_spacing",
    '"leading", "trailing", "linspace"',
  );
  assertFieldError({ thresholding: true }, "thresholding", "allowed values are false");
  assertFieldError(
    { rescale_betas_zero_snr: true },
    "rescale_betas_zero_snr",
    "allowed values are false",
  );
  assertFieldError({ clip_sample: "no" }, "clip_sample", "true or false");
  assertFieldError({ set_alpha_to_one: 1 }, "set_alpha_to_one", "true or false");
  assertFieldError({ num_train_timesteps: 0 }, "num_train_timesteps", "integer >= 1");
  assertFieldError({ steps_offset: 1.5 }, "steps_offset", "integer >= 0");
  assertFieldError({ beta_start: "0.1" }, "beta_start", "finite number");
  assertFieldError({ beta_end: -1 }, "beta_end", ">= 0");
  assertFieldError({ trained_betas: [0.1, 0.2] }, "trained_betas", "1000");
  assertFieldError(
    { num_train_timesteps: 2, trained_betas: [0.1, "x"] },
    "trained_betas[1]",
    '"x"',
  );
  assertFieldError([], "<root>", "JSON object");
  assertFieldError(null, "<root>", "JSON object");
});

Deno.test("set_alpha_to_one=false ends at alphas_cumprod[0]", () => {
  const scheduler = new DDIMScheduler({ ...tinyConfig, set_alpha_to_one: false });
  assert.equal(scheduler.finalAlphaCumprod, scheduler.alphasCumprod[0]);
  assert.equal(new DDIMScheduler(tinyConfig).finalAlphaCumprod, 1);
});

Deno.test("trained_betas replace the named schedule", () => {
  const betas = [0.1, 0.2, 0.3];
  const scheduler = new DDIMScheduler({ num_train_timesteps: 3, trained_betas: betas });
  assert.deepEqual(Array.from(scheduler.betas), betas.map(Math.fround));
  assert.equal(scheduler.alphasCumprod[2], Math.fround(0.9 * 0.8 * 0.7));
});
