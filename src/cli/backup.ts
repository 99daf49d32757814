/**
 * `paperhound backup <dir>` and `paperhound restore <backup> [--index DIR]`: a consistent copy of the
 * index (store, vectors, digest state) taken while the bot keeps running, and its way back.
 */
import { BackupError, backupIndex, restoreIndex, type BackupReport } from "../search/backup.js";
import { InputError } from "../app/context.js";
import { type RegisterCommand } from "./context.js";
import { indexLocation, type IndexOption } from "../app/open-index.js";
import { addIndexOption } from "./search-common.js";

function summary(verb: string, r: BackupReport): string {
  const mb = r.files.reduce((s, f) => s + f.bytes, 0) / 2 ** 20;
  return `${verb} ${r.dir}: ${r.files.map((f) => f.name).join(", ")} (${mb.toFixed(1)} MB) in ${r.seconds.toFixed(1)} s\n`;
}

export const registerBackup: RegisterCommand = (program, ctx) => {
  const backup = program
    .command("backup")
    .description("copy the index (papers, vectors, digest state) into a new directory, safely while the bot runs")
    .argument("<dir>", "new or empty directory for the backup");
  addIndexOption(backup).action(async (dir: string, opts: IndexOption) => {
    const loc = indexLocation(ctx, opts);
    try {
      ctx.stdout.write(summary("backed up to", await backupIndex(loc.dir, dir)));
    } catch (err) {
      if (err instanceof BackupError) throw new InputError(err.message);
      throw err;
    }
  });

  const restore = program
    .command("restore")
    .description("restore a backup into the index directory (which must be new or empty: move the current index aside first)")
    .argument("<backup>", "a directory written by `paperhound backup`");
  addIndexOption(restore).action(async (from: string, opts: IndexOption) => {
    const loc = indexLocation(ctx, opts);
    try {
      ctx.stdout.write(summary("restored into", await restoreIndex(from, loc.dir)));
    } catch (err) {
      if (err instanceof BackupError) throw new InputError(err.message);
      throw err;
    }
  });
};
