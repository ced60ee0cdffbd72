// sdk_client.cjs - drives `llmcore-sandbox mcp` with the official MCP
// TypeScript SDK client (@modelcontextprotocol/sdk), as an MCP host would:
// connect over stdio, list tools, run code, write and read a file, hit a
// timeout, disconnect, then check that the sandbox session is gone.
//
// Usage: node sdk_client.cjs NODE_MODULES_DIR CLI ROOTFS RUNS_DIR [PYTHON_IMAGE]
// With LCS_MCP_ENGINE=unix:///PATH the same conversations run on the Docker
// backend against that engine (the base image for the shell, names
// sdk_docker_*) instead of the native runtime.
// Prints PASS/FAIL/SKIP lines; exits 1 on failure.
'use strict';
const path = require('path');
const { execFileSync } = require('child_process');

const [nodeModules, cli, rootfs, runsDir, pythonImage] = process.argv.slice(2);
const sdk = (p) => require(path.join(nodeModules, '@modelcontextprotocol', 'sdk', 'dist', 'cjs', p));
const { Client } = sdk('client/index.js');
const { StdioClientTransport } = sdk('client/stdio.js');

let failed = 0;
function report(name, err) {
  if (!err) console.log(`PASS ${name}`);
  else if (typeof err === 'string' && err.startsWith('SKIP')) console.log(`SKIP ${name}: ${err.slice(5)}`);
  else { failed++; console.log(`FAIL ${name}: ${String(err && err.stack || err).replace(/\n/g, '\\n').slice(0, 600)}`); }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const text = (r) => r.content.map((c) => c.text).join('');

function sessionIds() {
  try { return JSON.parse(execFileSync(cli, ['ps', '--json'], { encoding: 'utf8' })).map((s) => s.id); }
  catch (e) { return null; }
}

async function conversation(args, name, runCode) {
  // the whole environment (the SDK passes only a few variables by default):
  // the server must use the session state directory that ps reads here
  const transport = new StdioClientTransport({ command: cli, args: ['mcp', ...args, '--runs-dir', runsDir], env: { ...process.env }, stderr: 'pipe' });
  const client = new Client({ name: 'llmcore-sandbox-sdk-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid;
  let sid = null;
  try {
    const info = client.getServerVersion();
    assert(info && info.name === 'llmcore-sandbox', `serverInfo ${JSON.stringify(info)}`);
    assert(client.getServerCapabilities().tools, 'no tools capability');
    const { tools } = await client.listTools();
    assert(tools.length === 15, `${tools.length} tools`);
    assert(tools.find((t) => t.name === 'execute_python').inputSchema.required[0] === 'code', 'schema');
    report(`${name}_list_tools`);

    const run = await runCode(client);
    report(`${name}_run_code`, run);

    const content = 'héllo | "quotes" $HOME\nline 2\n';
    let r = await client.callTool({ name: 'save_file', arguments: { path: 'dir with space/f $1.txt', content, description: 'sdk' } });
    assert(!r.isError && text(r) === 'Successfully saved file: dir with space/f $1.txt', text(r));
    r = await client.callTool({ name: 'load_file', arguments: { path: 'dir with space/f $1.txt' } });
    assert(!r.isError && text(r) === content && r.structuredContent.content === content, text(r));
    report(`${name}_write_and_read_a_file`);

    const t0 = Date.now();
    r = await client.callTool({ name: 'execute_shell', arguments: { command: 'sleep 120', timeout: 1 } });
    assert(r.isError && text(r).startsWith('⏰ EXECUTION TIMED OUT'), text(r));
    assert(r.structuredContent.timed_out === true, JSON.stringify(r.structuredContent));
    assert(Date.now() - t0 < 30000, `timeout took ${Date.now() - t0} ms`);
    r = await client.callTool({ name: 'execute_shell', arguments: { command: 'ps' } });
    assert(!r.isError && !text(r).includes('sleep 120'), text(r));
    report(`${name}_timeout_kills`);

    r = await client.callTool({ name: 'get_sandbox_info', arguments: {} });
    sid = r.structuredContent.sandbox.id;
    const ids = sessionIds();
    assert(ids === null || ids.includes(sid), `session ${sid} not listed: ${ids}`);
    r = await client.callTool({ name: 'execute_shell', arguments: { command: 'sleep 999 >/dev/null 2>&1 &' } });
  } finally {
    await client.close();
  }
  // The server exits and takes the sandbox with it.
  const deadline = Date.now() + 30000;
  const alive = () => { try { process.kill(pid, 0); return true; } catch (e) { return false; } };
  while (alive() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  assert(!alive(), 'the MCP server did not exit after the client disconnected');
  const ids = sessionIds();
  assert(ids === null || !ids.includes(sid), `session ${sid} still listed after disconnect`);
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert(!ps.includes('sleep 999'), 'a sandboxed process survived the disconnect');
  report(`${name}_disconnect_destroys_the_sandbox`);
}

const engine = process.env.LCS_MCP_ENGINE;
const onEngine = engine ? ['--backend', 'docker', '--engine', engine] : [];
const pfx = engine ? 'sdk_docker' : 'sdk';

(async () => {
  try {
    const shellBox = engine ? ['--image', 'llmcore-sandbox-base', ...onEngine] : ['--rootfs', rootfs];
    await conversation([...shellBox, '--mode', 'restricted'], `${pfx}_${engine ? 'base' : 'busybox'}`, async (client) => {
      // busybox has no python: run code through the shell there.
      const r = await client.callTool({ name: 'execute_shell', arguments: { command: 'echo $((6*7))' } });
      if (r.isError && text(r).includes('No active sandbox')) throw `SKIP no sandbox session on this host: ${text(r).slice(0, 200)}`;
      assert(!r.isError && text(r) === '42\n', text(r));
      const p = await client.callTool({ name: 'execute_python', arguments: { code: 'print(1)' } });
      assert(p.isError && text(p).includes('python3'), text(p));
      if (engine) {
        const i = await client.callTool({ name: 'get_sandbox_info', arguments: {} });
        assert(!i.isError && i.structuredContent.provider === 'docker', text(i));
      }
      return null;
    });
  } catch (e) { report(`${pfx}_${engine ? 'base' : 'busybox'}`, e); }
  if (pythonImage) {
    try {
      await conversation(['--image', pythonImage, ...onEngine], `${pfx}_python`, async (client) => {
        const r = await client.callTool({ name: 'execute_python', arguments: { code: 'import sys\nprint(6*7, sys.version_info[0])' } });
        assert(!r.isError && text(r) === '42 3\n', text(r));
        return null;
      });
    } catch (e) { report(`${pfx}_python`, e); }
  } else {
    console.log(`SKIP ${pfx}_python_run_code: the python image is not built here (execute_python ran on ${engine ? 'base' : 'busybox'} only)`);
  }
  process.exit(failed ? 1 : 0);
})();
