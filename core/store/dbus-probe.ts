/**
 * @module
 * A bounded check that the Secret Service answers on the D-Bus session bus, made before the keyring
 * library touches the bus. The library's Linux backend opens its connection synchronously on the main
 * thread and waits without a deadline: on a bus that accepts connections but never answers (a stopped
 * or wedged dbus-daemon) the process hangs, and not even `process.exit()` ends it. This probe speaks
 * just enough of the D-Bus wire protocol (SASL EXTERNAL, `Hello`, `Peer.Ping`) to prove the bus and
 * the `org.freedesktop.secrets` owner respond, each step under one deadline. D-Bus client packages
 * for Node bring a full object model and many modules into the helper's start-up for these three
 * messages, so this stays hand-written and small.
 */
import { connect, type Socket } from 'node:net';
import { withTimeout } from '../io/timeout.js';

export const SECRET_SERVICE_NAME = 'org.freedesktop.secrets';

/** Why the probe failed, for a one-line message: which step, and what the bus said. */
export class BusProbeError extends Error {
  override name = 'BusProbeError';
  constructor(
    readonly reason: 'unsupported-address' | 'connect' | 'auth' | 'timeout' | 'no-secret-service' | 'error',
    message: string,
  ) {
    super(message);
  }
}

/** Resolves once the Secret Service has answered a ping on the bus at `address`. */
export async function probeSecretService(address: string, timeoutMs: number): Promise<void> {
  const target = parseBusAddress(address);
  const socket = connect(target);
  const progress = { busAnswered: false };
  const timeoutError = () => {
    const who = progress.busAnswered ? `the Secret Service (${SECRET_SERVICE_NAME})` : `the D-Bus session bus at ${address}`;
    return new BusProbeError('timeout', `${who} did not answer within ${timeoutMs / 1000}s`);
  };
  try {
    await withTimeout(converse(socket, address, progress), timeoutMs, timeoutError);
  } finally {
    socket.destroy();
  }
}

type SocketTarget = { path: string } | { host: string; port: number };

/** The first address of a `;`-separated D-Bus address list that this probe can reach. */
export function parseBusAddress(address: string): SocketTarget {
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    const transport = entry.slice(0, colon);
    const keys = new Map(
      entry
        .slice(colon + 1)
        .split(',')
        .map((pair) => pair.split('=', 2) as [string, string | undefined])
        .map(([key, value]) => [key, decodeURIComponent(value ?? '')]),
    );
    const path = keys.get('path');
    const abstract = keys.get('abstract');
    if (transport === 'unix' && path) return { path };
    // Linux abstract sockets: Node reaches them with a leading NUL.
    if (transport === 'unix' && abstract) return { path: `\0${abstract}` };
    if (transport === 'tcp' && keys.get('host') && keys.get('port')) {
      return { host: keys.get('host') as string, port: Number(keys.get('port')) };
    }
  }
  throw new BusProbeError('unsupported-address', `cannot use the bus address ${address}`);
}

async function converse(socket: Socket, address: string, progress: { busAnswered: boolean }): Promise<void> {
  const reader = new MessageReader(socket, address);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BusProbeError('connect', `cannot connect to the D-Bus session bus at ${address} (${err.code ?? err.message})`)),
    );
  });
  const uid = process.getuid?.() ?? 0;
  socket.write(`\0AUTH EXTERNAL ${Buffer.from(String(uid)).toString('hex')}\r\n`);
  const answer = await reader.line();
  if (!answer.startsWith('OK ')) {
    throw new BusProbeError('auth', `the D-Bus session bus at ${address} refused authentication (${answer})`);
  }
  socket.write('BEGIN\r\n');
  socket.write(methodCall(1, '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello', 'org.freedesktop.DBus'));
  socket.write(methodCall(2, '/org/freedesktop/secrets', 'org.freedesktop.DBus.Peer', 'Ping', SECRET_SERVICE_NAME));
  for (;;) {
    const message = await reader.message();
    if (message.replySerial === 1) progress.busAnswered = true;
    if (message.replySerial !== 2) continue;
    if (message.type === METHOD_RETURN) return;
    if (message.errorName === 'org.freedesktop.DBus.Error.ServiceUnknown') {
      throw new BusProbeError('no-secret-service', `no Secret Service (${SECRET_SERVICE_NAME}) on the D-Bus session bus`);
    }
    const detail = `${message.errorName ?? 'error'}: ${message.errorText ?? ''}`.trim();
    throw new BusProbeError('error', `the Secret Service (${SECRET_SERVICE_NAME}) answered ${detail}`);
  }
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;

/** A little-endian method call with no arguments. */
function methodCall(serial: number, path: string, iface: string, member: string, destination: string): Buffer {
  const fields: Array<[number, string, string]> = [
    [1, 'o', path],
    [2, 's', iface],
    [3, 's', member],
    [6, 's', destination],
  ];
  const bytes: number[] = [];
  const pad = (n: number) => {
    while (bytes.length % n !== 0) bytes.push(0);
  };
  const u32 = (value: number) => bytes.push(value & 255, (value >>> 8) & 255, (value >>> 16) & 255, value >>> 24);
  bytes.push('l'.charCodeAt(0), METHOD_CALL, 0, 1);
  u32(0); // body length
  u32(serial);
  u32(0); // header-field array length, filled in below
  for (const [code, signature, value] of fields) {
    pad(8);
    bytes.push(code, 1, signature.charCodeAt(0), 0);
    pad(4);
    const text = Buffer.from(value);
    u32(text.length);
    bytes.push(...text, 0);
  }
  const arrayLength = bytes.length - 16;
  pad(8);
  const message = Buffer.from(bytes);
  message.writeUInt32LE(arrayLength, 12);
  return message;
}

interface ReceivedMessage {
  type: number;
  replySerial?: number;
  errorName?: string;
  errorText?: string;
}

/** Reads the SASL line, then whole messages, from the socket's byte stream. */
class MessageReader {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket, address: string) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    const end = (err?: Error) => {
      const why = err ? ` (${err.message})` : '';
      this.failure ??= new BusProbeError('connect', `the D-Bus session bus at ${address} closed the connection${why}`);
      this.wake?.();
    };
    socket.on('end', end).on('error', end);
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buffered.indexOf('\r\n');
      if (end >= 0) {
        const text = this.buffered.subarray(0, end).toString('latin1');
        this.buffered = this.buffered.subarray(end + 2);
        return text;
      }
      await this.more();
    }
  }

  async message(): Promise<ReceivedMessage> {
    for (;;) {
      const size = this.buffered.length >= 16 ? messageSize(this.buffered) : Infinity;
      if (this.buffered.length >= size) {
        const message = parseMessage(this.buffered.subarray(0, size));
        this.buffered = this.buffered.subarray(size);
        return message;
      }
      await this.more();
    }
  }

  private more(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}

function reader32(buf: Buffer): (offset: number) => number {
  return buf[0] === 'B'.charCodeAt(0) ? (o) => buf.readUInt32BE(o) : (o) => buf.readUInt32LE(o);
}

const align = (offset: number, n: number) => Math.ceil(offset / n) * n;

function messageSize(buf: Buffer): number {
  const u32 = reader32(buf);
  return align(16 + u32(12), 8) + u32(4);
}

/** The header fields this probe needs (reply serial, error name) and an error's text. */
function parseMessage(buf: Buffer): ReceivedMessage {
  const u32 = reader32(buf);
  const fieldsEnd = 16 + u32(12);
  const message: ReceivedMessage = { type: buf[1] ?? 0 };
  let bodySignature = '';
  let offset = 16;
  while (offset < fieldsEnd) {
    offset = align(offset, 8);
    const code = buf[offset] ?? 0;
    const signatureLength = buf[offset + 1] ?? 0;
    const signature = buf.toString('latin1', offset + 2, offset + 2 + signatureLength);
    offset += 3 + signatureLength;
    if (signature === 's' || signature === 'o') {
      offset = align(offset, 4);
      const length = u32(offset);
      const text = buf.toString('utf8', offset + 4, offset + 4 + length);
      if (code === 4) message.errorName = text;
      offset += 5 + length;
    } else if (signature === 'g') {
      const length = buf[offset] ?? 0;
      if (code === 8) bodySignature = buf.toString('latin1', offset + 1, offset + 1 + length);
      offset += 2 + length;
    } else if (signature === 'u') {
      offset = align(offset, 4);
      if (code === 5) message.replySerial = u32(offset);
      offset += 4;
    } else {
      break;
    }
  }
  if (bodySignature.startsWith('s')) {
    const body = align(fieldsEnd, 8);
    message.errorText = buf.toString('utf8', body + 4, body + 4 + u32(body));
  }
  return message;
}
