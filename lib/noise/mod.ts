/**
 * Initial noise identical to PyTorch's CPU `torch.randn` for a given seed.
 *
 * @module
 */

export { MT19937 } from "./mt19937.ts";
export { parseTorchSeed, TorchGenerator, torchRandn, type TorchSeed } from "./torch_randn.ts";
