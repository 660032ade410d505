/**
 * Whether a file exists, the one way the project asks.
 *
 * @module
 */

/** Whether `path` exists (following symlinks); errors other than "not found" are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
