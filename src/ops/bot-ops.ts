/**
 * The bot process's operator endpoint: started by `paperhound bot` when HEALTH_PORT is set. Ready
 * once the index is open and the chat adapters have started (`markReady`); `/metrics` carries the
 * index size and the embedder's model and device.
 */
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { PaperIndex } from "../search/paper-index.js";
import { startHealthServer, type HealthServer } from "./health-server.js";
import { BotMetrics } from "./metrics.js";

export interface BotOps {
  metrics: BotMetrics;
  /** Adapters call this once connected; `waiting` names what is still starting. */
  setWaiting(waiting: string[]): void;
  close(): Promise<void>;
}

export async function startBotOps(config: Config, index: PaperIndex, logger: Logger): Promise<BotOps> {
  const metrics = new BotMetrics();
  metrics.indexPapers(index.stats().papers);
  metrics.embedder(index.embedder.modelId, index.embedder.device);
  let waiting = ["chat adapters starting"];
  let server: HealthServer | undefined;
  if (config.healthPort !== undefined) {
    server = await startHealthServer({
      port: config.healthPort,
      host: config.healthHost,
      metrics,
      readiness: () => ({ ready: waiting.length === 0, waitingFor: waiting }),
    });
    logger.info("health endpoint listening", { host: config.healthHost, port: server.port, paths: "/healthz /readyz /metrics" });
  }
  return {
    metrics,
    setWaiting: (w) => {
      waiting = w;
    },
    close: async () => {
      await server?.close();
    },
  };
}
