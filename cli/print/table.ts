/**
 * `-w table`, mirroring etcdctl's `printer_table.go`: only member and endpoint listings are
 * tables; KV responses are not supported (exit 4, after the request was made, like etcdctl).
 */
import type { MemberListResponse } from "../../proto/gen/etcdserverpb/rpc_pb.ts";
import type { EpHashKV, EpHealth, EpStatus } from "./printer.ts";
import { UnsupportedPrinter } from "./printer.ts";
import { endpointHashKVRows, endpointHealthRows, endpointStatusRows, memberListRows, type Rows } from "./rows.ts";
import { renderTable } from "./tablewriter.ts";

/** The table format. */
export class TablePrinter extends UnsupportedPrinter {
  readonly format = "table";

  private table({ header, rows }: Rows): void {
    this.out.print(renderTable(header, rows));
  }

  override memberList(r: MemberListResponse): void {
    this.table(memberListRows(r));
  }

  override endpointHealth(list: EpHealth[]): void {
    this.table(endpointHealthRows(list));
  }

  override endpointHashKV(list: EpHashKV[]): void {
    this.table(endpointHashKVRows(list));
  }

  override endpointStatus(list: EpStatus[]): void {
    this.table(endpointStatusRows(list));
  }
}
