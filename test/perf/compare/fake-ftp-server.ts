/**
 * A scripted FTP server on 127.0.0.1 port 0 for the bench's FTP client: just enough of
 * RFC 959 (USER, PASS, TYPE, EPSV, PASV, RETR, STOR, QUIT), replies written in small split
 * pieces and a multi-line greeting, so the client's parser and transfer sequencing are
 * exercised. RETR of `/p-SEED-SIZE` sends that pattern file; anything else is 550. STOR
 * checks what arrives against `/p-SEED-SIZE` and says 226 only if it matches.
 */
import { once } from "node:events";
import net from "node:net";
import { PatternCheck, patternChunks } from "../../../perf/compare/pattern.js";
import { sendChunks } from "../../../perf/compare/data-socket.js";

/** How the fake misbehaves. */
export interface FakeFtpOptions {
  /** Refuse EPSV with 502, so the client must fall back to PASV. */
  readonly noEpsv?: boolean;
  /** Never answer this command (the client's reply deadline must fire). */
  readonly silentOn?: string;
  /** Close the control connection when this command arrives. */
  readonly hangUpOn?: string;
}

export interface FakeFtpServer {
  readonly port: number;
  /** Every command line received, in order. */
  readonly commands: string[];
  close(): Promise<void>;
}

const write = async (socket: net.Socket, text: string): Promise<void> => {
  // Three bytes at a time: replies arrive split at arbitrary points.
  for (let i = 0; i < text.length; i += 3) {
    if (socket.destroyed) return;
    socket.write(text.slice(i, i + 3));
    await new Promise((resolve) => setImmediate(resolve));
  }
};

function parseName(name: string): { seed: number; size: number } | undefined {
  const m = /^\/p-(\d+)-(\d+)$/.exec(name);
  return m ? { seed: Number(m[1]), size: Number(m[2]) } : undefined;
}

export async function startFakeFtp(options: FakeFtpOptions = {}): Promise<FakeFtpServer> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((control) => {
    sockets.add(control);
    control.on("close", () => sockets.delete(control));
    control.on("error", () => {});
    // The client connects right after EPSV, before RETR/STOR: take the connection as it comes.
    let data: Promise<net.Socket> | undefined;
    let buffered = "";
    let queue = write(control, "220-fake FTP\r\n second line of the greeting\r\n220 ready\r\n");
    const nextData = async (): Promise<net.Socket> => {
      const pending = data;
      if (pending === undefined) throw new Error("no passive port");
      data = undefined;
      return pending;
    };
    const openPassive = async (): Promise<number> => {
      const listener = net.createServer();
      listener.listen(0, "127.0.0.1");
      await once(listener, "listening");
      data = once(listener, "connection").then(([socket]) => {
        listener.close();
        (socket as net.Socket).on("error", () => {});
        return socket as net.Socket;
      });
      data.catch(() => {});
      return (listener.address() as net.AddressInfo).port;
    };
    const handle = async (line: string): Promise<void> => {
      commands.push(line);
      const [verb = "", arg = ""] = line.split(/ (.*)/s);
      if (verb === options.hangUpOn) {
        control.destroy();
        return;
      }
      if (verb === options.silentOn) return;
      switch (verb) {
        case "USER":
          return write(control, "331 send a password\r\n");
        case "PASS":
          return write(control, "230-welcome\r\n230 logged in\r\n");
        case "TYPE":
          return write(control, "200 binary\r\n");
        case "EPSV":
          if (options.noEpsv) return write(control, "502 not here\r\n");
          return write(
            control,
            `229 Entering Extended Passive Mode (|||${await openPassive()}|)\r\n`,
          );
        case "PASV": {
          const port = await openPassive();
          return write(
            control,
            `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})\r\n`,
          );
        }
        case "RETR": {
          const file = parseName(arg);
          if (file === undefined) {
            (await nextData()).destroy();
            return write(control, "550 no such file\r\n");
          }
          const socket = await nextData();
          await write(control, "150 here it comes\r\n");
          await sendChunks(socket, patternChunks(file.seed, file.size, 65_521));
          await once(socket, "close");
          return write(control, "226 done\r\n");
        }
        case "STOR": {
          const file = parseName(arg) ?? { seed: 0, size: 0 };
          const socket = await nextData();
          const check = new PatternCheck(file.seed, file.size);
          socket.on("data", (chunk: Buffer) => {
            check.update(chunk);
          });
          await write(control, "150 send it\r\n");
          await once(socket, "end");
          socket.end();
          let matches = true;
          try {
            check.verify(arg);
          } catch {
            matches = false;
          }
          return write(control, matches ? "226 stored\r\n" : "451 bytes differ\r\n");
        }
        case "QUIT":
          await write(control, "221 bye\r\n");
          control.end();
          return;
        default:
          return write(control, "502 not implemented\r\n");
      }
    };
    control.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      let lf: number;
      while ((lf = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, lf).replace(/\r$/, "");
        buffered = buffered.slice(lf + 1);
        queue = queue
          .then(() => handle(line))
          .catch(() => {
            control.destroy();
          });
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
