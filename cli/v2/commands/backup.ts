/**
 * etcdctl v2's `backup --data-dir <dir> --backup-dir <dir> [--with-v3]` for our data dir format
 * (server/recovery/backup.ts). `--wal-dir` and `--backup-wal-dir` are refused: this etcd keeps
 * its log inside `<data-dir>/member/db`. Failures are logged as etcdctl's `log.Fatal` lines
 * (`<date> <time> I | <message>`) and exit 1.
 */
import type { V2Command } from "./types.ts";

/** capnslog's time stamp, `2006-01-02 15:04:05.000000`, local time. */
function logTime(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

export const BACKUP_COMMAND: V2Command = {
  name: "backup",
  usage: "backup an etcd directory",
  argsUsage: " ",
  flags: [
    { names: ["data-dir"], type: "string", usage: "Path to the etcd data dir" },
    { names: ["wal-dir"], type: "string", usage: "Path to the etcd wal dir" },
    { names: ["backup-dir"], type: "string", usage: "Path to the backup dir" },
    { names: ["backup-wal-dir"], type: "string", usage: "Path to the backup wal dir" },
    { names: ["with-v3"], type: "bool", usage: "Backup v3 backend data" },
  ],
  async action(ctx) {
    const fatal = (msg: string) => {
      ctx.out.eprintln(`${logTime()} I | ${msg}`);
      return 1;
    };
    for (const flag of ["wal-dir", "backup-wal-dir"]) {
      if (ctx.flags.string(flag) !== "") return fatal(`--${flag} is not supported: this etcd keeps its log in <data-dir>/member/db`);
    }
    // Loaded here so that other commands do not load node:sqlite.
    const { backupDataDir } = await import("../../../server/recovery/backup.ts");
    try {
      backupDataDir({ dataDir: ctx.flags.string("data-dir"), backupDir: ctx.flags.string("backup-dir"), withV3: ctx.flags.bool("with-v3") });
    } catch (e) {
      const msg = (e as Error).message;
      return fatal(/database is locked|SQLITE_BUSY/i.test(msg) ? `${msg} (stop the member on ${ctx.flags.string("data-dir")} first)` : msg);
    }
  },
};
