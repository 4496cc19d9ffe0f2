/**
 * A relayed process's output on the serving end: a short process (`start -a` of `echo; exit`)
 * can end before the relay's caller asks for its output. Node drains and drops what an exited
 * child wrote to a stdio pipe no one read, which lost a remote `start -a`'s only line under load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { pipedStream } from '../../../source/runtime/remote/host-engine.js';

it("keeps a process's output that came before anyone listened, once it has exited", async () => {
  const child = spawn('sh', ['-c', 'echo out; echo err >&2; exit 5'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const stream = pipedStream(
    {
      exit: exited.then(([code]) => code as number),
      signal: (name) => child.kill(name),
      pipes: { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr },
    },
    child.pid!,
  );
  // The process has ended and node has had its turn at the pipes nobody read (the next tick).
  await exited;
  await new Promise((resolve) => setImmediate(resolve));
  const seen: string[] = [];
  stream.onOutput((data, fd) => seen.push(`${fd}:${data.toString()}`));
  expect(await stream.exit).toBe(5);
  expect(seen.sort()).toEqual(['1:out\n', '2:err\n']);
});
