import type { ErrorCode } from "@switchyard/contracts";

/** HTTP status of an API error: the caller's fault → 4xx, ours → 5xx. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case "SY_ERR_SPEC_YAML":
    case "SY_ERR_SPEC_INVALID":
    case "SY_ERR_ENV_NULL":
    case "SY_ERR_BAD_REQUEST":
      return 400;
    case "SY_ERR_UNAUTHORIZED":
      return 401;
    case "SY_ERR_FORBIDDEN":
      return 403;
    case "SY_ERR_NOT_FOUND":
      return 404;
    case "SY_ERR_TOO_LARGE":
      return 413;
    case "SY_ERR_BUS_UNREACHABLE":
    case "SY_ERR_NO_RESPONDER":
      return 503;
    case "SY_ERR_TIMEOUT":
      return 504;
    default:
      return 500;
  }
}
