import assert from "node:assert/strict";
import {
  checkColor,
  checkNumber,
  checkObject,
  checkOneOf,
  checkVector,
  describeValue,
} from "./validate.ts";

Deno.test("checkNumber names field, value and allowed range", () => {
  assert.equal(checkNumber("p.x", 0.5, { min: 0, max: 1 }), 0.5);
  assert.throws(() => checkNumber("p.x", NaN, { min: 0, max: 1 }), {
    name: "RangeError",
    message: "p.x must be a finite number in [0, 1], got NaN",
  });
  assert.throws(() => checkNumber("p.x", Infinity, { min: 0 }), {
    name: "RangeError",
    message: "p.x must be a finite number >= 0, got Infinity",
  });
  assert.throws(() => checkNumber("p.d", 0, { min: 0, minExclusive: true }), {
    name: "RangeError",
    message: "p.d must be a finite number > 0, got 0",
  });
  assert.throws(() => checkNumber("p.n", 2.5, { integer: true, min: 1, max: 9 }), {
    name: "RangeError",
    message: "p.n must be an integer in [1, 9], got 2.5",
  });
  assert.throws(() => checkNumber("p.x", "0.5"), {
    name: "TypeError",
    message: 'p.x must be a finite number, got "0.5"',
  });
});

Deno.test("checkColor and checkVector check shape and each component, and copy", () => {
  const input = [0, 0.5, 1];
  const c = checkColor("p.c", input);
  assert.deepEqual(c, [0, 0.5, 1]);
  assert.notEqual(c, input);
  assert.throws(() => checkColor("p.c", [0, 1.5, 0]), {
    name: "RangeError",
    message: "p.c[1] must be a finite number in [0, 1], got 1.5",
  });
  assert.throws(() => checkColor("p.c", [0, 1]), {
    name: "TypeError",
    message: "p.c must be an array of 3 numbers in [0, 1], got [0,1]",
  });
  assert.throws(
    () => checkColor("p.c", "red"),
    /p\.c must be an array of 3 numbers in \[0, 1\], got "red"/,
  );
  assert.deepEqual(checkVector("p.v", [-7, 0, 1e5]), [-7, 0, 1e5]);
  assert.throws(() => checkVector("p.v", [0, -Infinity, 0]), {
    name: "RangeError",
    message: "p.v[1] must be a finite number, got -Infinity",
  });
});

Deno.test("checkOneOf and checkObject reject unknown values and fields", () => {
  assert.equal(checkOneOf("p.k", "b", ["r", "g", "b"]), "b");
  assert.throws(() => checkOneOf("p.k", "z", ["r", "g", "b"]), {
    name: "RangeError",
    message: 'p.k must be one of "r", "g", "b", got "z"',
  });
  assert.throws(() => checkOneOf("p.k", 2, ["r", "g", "b"]), { name: "TypeError" });
  assert.throws(() => checkObject("p", { a: 1, typo: 2 }, ["a", "b"]), {
    name: "TypeError",
    message: 'p has unknown field "typo"; allowed fields: a, b',
  });
  assert.throws(() => checkObject("p", null, ["a"]), {
    name: "TypeError",
    message: "p must be an object, got null",
  });
  assert.throws(() => checkObject("p", [1], ["a"]), { name: "TypeError" });
});

Deno.test("describeValue shows non-JSON numbers verbatim", () => {
  assert.equal(describeValue([1, NaN]), '[1,"NaN"]');
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue("x"), '"x"');
});
