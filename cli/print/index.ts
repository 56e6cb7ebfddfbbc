/**
 * Chooses the printer for `-w/--write-out` (etcdctl's `NewPrinter`).
 */
import { CtlError, ExitCode } from "../errors.ts";
import type { Output } from "../output.ts";
import { FieldsPrinter } from "./fields.ts";
import { JsonPrinter } from "./json.ts";
import type { Printer } from "./printer.ts";
import { ProtobufPrinter } from "./protobuf.ts";
import { SimplePrinter } from "./simple.ts";
import { TablePrinter } from "./table.ts";

/**
 * @param format the `-w` value: simple, json, fields, table or protobuf
 * @param hex `--hex` (only the simple format uses it)
 * @throws CtlError exit 4 `unsupported output format` for any other value
 */
export function newPrinter(format: string, hex: boolean, out: Output): Printer {
  switch (format) {
    case "simple":
      return new SimplePrinter(out, hex);
    case "json":
      return new JsonPrinter(out);
    case "fields":
      return new FieldsPrinter(out);
    case "table":
      return new TablePrinter(out);
    case "protobuf":
      return new ProtobufPrinter(out);
  }
  throw new CtlError(ExitCode.BadFeature, "unsupported output format");
}
