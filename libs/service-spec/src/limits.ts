// @pure: no I/O (tools/lint-boundaries checks it)

/**
 * What one spec may ask for. Every limit fails with a coded error naming its cause, before the
 * work it bounds is done (the YAML ones before the document is built).
 */
export interface SpecLimits {
  /** `replicas`, `min_replicas`, `max_replicas`: the spec service's YARD_MAX_REPLICAS_PER_SERVICE. */
  maxReplicasPerService: number;
  /** Size of the YAML text in UTF-8 bytes. A service YAML is a page or two; 256 KiB is far above. */
  maxYamlBytes: number;
  /**
   * Nesting of mappings and sequences. The deepest real field is ~6 levels down; the YAML
   * composer recurses per level and overflows the stack near 800.
   */
  maxYamlDepth: number;
  /**
   * Alias expansions while the document is built (the `yaml` package's maxAliasCount): an
   * alias bomb ("billion laughs") expands to exponentially many nodes from a few lines.
   */
  maxYamlAliases: number;
}

export const DEFAULT_SPEC_LIMITS: Readonly<SpecLimits> = Object.freeze({
  maxReplicasPerService: 64,
  maxYamlBytes: 256 * 1024,
  maxYamlDepth: 64,
  maxYamlAliases: 100,
});

export function specLimits(given: Partial<SpecLimits> | undefined): SpecLimits {
  return { ...DEFAULT_SPEC_LIMITS, ...given };
}
