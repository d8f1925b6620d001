import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { send } from './http.js';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/**
 * Everything the pages load, from the package itself: our files in ./assets (browser scripts are named
 * `*.js.asset` so tsc leaves them alone and the build copies them) and uPlot from node_modules, so the
 * dashboard works offline and behind a strict CSP. Only names found at startup are served: no path from
 * a URL ever reaches the file system.
 */
export class StaticAssets {
  private assets: Map<string, Asset> | undefined;

  serve(name: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = this.load().get(name);
    if (!asset) return false;
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { etag: asset.etag }).end();
      return true;
    }
    send(res, 200, asset.type, req.method === 'HEAD' ? '' : asset.body, { etag: asset.etag, 'cache-control': 'no-cache' });
    return true;
  }

  private load(): Map<string, Asset> {
    if (this.assets) return this.assets;
    const assets = new Map<string, Asset>();
    const add = (name: string, path: string): void => {
      const body = readFileSync(path);
      const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
      assets.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
    };
    const dir = fileURLToPath(new URL('./assets/', import.meta.url));
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.js.asset')) add(file.slice(0, -'.asset'.length), dir + file);
      else if (file.endsWith('.css')) add(file, dir + file);
    }
    const require = createRequire(import.meta.url);
    add('uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'));
    add('uplot.css', require.resolve('uplot/dist/uPlot.min.css'));
    this.assets = assets;
    return assets;
  }
}
