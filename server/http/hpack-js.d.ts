/** Type declarations for the parts of the untyped `hpack.js` package that server/http/hpack.ts uses. */
declare module "hpack.js" {
  import type { Duplex } from "node:stream";
  interface TableOptions {
    table: { size: number };
  }
  interface Decompressor extends Duplex {
    /** Decodes everything written so far; without a callback, errors are emitted as 'error'. */
    execute(cb?: (err: Error | null) => void): void;
  }
  interface HeaderInput {
    name: string;
    value: string;
    /** false: literal without indexing. */
    incremental?: boolean;
    huffman?: boolean;
    neverIndex?: boolean;
  }
  interface Compressor extends Duplex {
    write(headers: HeaderInput[]): boolean;
  }
  const hpack: {
    decompressor: { create(options: TableOptions): Decompressor };
    compressor: { create(options: TableOptions): Compressor };
  };
  export default hpack;
}
