import { z } from "zod";

/** The docker backend's env vars (YARD_BACKEND=docker); README's table documents them. */
export const DockerEnv = {
  /** The image of a spec without `image_id: docker:<image>`; unset: such a spec fails to launch, saying so. */
  YARD_DOCKER_IMAGE: z.string().min(1).optional(),
  /**
   * The container network: `host` (default: the replica binds YARD_REPLICA_PORT on this host,
   * its URL names YARD_HOST_ADDRESS) or a Docker network name (the replica listens on the
   * spec's port at its own address on that network, which its URL names).
   */
  YARD_DOCKER_NETWORK: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "must be host or a Docker network name")
    .default("host"),
  /**
   * The device driver of GPU requests: `nvidia` (default; the engine needs the NVIDIA container
   * runtime), or `none`: no device request (a declared YARD_GPUS stand-in inventory).
   */
  YARD_DOCKER_GPU_DRIVER: z.enum(["nvidia", "none"]).default("nvidia"),
};
