import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { PrerequisiteError } from '../../errors.js';
import {
  describeEndpoint,
  dockerEndpoint,
  findDockerEngine,
  noEngineError,
  pingDocker,
  prepareDockerEngine,
} from './docker-engine.js';

describe('docker engine', () => {
  after(removeScratch);

  it('reads DOCKER_HOST, defaulting to /var/run/docker.sock', () => {
    assert.deepEqual(dockerEndpoint({}), { kind: 'unix', path: '/var/run/docker.sock' });
    assert.deepEqual(dockerEndpoint({ DOCKER_HOST: 'unix:///tmp/d.sock' }), { kind: 'unix', path: '/tmp/d.sock' });
    assert.deepEqual(dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }), {
      kind: 'tcp',
      host: '127.0.0.1',
      port: 2375,
    });
    assert.equal(dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' }).kind, 'other');
    assert.equal(dockerEndpoint({ DOCKER_HOST: 'ssh://u@h' }).kind, 'other');
    assert.equal(describeEndpoint(dockerEndpoint({})), 'unix:///var/run/docker.sock');
  });

  it('says plainly that no engine is reachable, and how to get one', () => {
    const e = noEngineError({ kind: 'unix', path: '/var/run/docker.sock' }, 'does not exist');
    assert.ok(e instanceof PrerequisiteError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /no container engine is reachable: unix:\/\/\/var\/run\/docker\.sock does not exist/);
    assert.match(e.hint!, /apt-get install docker\.io/);
    assert.match(e.hint!, /dockerd/);
    assert.match(e.hint!, /--start-docker/);
  });

  it('fails with that error for a socket that does not exist', async () => {
    const sock = join(scratchDir('nodocker'), 'docker.sock');
    await assert.rejects(
      findDockerEngine({ DOCKER_HOST: `unix://${sock}` }),
      (e: Error) => e instanceof PrerequisiteError && /no container engine is reachable/.test(e.message),
    );
  });

  it('pings an engine over its socket (/_ping, API-Version header), and rejects an error answer', async () => {
    const sock = join(scratchDir('fakedocker'), 'docker.sock');
    let status = 200;
    const server: Server = createServer((req, res) => {
      assert.equal(req.url, '/_ping');
      res.writeHead(status, { 'Api-Version': '1.41' });
      res.end(status === 200 ? 'OK' : 'broken');
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      assert.equal(await pingDocker({ kind: 'unix', path: sock }), '1.41');
      assert.equal((await findDockerEngine({ DOCKER_HOST: `unix://${sock}` })).apiVersion, '1.41');
      status = 500;
      await assert.rejects(findDockerEngine({ DOCKER_HOST: `unix://${sock}` }), /did not answer: answered 500: broken/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('starts nothing unless told: without --start-docker a missing engine is an error, nothing is said', async () => {
    const sock = join(scratchDir('nodocker'), 'docker.sock');
    const said: string[] = [];
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${sock}`;
    try {
      await assert.rejects(
        prepareDockerEngine({
          start: false,
          logFile: join(scratchDir('log'), 'dockerd.log'),
          say: (m) => said.push(m),
        }),
        PrerequisiteError,
      );
      // --start-docker only ever starts the default local engine; another DOCKER_HOST is refused, not overridden.
      await assert.rejects(
        prepareDockerEngine({ start: true, logFile: join(scratchDir('log'), 'dockerd.log'), say: (m) => said.push(m) }),
        /DOCKER_HOST names/,
      );
      assert.deepEqual(said, []);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
