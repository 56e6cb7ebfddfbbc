/**
 * The answer for RPCs this server does not serve yet: what grpc-go answers for a method the
 * server has not registered (`codes.Unimplemented`, `unknown method <Method> for service
 * <package.Service>`), so clients see the same thing as from any gRPC server lacking it.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";

/** A handler that always fails with Unimplemented `unknown method <name> for service <service>`. */
export function unimplemented(service: DescService, method: string): () => never {
  return () => {
    throw new ConnectError(`unknown method ${method} for service ${service.typeName}`, Code.Unimplemented);
  };
}
