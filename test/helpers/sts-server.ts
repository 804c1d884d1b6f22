/**
 * A real HTTP server on 127.0.0.1 that answers STS GetCallerIdentity (awsQuery XML) with a chosen `Date` header, so
 * a test can run the real SDK client, its middleware and the CLI's clock check against "AWS's" clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StsTestServer {
  readonly url: string;
  /** The Date header the next responses carry (undefined: no Date header at all). */
  date: Date | undefined;
  readonly requests: string[];
  close(): Promise<void>;
}

const body = (account: string) =>
  `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
  `<Arn>arn:aws:iam::${account}:user/test</Arn><UserId>AIDATEST</UserId><Account>${account}</Account>` +
  `</GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;

export async function startStsServer(date: Date | undefined, account = '123456789012'): Promise<StsTestServer> {
  const requests: string[] = [];
  const state: StsTestServer = {
    url: '',
    date,
    requests,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(Buffer.concat(chunks).toString('utf8'));
      // Node adds the real time as Date unless told otherwise: send the scripted one, or none.
      res.sendDate = false;
      res.writeHead(200, {
        'content-type': 'text/xml',
        ...(state.date ? { date: state.date.toUTCString() } : {}),
      });
      res.end(body(account));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
