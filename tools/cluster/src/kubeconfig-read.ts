// @pure: the server, CA and token of a kubeconfig this tool wrote (kubeconfig() in config-files.ts)

export interface Access {
  server: string;
  caPem: string;
  token: string;
}

/** Null when the text is not one of ours (this is no general kubeconfig parser). */
export function readAccess(text: string): Access | null {
  const server = /^\s+server: (https:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(text)?.[1];
  const ca = /^\s+certificate-authority-data: ([A-Za-z0-9+/=]+)\s*$/m.exec(text)?.[1];
  const token = /^\s+token: ([0-9a-f]{32,})\s*$/m.exec(text)?.[1];
  if (!server || !ca || !token) return null;
  return { server, caPem: Buffer.from(ca, "base64").toString(), token };
}
