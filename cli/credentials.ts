/**
 * The user name and password of `--user`/`--password` (`ETCDCTL_USER`/`ETCDCTL_PASSWORD`), as
 * etcdctl 3.4's `authCfgFromCmd` reads them (`ctlv3/command/global.go`).
 */
import { CtlError, ExitCode } from "./errors.ts";
import type { GlobalConfig } from "./global.ts";
import type { Output } from "./output.ts";
import { askPassword } from "./password.ts";
import type { Stdin } from "./stdin.ts";

/** Who the client authenticates as. clientv3 authenticates only when both are non-empty. */
export interface Credentials {
  user: string;
  password: string;
}

/**
 * - no `--user`: no credentials;
 * - `--password p`: the whole `--user` value is the name (`--user a:b --password p` is user `a:b`);
 * - `--user name:pw`: split at the first `:`;
 * - `--user name`: prompts `Password: ` on the terminal (see {@link askPassword}).
 * @throws CtlError exit 1 with the prompt's error
 */
export async function credentialsFromFlags(
  global: Pick<GlobalConfig, "user" | "password">,
  out: Output,
  stdin: Stdin,
): Promise<Credentials | undefined> {
  if (global.user === "") return undefined;
  if (global.password !== "") return { user: global.user, password: global.password };
  const colon = global.user.indexOf(":");
  if (colon >= 0) return { user: global.user.slice(0, colon), password: global.user.slice(colon + 1) };
  try {
    return { user: global.user, password: await askPassword("Password: ", out, stdin) };
  } catch (e) {
    throw new CtlError(ExitCode.Error, (e as Error).message);
  }
}
