/**
 * etcd's v2 errors (etcdserver/api/v2error/error.go): a numeric code, its fixed message, a cause
 * (usually the key) and the store index when the error happened. Written to HTTP clients as
 * `{"errorCode":100,"message":"Key not found","cause":"/foo","index":4}` plus a newline, with
 * the status {@link V2Error.status} and an `X-Etcd-Index` header carrying `index`.
 */

/** The codes this server raises (etcd's Ecode* constants). */
export const V2Code = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootROnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTTLRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
} as const;

/** etcd's message per code (v2error.errors), including codes etcd 3.4 no longer raises. */
const MESSAGES: Record<number, string> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  103: "Reached the max number of peers in the cluster",
  104: "Not a directory",
  105: "Key already exists",
  106: "The prefix of given key is a keyword in etcd",
  107: "Root is read only",
  108: "Directory not empty",
  109: "Peer address has existed",
  110: "The request requires user authentication",
  200: "Value is Required in POST form",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  204: "Value or TTL is required in POST form",
  205: "The given timeout in POST form is not a number",
  206: "Name is required in POST form",
  207: "Index or value is required",
  208: "Index and value cannot both be specified",
  209: "Invalid field",
  210: "Invalid POST form",
  211: "Value provided on refresh",
  212: "A TTL must be provided on refresh",
  300: "Raft Internal Error",
  301: "During Leader Election",
  400: "watcher is cleared due to etcd recovery",
  401: "The event in requested index is outdated and cleared",
  402: "Standby Internal Error",
  403: "Invalid active size",
  404: "Standby remove delay",
  500: "Client Internal Error",
};

/** HTTP status per code (v2error.errorStatus); every other code is 400. */
const STATUS: Record<number, number> = {
  100: 404,
  102: 403,
  108: 403,
  110: 401,
  101: 412,
  105: 412,
  300: 500,
  301: 500,
};

/** A v2 store or request error; `index` is the store index it reports (0 for request errors). */
export class V2Error extends Error {
  constructor(
    readonly errorCode: number,
    readonly cause: string,
    public index = 0,
  ) {
    super(`${MESSAGES[errorCode] ?? ""} (${cause})`);
  }

  /** etcd's message for the code. */
  get text(): string {
    return MESSAGES[this.errorCode] ?? "";
  }

  /** HTTP status of the answer (v2error.Error.StatusCode). */
  get status(): number {
    return STATUS[this.errorCode] ?? 400;
  }

  /** The JSON body etcd writes, without its trailing newline (`cause` omitted when empty). */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { errorCode: this.errorCode, message: this.text };
    if (this.cause !== "") body.cause = this.cause;
    body.index = this.index;
    return body;
  }
}
