import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One accepted connection and what the proxy did with it. */
interface ProxiedConnection {
  client: Socket;
  upstream?: Socket;
  /** Bytes were swallowed on it (or it was accepted while blackholed): it never forwards again. */
  lost: boolean;
  closed: boolean;
  /** Cut by {@link TcpProxy.cutAfter}: its upstream ends by itself once the last bytes are sent. */
  cut?: boolean;
}

/**
 * A TCP proxy in front of a real server, for fault tests: `blackhole()` keeps
 * every accepted connection open but stops forwarding in both directions, and
 * accepts new connections without ever forwarding them — a server that hangs,
 * or a network that drops packets without a reset.
 *
 * A connection on which bytes were swallowed stays silent after `resume()`,
 * like a connection whose state a firewall or NAT lost: its protocol stream
 * is broken, so the client must drop it. Connections that were idle during
 * the blackhole forward again, as do new ones.
 */
export class TcpProxy {
  private readonly connections = new Set<ProxiedConnection>();
  private readonly server: Server;
  private blackholed = false;
  /** See {@link TcpProxy.cutAfter}. */
  private cutMarker?: Buffer;
  /** The port the proxy listens on (127.0.0.1). */
  port = 0;
  /** Connections accepted since start. */
  accepted = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client, target));
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.server.address();
    if (typeof address !== 'object' || !address) throw new Error('the proxy has no address');
    proxy.port = address.port;
    return proxy;
  }

  /**
   * A proxy in front of the server of `url` (a `postgres://` URL, say), and
   * the same URL pointing at the proxy instead.
   */
  static async inFrontOf(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const real = new URL(url);
    const proxy = await TcpProxy.start({ host: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    return { proxy, url: viaProxy.toString() };
  }

  /** Stops forwarding (see the class comment). */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Forwards again on new connections and on those that lost nothing. */
  resume(): void {
    this.blackholed = false;
  }

  /**
   * The next client bytes containing `marker` (on any connection) are
   * forwarded, then that connection is cut on the client's side only: the
   * server gets the request and its answer is lost, as when a network fails
   * between a COMMIT and its reply. The client sees the connection end.
   */
  cutAfter(marker: string): void {
    this.cutMarker = Buffer.from(marker);
  }

  /** Connections that lost bytes in the blackhole and that the client has not closed yet. */
  get lostOpen(): number {
    return [...this.connections].filter((c) => c.lost && !c.closed).length;
  }

  /** Connections that lost bytes in the blackhole, open or closed. */
  get lostTotal(): number {
    return [...this.connections].filter((c) => c.lost).length;
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const connection of this.connections) this.close(connection);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.accepted++;
    const connection: ProxiedConnection = { client, lost: this.blackholed, closed: false };
    this.connections.add(connection);
    client.on('error', () => this.close(connection));
    client.on('close', () => this.close(connection));
    client.on('end', () => this.close(connection));
    if (!connection.lost) {
      const upstream = createConnection(target);
      connection.upstream = upstream;
      upstream.on('error', () => this.close(connection));
      upstream.on('close', () => this.close(connection));
      upstream.on('data', (data) => this.forward(connection, data, client));
    }
    client.on('data', (data) => this.forward(connection, data, connection.upstream));
  }

  private forward(connection: ProxiedConnection, data: Buffer, to: Socket | undefined): void {
    if (connection.cut) return; // the server's answer to the cut request goes nowhere
    if (this.cutMarker && to && to === connection.upstream && data.includes(this.cutMarker)) {
      this.cutMarker = undefined;
      connection.cut = true;
      // end, not destroy: the request must reach the server whole before the upstream closes.
      to.end(data);
      this.close(connection);
      return;
    }
    if (this.blackholed || connection.lost || !to) {
      connection.lost = true;
      return;
    }
    to.write(data);
  }

  private close(connection: ProxiedConnection): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.client.destroy();
    if (!connection.cut) connection.upstream?.destroy();
  }
}
