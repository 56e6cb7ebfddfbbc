/** One etcdctl v2 command (a urfave `cli.Command`). */
import type { V2Context } from "../context.ts";
import type { V2Flag } from "../flags.ts";

export interface V2Command {
  name: string;
  /** One-line description (urfave `Usage`). */
  usage: string;
  /** Argument synopsis for help (urfave `ArgsUsage`). */
  argsUsage?: string;
  /** Longer help text (urfave `Description`). */
  description?: string;
  flags?: V2Flag[];
  /** Subcommands (`member list`); a group has no action. */
  subcommands?: V2Command[];
  /** Runs the command; resolves with an exit code other than 0 when it fails without throwing. */
  action?(ctx: V2Context): Promise<number | void>;
}
