// An https endpoint in front of a plain-http JSON-RPC node, for the TLS test of
// tests/onchain.rs: `node tls_proxy.mjs CERT_DIR TARGET_URL` listens on 127.0.0.1 at a free
// port (printed on stdout) with CERT_DIR/server.pem and server.key, and forwards each
// request to TARGET_URL.
import https from "node:https";
import http from "node:http";
import { readFileSync } from "node:fs";

const [dir, target] = process.argv.slice(2);
const server = https.createServer(
  { key: readFileSync(`${dir}/server.key`), cert: readFileSync(`${dir}/server.pem`) },
  (req, res) => {
    const up = http.request(target, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on("error", (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  },
);
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
