/**
 * A Connect interceptor that counts calls served through Connect's router (streams, gRPC-Web,
 * Connect, compressed gRPC) in {@link GrpcStats}: started when the handler is entered, handled
 * with the call's code when a unary call answers or a stream ends. Plain unary gRPC calls take
 * the lean path (server/http/grpc-unary.ts), which counts them itself.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { GrpcStats } from "./grpc-stats.ts";

/** Counts every call through the router in `stats`. */
export function countGrpcCalls(stats: GrpcStats): Interceptor {
  return (next) => async (req) => {
    const s = stats.forPath(`/${req.service.typeName}/${req.method.name}`);
    if (!s) return next(req);
    s.started++;
    const start = performance.now();
    if (req.stream) {
      const messages = req.message;
      req = {
        ...req,
        message: (async function* () {
          for await (const m of messages) {
            s.msgReceived++;
            yield m;
          }
        })(),
      };
    } else {
      s.msgReceived++;
    }
    let res;
    try {
      res = await next(req);
    } catch (e) {
      s.finish(ConnectError.from(e).code, performance.now() - start);
      throw e;
    }
    if (!res.stream) {
      s.msgSent++;
      s.finish(0, performance.now() - start);
      return res;
    }
    const inner = res.message;
    async function* counted() {
      let code: Code | 0 = Code.Canceled;
      try {
        for await (const m of inner) {
          s!.msgSent++;
          yield m;
        }
        code = 0;
      } catch (e) {
        code = ConnectError.from(e).code;
        throw e;
      } finally {
        s!.finish(code, performance.now() - start);
      }
    }
    return { ...res, message: counted() };
  };
}
