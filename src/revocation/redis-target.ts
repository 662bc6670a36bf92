/** Where the shared cache lives, as configured; read without loading the Redis client. */
export type RedisTarget =
  | { kind: 'node'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; password?: string };

/** Parses `host:port,host:port`. */
export function parseHostList(text: string): Array<{ host: string; port: number }> {
  return text.split(',').map((item) => {
    const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(item);
    if (!match) throw new Error(`not host:port: "${item}"`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}
