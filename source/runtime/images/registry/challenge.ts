/**
 * WWW-Authenticate challenges (RFC 7235) as registries send them:
 *   Basic realm="Registry Realm"
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 * A header may carry several challenges; each starts with a scheme token followed by
 * comma-separated auth-params.
 */

export interface AuthChallenge {
  /** Lowercased scheme: "basic", "bearer", ... */
  scheme: string;
  /** Parameter names lowercased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseChallenges(header: string | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  let rest = header.trim();
  let current: AuthChallenge | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const token = TOKEN.exec(rest);
    if (!token) break;
    const name = token[0];
    const afterName = rest.slice(name.length).replace(/^\s*/, '');
    if (afterName.startsWith('=') && current) {
      // auth-param: name=value, the value a token or a quoted string
      let value = '';
      let tail = afterName.slice(1).replace(/^\s*/, '');
      if (tail.startsWith('"')) {
        let index = 1;
        for (; index < tail.length && tail[index] !== '"'; index += 1) {
          if (tail[index] === '\\' && index + 1 < tail.length) index += 1;
          value += tail[index];
        }
        tail = tail.slice(index + 1);
      } else {
        const bare = /^[^,\s]*/.exec(tail)?.[0] ?? '';
        value = bare;
        tail = tail.slice(bare.length);
      }
      current.params[name.toLowerCase()] = value;
      rest = tail;
      continue;
    }
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
    rest = afterName;
  }
  return challenges;
}
