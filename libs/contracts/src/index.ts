// @pure: no I/O (tools/lint-boundaries checks it)
export type { BusAccess, BusUser, DurableGrant, StreamsCreated } from "./access.js";
export {
  BusAccessByUser,
  callersOf,
  Durables,
  inboxPrefixOf,
  requestersOf,
  subjectMatches,
  subjectsOverlap,
} from "./access.js";
export type { ApplyRequest as ApplyRequestInput } from "./api.js";
export {
  API_SCHEMA_VERSION,
  ApplyRequest,
  ApplyResult,
  DeleteResult,
  ListRequest,
  ListResult,
  LogsRequest,
  LogsResult,
  NameRequest,
  ReplicaDownRequest,
  ReplicaDownResult,
  reply,
} from "./api.js";
export { ErrorBody, ErrorCode, formatError, Issue, YardError } from "./errors.js";
export type { EventOf, YardEventType } from "./events.js";
export { EVENT_SCHEMA_VERSION, ProbeHint, YardEvent } from "./events.js";
export { LEASE_DEFAULTS, LEASE_SCHEMA_VERSION, LeaseRecord } from "./lease.js";
export {
  LOAD_SCHEMA_VERSION,
  LoadBatch,
  LoadReport,
  MAX_BATCH_BYTES,
  MAX_BATCH_REPORTS,
  MAX_REPORT_REPLICAS,
  nextReportMs,
} from "./load.js";
export { MASK, maskSpec, maskText, SHORT_SECRET_LENGTH, secretRanges, secretValues } from "./mask.js";
export { SERVICE_NAME_RE, ServiceName } from "./names.js";
export type { FailureFacts } from "./replica.js";
export {
  ACTIVE_PHASES,
  APP_FAILURE_REASONS,
  Drain,
  describeHalt,
  EndpointRecord,
  FAILED_PHASES,
  HOLDING_PHASES,
  haltingFailure,
  isUnrecoverable,
  LOG_TAIL_LINE_CHARS,
  LOG_TAIL_LINES,
  PROBED_PHASES,
  REPLICA_SCHEMA_VERSION,
  Reason,
  ReplicaPhase,
  ReplicaRecord,
  RUNNING_PHASES,
  SCALE_DOWN_ORDER,
} from "./replica.js";
export type { LatestRevision } from "./rollout.js";
export {
  activeRevisions,
  DEFAULT_UPDATE_MODE,
  SILENT_REPORT_INTERVALS,
  SKYSERVE_DRAIN_SECONDS,
  UPDATE_MODES,
  UpdateMode,
} from "./rollout.js";
export {
  SCALE_REASONS,
  SCALE_SCHEMA_VERSION,
  ScaleReason,
  ScaleRecord,
  SKYSERVE_AUTOSCALER,
} from "./scale.js";
export {
  AcceleratorCandidate,
  DEFAULT_LB_POLICY,
  fixedReplicaPolicy,
  LB_POLICIES,
  LbPolicy,
  ReadinessProbe,
  ReplicaPolicy,
  ResolvedService,
  ResolvedSpec,
  RouteReplicaPolicy,
  routeOf,
  ServiceRoute,
  SKYSERVE_DEFAULTS,
  SPEC_SCHEMA_VERSION,
  SpecRecord,
} from "./spec.js";
export type { BucketName } from "./subjects.js";
export {
  BucketHistory,
  Buckets,
  leaseKey,
  parseReplicaKey,
  replicaKey,
  Streams,
  Subjects,
} from "./subjects.js";
export { MAX_PEM_BYTES, TLS_SCHEMA_VERSION, TlsMaterial, TlsRecord } from "./tls.js";
