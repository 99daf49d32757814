// The child process of the digest's source fetches (src/ingest/job.ts): registers tsx's ESM loader,
// then runs the job module, which waits for its job over IPC.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
await import("../src/ingest/job-child.ts");
