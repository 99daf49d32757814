/**
 * Rebuilds the default embedding model (Universal Sentence Encoder lite) as an ONNX model directory.
 * Same as `paperhound build-model`; kept as a script because that is where builders live.
 *   npm run build-model -- [--out DIR] [--if-missing] [--quiet]
 */
import { main } from "../src/cli.js";

process.exitCode = await main([process.argv[0]!, "paperhound", "build-model", ...process.argv.slice(2)]);
