/**
 * `autobatch [serve]`: parses and checks the options, starts the proxy, stops it on a signal.
 * Every option can also come from AUTOBATCH_<NAME> (a flag wins over the environment).
 */
import { Command, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import { createLogger, defaultLogFormat, type LogFormat } from '../logger.js';
import { DEFAULTS, SettingsError, type ProxySettings } from '../options.js';
import { startProxy, type RunningProxy } from '../proxy.js';
import type { CustomRouteSpec } from '../routes/custom.js';
import {
  bucketFactor,
  collectHeaderNames,
  collectRoutes,
  collectUpstreams,
  dnsServer,
  milliseconds,
  port,
  positiveInteger,
  positiveIntegerOrAdaptive,
} from './parsers.js';

/** What commander hands the action: the proxy's settings under their option names. */
type ServeFlags = Omit<ProxySettings, 'maxBatchSize' | 'routes' | 'upstream' | 'bucketByLength' | 'forwardHeader' | 'upstreamCa' | 'maxInflight'> & {
  forwardHeader?: string[];
  upstreamCa?: string;
  /** Deprecated alias of queueTimeoutMs. */
  timeoutMs?: number;
  upstream?: string[];
  maxBatchSize?: number;
  maxInflight: number | 'adaptive';
  bucketByLength: number | 'off' | 'adaptive';
  route?: CustomRouteSpec[];
  logLevel: LevelWithSilent;
  logFormat?: LogFormat;
};

const env = (name: string): string => `AUTOBATCH_${name}`;

/** Adds the serve options to a command (the root command and `serve` share them). */
export function addServeOptions(command: Command): Command {
  return (
    command
      .addOption(
        new Option('--upstream <url>', 'base URL of the inference server (TEI); repeat it (or separate with commas) for replicas of one model')
          .env(env('UPSTREAM'))
          .argParser(collectUpstreams),
      )
      .addOption(
        new Option(
          '--dns-refresh-ms <ms>',
          "resolve each upstream's host name to all its addresses (A and AAAA), each one replica, again this often and after a replica fails (e.g. a Kubernetes headless Service); default off: the URLs as given",
        )
          .env(env('DNS_REFRESH_MS'))
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--dns-server <host:port>', "the DNS server --dns-refresh-ms asks (default: the system's resolver, with its search domains)")
          .env(env('DNS_SERVER'))
          .argParser(dnsServer),
      )
      .addOption(new Option('--host <host>', 'address to listen on').env(env('HOST')).default(DEFAULTS.host))
      .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').env(env('PORT')).default(DEFAULTS.port).argParser(port))
      .addOption(
        new Option(
          '--max-wait-ms <ms>',
          'longest a request is held back for batch-mates, from its arrival (or from when a slot freed, if the upstream was busy); 0: never hold',
        )
          .env(env('MAX_WAIT_MS'))
          .default(DEFAULTS.maxWaitMs)
          .argParser(milliseconds),
      )
      .addOption(
        new Option(
          '--max-batch-size <n>',
          "most inputs in one upstream call (default: the upstream's max_client_batch_size from /info, 32 if it cannot be read)",
        )
          .env(env('MAX_BATCH_SIZE'))
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--max-batch-bytes <bytes>', 'most bytes in one upstream call body (TEI refuses over 2,000,000)')
          .env(env('MAX_BATCH_BYTES'))
          .default(DEFAULTS.maxBatchBytes)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option(
          '--max-inflight <n>',
          'most upstream calls in flight at once per upstream (the last one only for a full batch staged behind the others); adaptive: learned from throughput, from 2 up to 16 (docs/dispatch.md)',
        )
          .env(env('MAX_INFLIGHT'))
          .default('adaptive')
          .argParser(positiveIntegerOrAdaptive),
      )
      .addOption(
        new Option(
          '--bucket-by-length <factor>',
          'batch together only requests whose longest inputs are within this factor in length (e.g. 2), for upstreams that pad every input of a batch to the longest (CPU ONNX/TF/PyTorch servers); off: never; adaptive: only when the upstream is measured to pad, with the cheapest factor (docs/dispatch.md)',
        )
          .env(env('BUCKET_BY_LENGTH'))
          .default('adaptive')
          .argParser(bucketFactor),
      )
      .addOption(
        new Option('--max-queue <inputs>', 'most inputs waiting in the proxy; beyond it requests get 429')
          .env(env('MAX_QUEUE'))
          .default(DEFAULTS.maxQueue)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--max-body-bytes <bytes>', 'largest client request body accepted on batched routes')
          .env(env('MAX_BODY_BYTES'))
          .default(DEFAULTS.maxBodyBytes)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option(
          '--max-memory-bytes <bytes>',
          'most bytes held for clients at once (bodies being read, queued and sent, answers being written); beyond it requests get 429',
        )
          .env(env('MAX_MEMORY_BYTES'))
          .default(DEFAULTS.maxMemoryBytes)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--upstream-timeout-ms <ms>', 'longest an upstream call may take before clients get 504')
          .env(env('UPSTREAM_TIMEOUT_MS'))
          .default(DEFAULTS.upstreamTimeoutMs)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--client-timeout-ms <ms>', 'longest a client may take to send its request (headers and body); then 408')
          .env(env('CLIENT_TIMEOUT_MS'))
          .default(DEFAULTS.clientTimeoutMs)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option('--queue-timeout-ms <ms>', 'longest a request may wait in the proxy unsent; then it is dropped and answered 504')
          .env(env('QUEUE_TIMEOUT_MS'))
          .default(DEFAULTS.queueTimeoutMs)
          .argParser(positiveInteger),
      )
      // The option's old name, kept working: its value is taken when --queue-timeout-ms is not given.
      .addOption(
        new Option('--timeout-ms <ms>', 'deprecated: the old name of --queue-timeout-ms')
          .env(env('TIMEOUT_MS'))
          .argParser(positiveInteger)
          .hideHelp(),
      )
      .addOption(
        new Option('--shutdown-timeout-ms <ms>', 'on SIGTERM/SIGINT, longest to wait for queued and in-flight requests')
          .env(env('SHUTDOWN_TIMEOUT_MS'))
          .default(DEFAULTS.shutdownTimeoutMs)
          .argParser(positiveInteger),
      )
      .addOption(
        new Option(
          '--route <rule>',
          'also batch this route, as PATH[:FIELD[:ANSWER]] (FIELD holds the input list, default "inputs"; the answer is a JSON list aligned with it, or an object holding that list in its field ANSWER); repeatable',
        )
          .env(env('ROUTE'))
          .argParser(collectRoutes),
      )
      .addOption(
        new Option(
          '--forward-header <name>',
          'also send this request header on calls, and batch together only requests with equal values of it (Authorization, OpenAI-Organization, OpenAI-Project and api-key always are); repeatable',
        )
          .env(env('FORWARD_HEADER'))
          .argParser(collectHeaderNames),
      )
      .addOption(
        new Option(
          '--upstream-ca <file>',
          'PEM file of certificate authorities to trust for https upstreams, besides the system ones (NODE_EXTRA_CA_CERTS works too)',
        ).env(env('UPSTREAM_CA')),
      )
      .addOption(
        new Option('--log-level <level>', 'log level')
          .env(env('LOG_LEVEL'))
          .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
      )
      .addOption(
        new Option('--log-format <format>', 'log format (default: pretty on a terminal, json otherwise)')
          .env(env('LOG_FORMAT'))
          .choices(['json', 'pretty']),
      )
  );
}

export async function runServe(flags: ServeFlags, command: Command): Promise<void> {
  if (flags.upstream === undefined) {
    command.error("error: required option '--upstream <url>' not specified (or set AUTOBATCH_UPSTREAM)", {
      exitCode: 2,
      code: 'autobatch.missingUpstream',
    });
  }
  const logger = createLogger(flags.logLevel, flags.logFormat ?? defaultLogFormat());
  // Signal handlers go in before the proxy starts: the "listening" line is printed from inside
  // startProxy, and a SIGTERM sent right after it must drain, not kill, the process.
  let running: RunningProxy | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) return;
    stopSignal = signal;
    if (running !== undefined) drain(running, signal);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  try {
    const { route, upstream, logLevel: _logLevel, logFormat: _logFormat, timeoutMs, maxInflight, bucketByLength, maxWaitMs, ...settings } = flags;
    if (timeoutMs !== undefined) {
      logger.warn('--timeout-ms (AUTOBATCH_TIMEOUT_MS) is deprecated: use --queue-timeout-ms (AUTOBATCH_QUEUE_TIMEOUT_MS)');
      if (command.getOptionValueSource('queueTimeoutMs') === 'default') settings.queueTimeoutMs = timeoutMs;
    }
    running = await startProxy({
      ...settings,
      // "adaptive" (the default) leaves the value to the dispatch policy; a value given pins it.
      maxInflight: maxInflight === 'adaptive' ? undefined : maxInflight,
      bucketByLength: bucketByLength === 'adaptive' ? undefined : bucketByLength,
      maxWaitMs: command.getOptionValueSource('maxWaitMs') === 'default' ? undefined : maxWaitMs,
      upstream: upstream ?? [],
      routes: route ?? [],
      forwardHeader: settings.forwardHeader ?? [],
      logger,
    });
  } catch (error) {
    if (error instanceof SettingsError) {
      command.error(`error: ${error.message}`, { exitCode: 2, code: 'autobatch.settings' });
    }
    throw error;
  }
  if (stopSignal !== undefined) drain(running, stopSignal);

  function drain(proxy: RunningProxy, signal: NodeJS.Signals): void {
    logger.info({ signal }, 'stopping: sending what is queued, waiting for calls in flight');
    const deadline = setTimeout(() => {
      logger.warn({ shutdownTimeoutMs: flags.shutdownTimeoutMs }, 'stopped before every request was answered');
      process.exit(1);
    }, flags.shutdownTimeoutMs);
    deadline.unref();
    proxy.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  }
}

export function createServeCommand(): Command {
  const command = new Command('serve').description('run the batching proxy (the default command)');
  addServeOptions(command).action((flags: ServeFlags, cmd: Command) => runServe(flags, cmd));
  return command;
}
