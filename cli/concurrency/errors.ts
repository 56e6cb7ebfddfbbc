/** How the lock and election recipes' failures reach the user of etcdctl. */
import { ConnectError } from "@connectrpc/connect";
import { CtlError, ExitCode } from "../errors.ts";

/**
 * `e` as etcdctl's ExitWithError(ExitError, err) shows it: CtlErrors as they are, anything else
 * (`context canceled` after an interrupt, `lost watcher waiting for delete`...) exit 1 with its text.
 */
export function ctlError(e: unknown): CtlError {
  if (e instanceof CtlError) return e;
  if (e instanceof ConnectError) return new CtlError(ExitCode.Error, e.rawMessage);
  return new CtlError(ExitCode.Error, e instanceof Error ? e.message : String(e));
}
